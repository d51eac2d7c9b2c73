"""Browser dashboard (`python -m diaspora_sim dashboard`): Mesa SolaraViz page, levers, replications, exports."""
