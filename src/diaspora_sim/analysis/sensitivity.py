"""Sensitivity indices of a Sobol or Morris experiment (SALib), from the mean over replications at each point."""

from __future__ import annotations

import pandas as pd
from SALib.analyze import morris, sobol

from ..experiments.designs import design_points, design_seed, salib_problem
from ..experiments.results import Results
from ..experiments.spec import Experiment


def sensitivity(results: Results, metric: str = "return_rate") -> pd.DataFrame | None:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of an end-of-run metric, per scenario, from
    the mean over replications at each design point. None for grid and LHS designs; scenarios
    with incomplete points are left out.
    """
    exp = Experiment.model_validate(results.manifest["experiment"])
    method = exp.design.method
    if method not in ("sobol", "morris"):
        return None
    _, matrix = design_points(exp)
    problem = salib_problem(exp.parameters)
    summ = results.summary(columns=["scenario", "point", metric])
    seed = design_seed(exp)
    rows = []
    for scen in results.scenarios:
        means = summ[summ["scenario"] == scen].groupby("point")[metric].mean()
        if len(means) < len(matrix) or means.isna().any():
            continue
        y = means.sort_index().to_numpy()
        if method == "sobol":
            res = sobol.analyze(problem, y, calc_second_order=exp.design.second_order, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"scenario": scen, "parameter": name, "S1": res["S1"][i], "S1_conf": res["S1_conf"][i],
                             "ST": res["ST"][i], "ST_conf": res["ST_conf"][i]})
        else:
            res = morris.analyze(problem, matrix, y, num_levels=exp.design.levels, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"scenario": scen, "parameter": name, "mu_star": res["mu_star"][i],
                             "mu_star_conf": res["mu_star_conf"][i], "sigma": res["sigma"][i]})
    return pd.DataFrame(rows)


__all__ = ["sensitivity"]
