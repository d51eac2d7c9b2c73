"""The calibration layer: parameter files, ABC-SMC, simulation through the experiments planner, reports."""
