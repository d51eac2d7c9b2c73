"""The analysis layer: statistics of replicated runs, comparisons of scenarios, sensitivity, reports."""
