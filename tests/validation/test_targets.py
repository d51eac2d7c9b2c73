"""The calibration targets (data/targets.yaml): schema, mappings, and the model-value extraction."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from diaspora_sim.core.errors import InputError
from diaspora_sim.model import metrics as metrics
from diaspora_sim.scenario.reference import undocumented_fields
from diaspora_sim.scenario.schema import CATEGORIES, month_number
from diaspora_sim.validation import targets as targets
from diaspora_sim.validation.values import target_values


def model_values(tf: targets.TargetsFile, table) -> dict[str, float]:
    """Each mapped target's value in a table of one run (the one evaluator, validation.values)."""
    return target_values(tf.targets, table).loc["run"].to_dict()


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------


def test_default_path_is_the_repository_file(targets_file, baseline_file) -> None:
    assert targets.DEFAULT_PATH == targets_file
    assert targets.default_scenario() == baseline_file


def test_targets_file_validates(tf, baseline_file) -> None:
    assert tf.baseline == "scenarios/baseline_2022.yaml" and baseline_file.is_file()
    ids = [t.id for t in tf.targets]
    assert len(ids) == len(set(ids)) >= 15
    assert len(tf.mapped()) >= 12


def test_every_targets_schema_field_has_a_description() -> None:
    # The scenario schema has its own test (test_cli.py); this covers the targets schema.
    assert undocumented_fields(targets.TargetsFile) == []


def test_every_target_cites_a_source_and_a_reliability_reason(tf) -> None:
    for t in tf.targets:
        assert t.source.strip() and t.reliability.reason.strip() and t.observed.as_published.strip(), t.id


def test_unmapped_targets_say_why_and_mapped_ones_have_a_number(tf) -> None:
    for t in tf.targets:
        if t.mapping is None:
            assert t.unmapped_reason and len(t.unmapped_reason) > 20, t.id
        else:
            o = t.observed
            assert o.value is not None or o.low is not None or o.high is not None, t.id


def test_holdouts_are_few_mapped_and_test_different_mechanisms(tf) -> None:
    held = [t for t in tf.targets if t.holdout]
    assert 2 <= len(held) <= 3
    assert all(t.mapping is not None for t in held)
    assert len({t.mapping.metric for t in held}) == len(held)  # different outputs, hence mechanisms
    assert len(tf.mapped()) - len(held) >= 10  # enough left to calibrate on


def _quantities(t: targets.Target) -> list[targets.Quantity]:
    return [t.mapping] + ([t.mapping.denominator] if t.mapping.denominator is not None else [])


def test_mappings_refer_to_metrics_hosts_and_months_of_the_baseline(tf, baseline) -> None:
    hosts = set(baseline.host_codes) | {"ALL", "RU"}
    first, last = month_number(baseline.run.start), month_number(baseline.end_month())
    assert baseline.run.start == "2022-02"
    for t in tf.mapped():
        for q in _quantities(t):
            assert q.metric in metrics.METRICS, (t.id, q.metric)
            codes = q.host if isinstance(q.host, list) else [q.host]
            assert set(codes) <= hosts, (t.id, codes)
            assert q.category in (*CATEGORIES, "ALL"), (t.id, q.category)
            months = [q.date] if q.aggregation == "value_at" else [q.start, q.end]
            for m in months:
                assert m is not None and first <= month_number(m) <= last, (t.id, m)
    assert targets.check_targets(tf, baseline) == []


def test_units_match_the_mapping(tf) -> None:
    for t in tf.mapped():
        share = t.mapping.denominator is not None or t.mapping.metric in metrics.RATES
        assert t.unit == ("share" if share else "persons"), t.id


# --------------------------------------------------------------------------------------------
# Model values on a real run
# --------------------------------------------------------------------------------------------


def test_model_value_of_every_mapped_target_is_finite(tf, table) -> None:
    values = model_values(tf, table)
    assert set(values) == {t.id for t in tf.mapped()}  # targets without a mapping have no value
    for t in tf.mapped():
        v = values[t.id]
        assert math.isfinite(v), (t.id, v)
        if t.unit == "share":
            assert 0.0 <= v <= 1.0, (t.id, v)
        else:
            assert v >= 0.0, (t.id, v)


