"""calibration layer."""
