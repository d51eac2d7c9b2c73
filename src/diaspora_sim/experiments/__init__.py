"""The experiments layer: experiment files, their plan of runs, executors, sweeps and the results folder."""