def test_model_values_read_the_table_correctly(tf, table) -> None:
    # Recompute a few targets by hand from the table.
    df = table.to_pandas()
    for col in ("host", "category", "metric"):
        df[col] = df[col].astype(str)
    df["month"] = pd.to_datetime(df["date"]).dt.strftime("%Y-%m")

    def cell(metric, host, cat, month):
        rows = df[(df.metric == metric) & (df.host == host) & (df.category == cat) & (df.month == month)]
        assert len(rows) == 1
        return float(rows.value.iloc[0])

    values = model_values(tf, table)
    assert values["ge_stock_oct_2022"] == cell("stock", "GE", "ALL", "2022-09")
    assert values["total_left_mid_2023"] == cell("ever_left", "ALL", "ALL", "2023-06")
    kz = [cell("arrivals", "KZ", "ALL", m) for m in ("2022-09", "2022-10")]
    kz_out = [cell("departures", "KZ", "ALL", m) for m in ("2022-09", "2022-10")]
    assert values["kz_mobilization_entries"] == sum(kz)
    assert values["kz_mobilization_exit_share"] == pytest.approx(sum(kz_out) / sum(kz))
    eu = tf.by_id("eu_asylum_applications_2022").mapping
    months = [f"2022-{k:02d}" for k in range(2, 13)]
    assert values["eu_asylum_applications_2022"] == sum(
        cell("asylum_applications", h, "ALL", m) for h in eu.host for m in months
    )


def test_pandas_and_arrow_tables_give_the_same_values(tf, table) -> None:
    a = model_values(tf, table)
    b = model_values(tf, table.to_pandas())
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], nan_ok=True), k


# --------------------------------------------------------------------------------------------
# Extraction on a hand-made table
# --------------------------------------------------------------------------------------------


def _table() -> pd.DataFrame:
    rows = []
    for k, month in enumerate(["2022-02", "2022-03", "2022-04", "2022-05"]):
        date = f"{month}-01"
        rows += [
            (date, "AA", "ALL", "stock", 10.0 * k),
            (date, "BB", "ALL", "stock", 1.0 + k),
            (date, "AA", "ALL", "arrivals", 2.0 ** k),
            (date, "AA", "ALL", "departures", 1.0),
            (date, "ALL", "it_specialist", "ever_left", 0.0 if k == 0 else 4.0 * k),
        ]
    rows.append(("2022-03-01", "ALL", "ALL", "return_rate", 0.25))  # absent in other months
    return pd.DataFrame(rows, columns=["date", "host", "category", "metric", "value"])


def _target(mapping: dict, unit: str = "persons", **extra) -> targets.TargetsFile:
    t = {
        "id": "t",
        "description": "d",
        "observed": {"value": 1.0, "as_published": "x"},
        "unit": unit,
        "source": "s",
        "reliability": {"level": "low", "reason": "r"},
        "mapping": mapping,
        **extra,
    }
    return targets.TargetsFile.model_validate({"title": "t", "description": "d", "baseline": "b", "targets": [t]})


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"metric": "stock", "host": "AA", "aggregation": "value_at", "date": "2022-04"}, 20.0),
        ({"metric": "arrivals", "host": "AA", "aggregation": "sum", "start": "2022-03", "end": "2022-05"}, 2 + 4 + 8),
        ({"metric": "stock", "host": "AA", "aggregation": "change", "start": "2022-03", "end": "2022-05"}, 30 - 10),
        ({"metric": "arrivals", "host": "AA", "aggregation": "max", "start": "2022-02", "end": "2022-04"}, 4.0),
        ({"metric": "stock", "host": "BB", "aggregation": "min", "start": "2022-03", "end": "2022-05"}, 2.0),
        ({"metric": "stock", "host": "BB", "aggregation": "mean", "start": "2022-02", "end": "2022-05"}, 2.5),
        ({"metric": "stock", "host": ["AA", "BB"], "aggregation": "value_at", "date": "2022-03"}, 10 + 2),
        ({"metric": "ever_left", "host": "ALL", "category": "it_specialist", "aggregation": "value_at",
          "date": "2022-05"}, 12.0),
        # months outside the table, a missing location, an absent (undefined) cell: NaN, not 0
        ({"metric": "stock", "host": "AA", "aggregation": "value_at", "date": "2022-06"}, math.nan),
        ({"metric": "arrivals", "host": "AA", "aggregation": "sum", "start": "2022-04", "end": "2022-06"}, math.nan),
        ({"metric": "stock", "host": ["AA", "CC"], "aggregation": "value_at", "date": "2022-03"}, math.nan),
    ],
)
def test_aggregations(mapping: dict, expected: float) -> None:
    value = model_values(_target(mapping), _table())["t"]
    assert value == pytest.approx(expected, nan_ok=True)


def test_rate_cell_absent_in_a_month_is_nan() -> None:
    tf = _target({"metric": "return_rate", "host": "ALL", "aggregation": "value_at", "date": "2022-03"}, unit="share")
    assert model_values(tf, _table())["t"] == 0.25
    tf = _target({"metric": "return_rate", "host": "ALL", "aggregation": "max", "start": "2022-03", "end": "2022-04"},
                 unit="share")
    assert math.isnan(model_values(tf, _table())["t"])


