"""The validation layer: the observed targets, the model's value of each, scores against naive baselines."""
