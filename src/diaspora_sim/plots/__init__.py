"""Figures (a leaf): functions that take tables and write PNG files; they know nothing above the scenario."""