def test_ratio_and_zero_denominator() -> None:
    num = {"metric": "departures", "host": "AA", "aggregation": "sum", "start": "2022-03", "end": "2022-04"}
    den = {"metric": "arrivals", "host": "AA", "aggregation": "sum", "start": "2022-03", "end": "2022-04"}
    tf = _target({**num, "denominator": den}, unit="share")
    assert model_values(tf, _table())["t"] == pytest.approx(2 / 6)
    zero = {"metric": "ever_left", "host": "ALL", "category": "it_specialist", "aggregation": "value_at", "date": "2022-02"}
    tf = _target({**num, "denominator": zero}, unit="share")
    assert math.isnan(model_values(tf, _table())["t"])


def test_table_without_the_columns_is_an_error() -> None:
    tf = _target({"metric": "stock", "host": "AA", "aggregation": "value_at", "date": "2022-04"})
    with pytest.raises(ValueError, match="columns"):
        model_values(tf, _table().drop(columns="category"))


# --------------------------------------------------------------------------------------------
# Validation errors
# --------------------------------------------------------------------------------------------

OK = {"metric": "stock", "host": "AA", "aggregation": "value_at", "date": "2022-04"}


@pytest.mark.parametrize(
    ("mapping", "unit", "extra", "message"),
    [
        ({**OK, "colour": "red"}, "persons", {}, "Extra inputs"),
        ({**OK, "metric": "stocks"}, "persons", {}, "unknown metric"),
        ({**OK, "category": "it"}, "persons", {}, "unknown category"),
        ({**OK, "date": "2022-4"}, "persons", {}, "expected a month"),
        ({**OK, "start": "2022-03"}, "persons", {}, "value_at"),
        ({"metric": "arrivals", "host": "AA", "aggregation": "sum", "date": "2022-03"}, "persons", {}, "needs `start`"),
        ({"metric": "arrivals", "host": "AA", "aggregation": "sum", "start": "2022-05", "end": "2022-03"}, "persons", {},
         "before start"),
        ({"metric": "return_rate", "host": "ALL", "aggregation": "sum", "start": "2022-03", "end": "2022-04"}, "share", {},
         "rate"),
        ({**OK, "metric": "return_rate", "host": ["AA", "BB"]}, "share", {}, "rate"),
        ({**OK, "host": ["AA", "ALL"]}, "persons", {}, "host codes only"),
        ({**OK, "host": ["AA", "AA"]}, "persons", {}, "repeats"),
        (OK, "share", {}, "unit"),
        ({**OK, "denominator": OK}, "persons", {}, "unit"),
        (None, "persons", {}, "unmapped_reason"),
        (None, "persons", {"unmapped_reason": "no output", "holdout": True}, "holdout"),
        (OK, "persons", {"unmapped_reason": "why"}, "only for targets with mapping: null"),
        (OK, "persons", {"id": "Bad-Id"}, "pattern"),
        (OK, "persons", {"observed": {"low": 5, "high": 1, "as_published": "x"}}, "above high"),
        (OK, "persons", {"observed": {"value": 9, "high": 1, "as_published": "x"}}, "above high"),
        (OK, "persons", {"reliability": {"level": "so-so", "reason": "r"}}, "level"),
    ],
)
def test_schema_rejects(mapping, unit, extra, message) -> None:
    with pytest.raises(ValueError, match=message):
        _target(mapping, unit=unit, **extra)


def test_duplicate_ids_are_rejected() -> None:
    t = _target(OK).targets[0].model_dump()
    with pytest.raises(ValueError, match="duplicate target id"):
        targets.TargetsFile.model_validate({"title": "t", "description": "d", "baseline": "b", "targets": [t, t]})


def test_observed_bounds() -> None:
    o = targets.Observed(low=0.45, low_exclusive=True, as_published="> 45%")
    assert o.contains(0.46) and not o.contains(0.45)
    o = targets.Observed(low=1, high=2, as_published="1-2")
    assert o.contains(1) and o.contains(2) and not o.contains(2.5)
    assert targets.Observed(value=3, as_published="3").contains(3) is None


def test_load_errors_name_the_file_and_the_field(tmp_path: Path, targets_file) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text(targets_file.read_text(encoding="utf-8").replace("aggregation: value_at", "aggregation: at", 1))
    with pytest.raises(InputError) as err:
        targets.load_targets(bad)
    assert str(bad) in str(err.value) and "targets.0.mapping.aggregation" in str(err.value)


def test_loader_is_safe_yaml(tmp_path: Path) -> None:
    evil = tmp_path / "evil.yaml"
    evil.write_text("title: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(InputError):
        targets.load_targets(evil)


def test_check_targets_reports_unknown_hosts_months_and_cells(baseline) -> None:
    tf = _target({"metric": "ever_left", "host": "XX", "aggregation": "value_at", "date": "2030-01"})
    problems = targets.check_targets(tf, baseline)
    assert any("host 'XX'" in p for p in problems)
    assert any("2030-01 is outside the run" in p for p in problems)
    assert any("only at host 'ALL'" in p for p in problems)
