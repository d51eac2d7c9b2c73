"""The outputs layer: what a run produces (the tidy time series, the summary) and the run folder."""
