"""Validation: discrepancies and ARD by hand, target values from many runs, the naive baselines by
hand, and the validate command end to end on a small scale.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from diaspora_sim.cli import main
from diaspora_sim.core.errors import InputError
from diaspora_sim.scenario.schema import month_number
from diaspora_sim.validation import baselines, fit, scores, targets
from diaspora_sim.validation.plan import plan_validation
from diaspora_sim.validation.values import target_values


def obs(**kw) -> targets.Observed:
    return targets.Observed(as_published="test", **kw)


# --------------------------------------------------------------------------------------------
# Discrepancy and ARD
# --------------------------------------------------------------------------------------------


def test_discrepancy_by_hand() -> None:
    d = scores.discrepancy
    assert d(obs(value=100), 150) == pytest.approx(0.5)
    assert d(obs(value=100), 40) == pytest.approx(0.6)
    assert d(obs(low=10, high=20), 15) == 0.0
    assert d(obs(low=10, high=20), 25) == pytest.approx(0.25)  # |25 - 20| / 20
    assert d(obs(low=10, high=20), 5) == pytest.approx(0.5)  # |5 - 10| / 10
    assert d(obs(high=300), 330) == pytest.approx(0.1)
    assert d(obs(low=0.45, low_exclusive=True), 0.45) == 0.0  # on an exclusive bound: distance 0, but ...
    assert scores.verdict(_target(obs(low=0.45, low_exclusive=True)), 0.45)[1] is True  # ... still a miss
    assert d(obs(low=0, low_exclusive=True), 0) == 1.0  # a qualitative ">0" that fails counts 1
    assert d(obs(low=0, low_exclusive=True), 3) == 0.0
    assert d(obs(value=200, low=100, high=300), 250) == 0.0  # a range takes precedence over the point
    assert math.isnan(d(obs(value=100), math.nan))
    assert d(obs(value=100), 200, "log_ratio") == pytest.approx(math.log(2))
    assert d(obs(value=100), 50, "log_ratio") == pytest.approx(math.log(2))
    assert d(obs(value=100), 0, "log_ratio") == pytest.approx(math.log(100))  # floored at 1 % of the observation
    assert d(obs(low=10, high=20), 40, "log_ratio") == pytest.approx(math.log(2))
    assert scores.signed_difference(obs(value=100), 40) == pytest.approx(-0.6)
    assert scores.signed_difference(obs(low=10, high=20), 25) == pytest.approx(0.25)


def _target(o: targets.Observed, tid: str = "t", unit: str = "persons", holdout: bool = False, host: str = "A",
            metric: str = "stock", date: str = "2022-04") -> targets.Target:
    return targets.Target(
        id=tid, description="d", observed=o, unit=unit, source="s", holdout=holdout,
        reliability={"level": "low", "reason": "r"},
        mapping={"metric": metric, "host": host, "aggregation": "value_at", "date": date},
    )


def test_ard_is_the_mean_discrepancy() -> None:
    ts = [_target(obs(value=100), "a"), _target(obs(low=10, high=20), "b"), _target(obs(high=300), "c")]
    values = {"a": 150, "b": 25, "c": 200}
    assert scores.ard(ts, values) == pytest.approx((0.5 + 0.25 + 0.0) / 3)
    assert math.isnan(scores.ard(ts, {"a": 150, "b": 25}))  # an undefined value leaves the ARD undefined
    assert scores.ard(ts, values, "log_ratio") == pytest.approx((math.log(1.5) + math.log(1.25)) / 3)


# --------------------------------------------------------------------------------------------
# A hand-made table of two runs: target values and naive baselines
# --------------------------------------------------------------------------------------------


def _rows(run: str, metric: str, host: str, values: list[float]) -> list[dict]:
    months = ["2022-02", "2022-03", "2022-04", "2022-05"]
    return [{"run_id": run, "month": m, "date": pd.Timestamp(m + "-01"), "host": host, "category": "ALL",
             "metric": metric, "value": v} for m, v in zip(months, values, strict=True)]


@pytest.fixture
def table() -> pd.DataFrame:
    rows = []
    # run r1: t0 = 2022-03 (first month with a stock abroad); A holds 10 of 40 then
    rows += _rows("r1", "stock", "A", [0, 10, 50, 60])
    rows += _rows("r1", "stock", "B", [0, 30, 50, 40])
    rows += _rows("r1", "stock", "ALL", [0, 40, 100, 100])
    rows += _rows("r1", "arrivals", "A", [0, 10, 45, 15])
    rows += _rows("r1", "arrivals", "ALL", [0, 40, 65, 5])
    # run r2: t0 = 2022-04
    rows += _rows("r2", "stock", "A", [0, 0, 20, 30])
    rows += _rows("r2", "stock", "B", [0, 0, 60, 90])
    rows += _rows("r2", "stock", "ALL", [0, 0, 80, 120])
    rows += _rows("r2", "arrivals", "A", [0, 0, 20, 12])
    rows += _rows("r2", "arrivals", "ALL", [0, 0, 80, 44])
    return pd.DataFrame(rows)


def _sum_target(tid: str, o: targets.Observed) -> targets.Target:
    return targets.Target(
        id=tid, description="d", observed=o, unit="persons", source="s", reliability={"level": "low", "reason": "r"},
        mapping={"metric": "arrivals", "host": "A", "aggregation": "sum", "start": "2022-04", "end": "2022-05"},
    )


def test_target_values_by_hand(table) -> None:
    ts = [_target(obs(value=50), "stock_a_may", date="2022-05"), _sum_target("arr_a", obs(value=50))]
    v = target_values(ts, table)
    assert v.loc["r1", "stock_a_may"] == 60 and v.loc["r2", "stock_a_may"] == 30
    assert v.loc["r1", "arr_a"] == 45 + 15 and v.loc["r2", "arr_a"] == 20 + 12


def test_constant_baseline_by_hand(table) -> None:
    c = baselines.constant_baseline(table).set_index(["run_id", "metric", "host", "month"])["value"]
    assert c["r1", "stock", "A", "2022-05"] == 10  # frozen at t0 = 2022-03
    assert c["r1", "stock", "ALL", "2022-04"] == 40
    assert c["r1", "arrivals", "A", "2022-05"] == 10  # a flow repeats its t0 value
    assert c["r1", "stock", "A", "2022-02"] == 0  # before t0: unchanged
    assert c["r2", "stock", "A", "2022-05"] == 20  # r2's t0 is 2022-04
    ts = [_target(obs(value=50), "stock_a_may", date="2022-05"), _sum_target("arr_a", obs(value=50))]
    v = target_values(ts, baselines.constant_baseline(table))
    assert v.loc["r1", "arr_a"] == 10 + 10 and v.loc["r2", "arr_a"] == 20 + 20


def test_proportional_baseline_by_hand(table) -> None:
    p = baselines.proportional_baseline(table).set_index(["run_id", "metric", "host", "month"])["value"]
    assert p["r1", "stock", "A", "2022-05"] == pytest.approx(100 * 10 / 40)  # total x A's t0 share
    assert p["r1", "stock", "B", "2022-04"] == pytest.approx(100 * 30 / 40)
    assert p["r1", "stock", "ALL", "2022-05"] == 100  # totals unchanged
    assert p["r1", "arrivals", "A", "2022-04"] == pytest.approx(65 * 0.25)  # every count metric, the stock's share
    assert p["r2", "stock", "A", "2022-05"] == pytest.approx(120 * 20 / 80)
    # the ARD of each predictor on two targets, by hand
    ts = [_target(obs(value=50), "stock_a_may", date="2022-05"), _sum_target("arr_a", obs(value=50))]
    ev = fit.fit_runs(table, ts)
    scores = ev.scores.set_index(["set", "predictor"])["ard"]
    # ARD of the means over the two runs
    model = (abs((60 + 30) / 2 - 50) / 50 + abs((60 + 32) / 2 - 50) / 50) / 2
    const = (abs((10 + 20) / 2 - 50) / 50 + abs((20 + 40) / 2 - 50) / 50) / 2
    prop = (abs((25 + 30) / 2 - 50) / 50 + abs((0.25 * 70 + 0.25 * 124) / 2 - 50) / 50) / 2
    assert scores["in-sample", "model"] == pytest.approx(model)
    assert scores["in-sample", "constant"] == pytest.approx(const)
    assert scores["in-sample", "proportional"] == pytest.approx(prop)


# --------------------------------------------------------------------------------------------
# On real runs
# --------------------------------------------------------------------------------------------


def test_target_values_of_many_runs_equal_those_of_each_run(tf, run_tables) -> None:
    # the evaluator on a table of several runs gives, run by run, what it gives on each run alone
    frames = []
    for run_id, t in run_tables.items():
        df = t.to_pandas()
        df["run_id"] = run_id
        frames.append(df)
    got = target_values(tf.mapped(), pd.concat(frames))
    for run_id, t in run_tables.items():
        alone = target_values(tf.mapped(), t).loc["run"]
        for target in tf.mapped():
            a, b = got.loc[run_id, target.id], alone[target.id]
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12), (run_id, target.id, a, b)


def test_fit_runs_refuses_an_empty_table() -> None:
    with pytest.raises(InputError, match="no runs"):
        fit.fit_runs(pd.DataFrame(columns=["run_id", "date", "host", "category", "metric", "value"]), [])


def test_plan_chooses_the_months_and_the_targets(tf, targets_file, baseline_file) -> None:
    vp = plan_validation(targets_file, baseline_file, reps=2, seed=100, scale=2000)
    assert {t.id for t in vp.targets} == {t.id for t in tf.mapped()} and not vp.notes
    spec = next(iter(vp.plan.scenarios.values()))
    last = max(m for t in tf.mapped() for q in (t.mapping, t.mapping.denominator) if q is not None for m in q.months())
    assert spec.months == month_number(last) - month_number("2022-02") + 1  # to the last month a target reads
    assert [t.seed for t in vp.plan.tasks] == [100, 101]
    short = plan_validation(targets_file, baseline_file, reps=2, seed=100, months=12)
    assert len(short.targets) < len(vp.targets) and all("left out" in n for n in short.notes)
    with pytest.raises(InputError, match="at least 2"):
        plan_validation(targets_file, baseline_file, reps=1, seed=100)
    with pytest.raises(InputError) as err:
        plan_validation(targets_file, baseline_file, reps=2, seed=100, scale=0.5)
    assert err.value.problems[0].path == "scale"


def test_validate_command_writes_its_report(tmp_path, capsys, tf, baseline_file) -> None:
    out = tmp_path / "v"
    status = main(["validate", str(baseline_file), "--reps", "3", "--scale", "2000", "--out", str(out), "--executor", "serial",
                   "--quiet"])
    assert status == 0
    report = out / "report"
    text = (report / "report.md").read_text()
    for part in ("## Fit, in-sample targets", "## Holdout targets", "## Overall score", "## Targets the model misses",
                 "kz_mobilization_exit_share", "proportional", "--reps 3"):
        assert part in text
    fit_table = pd.read_csv(report / "fit.csv")
    assert len(fit_table) == len(tf.mapped()) and set(fit_table["set"]) == {"in-sample", "out-of-time", "holdout", "contested"}
    score_table = pd.read_csv(report / "scores.csv")
    assert set(score_table["predictor"]) == set(fit.PREDICTORS)
    assert (report / "targets.png").stat().st_size > 10_000
    assert len(list((report / "figures").glob("*.png"))) == len(fit_table)
    assert not list(out.glob(".report*"))  # written under a temporary name, renamed into place
    printed = capsys.readouterr().out
    assert "ARD in-sample" in printed and "missed" in printed
    # a second call resumes the runs and replaces the report
    assert main(["validate", str(baseline_file), "--reps", "3", "--scale", "2000", "--out", str(out), "--executor",
                 "serial", "--quiet"]) == 0


def test_validate_refuses_bad_input(tmp_path, capsys, baseline_file) -> None:
    assert main(["validate", str(baseline_file), "--reps", "1", "--out", str(tmp_path / "a")]) == 2
    assert "--reps" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "b")]) == 2
    assert main(["validate", str(baseline_file), "--scale", "0.5", "--out", str(tmp_path / "c")]) == 2
    assert "--scale" in capsys.readouterr().err
    assert not any((tmp_path / n).exists() for n in "abc")


def test_periods_and_contested_claims_form_their_own_sets() -> None:
    base = _target(obs(value=100), "a")
    late = base.model_copy(update={"id": "b", "period": "out_of_time"})
    claim = base.model_copy(update={"id": "c", "contested": True})
    held = base.model_copy(update={"id": "d", "holdout": True})
    assert [targets.target_set(t) for t in (base, late, claim, held)] == ["in-sample", "out-of-time", "contested",
                                                                         "holdout"]
    sets = fit.target_sets([base, late, claim, held])
    assert [t.id for t in sets["in-sample"]] == ["a"] and [t.id for t in sets["out-of-time"]] == ["b"]
    assert all(claim not in ts for ts in sets.values())  # a contested claim enters no ARD
    assert "out-of-time" not in fit.target_sets([base])
    with pytest.raises(ValueError, match="contested"):
        targets.Target(**{**base.model_dump(), "contested": True, "holdout": True})
