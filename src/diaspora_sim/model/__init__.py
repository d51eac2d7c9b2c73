"""The model layer: the Mesa model, its agents, their state in NumPy columns and the monthly rules."""
