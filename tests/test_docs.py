"""docs/ODD.md stays true to the code: the functions it names exist, every rule of the monthly
step is a named submodel in the order the step runs them, the scenario paths it names are
fields of the schema, and its baseline values are the baseline's.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from diaspora_sim.model import model, rules
from diaspora_sim.model.rules import month
from diaspora_sim.scenario.loading import load_scenario
from diaspora_sim.scenario.schema import Scenario
from diaspora_sim.validation import targets

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"

NAME_RE = re.compile(r"`(diaspora_sim(?:\.\w+)+)`")
SECTIONS = ("run", "population", "hosts", "russia", "behaviour", "integration", "timeline")
PATH_RE = re.compile(r"`((?:" + "|".join(SECTIONS) + r")\.[A-Za-z0-9_.<>]+)`")


@pytest.fixture(scope="module")
def text() -> str:
    return ODD.read_text(encoding="utf-8")


def section(text: str, number: int) -> str:
    """The body of top-level section `number` ('## 7. Submodels' up to the next '## ')."""
    m = re.search(rf"^## {number}\. .*?$(.*?)(?=^## )", text + "\n## end", re.S | re.M)
    assert m, f"ODD.md has no section {number}"
    return m.group(1)


def resolve(dotted: str) -> Any:
    """The object named `diaspora_sim.module.attr[.attr...]` (longest importable module prefix)."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ModuleNotFoundError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def persons_pass_rules() -> list[str]:
    """The rules the monthly pass over persons runs, in the order its kernel calls their
    per-person functions (`resources_person`, ... : rule `resources`, ...).
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(month._persons_kernel.py_func)))
    calls = [node for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.endswith("_person")]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    return [node.func.id.removesuffix("_person") for node in calls]


def step_rule_calls() -> list[str]:
    """Functions of diaspora_sim.model.rules called in DiasporaModel.step, in source order (the
    pass over persons, rules.persons_month, followed by the rules it runs).
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(model.DiasporaModel.step)))
    calls = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "rules"
    ]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    names = []
    expanded = [x for node in calls for x in ((node.func.attr,) if node.func.attr != "persons_month"
                                               else ("persons_month", *persons_pass_rules()))]
    for name in expanded:
        if inspect.isfunction(getattr(rules, name, None)) and name not in names:
            names.append(name)
    return names


def documented_name(name: str) -> str:
    """The dotted name of rule function `name` in its own module: diaspora_sim.model.rules.<module>.<name>."""
    return f"{getattr(rules, name).__module__}.{name}"


def test_odd_has_the_seven_elements(text) -> None:
    headings = re.findall(r"^## (\d)\. (.+)$", text, re.M)
    assert [int(n) for n, _ in headings] == [1, 2, 3, 4, 5, 6, 7]
    titles = " | ".join(t for _, t in headings).lower()
    for word in ("purpose", "entities", "process overview", "design concepts", "initialization", "input", "submodels"):
        assert word in titles
    concepts = " | ".join(re.findall(r"^### 4\.\d+ (.+)$", section(text, 4), re.M)).lower()
    for item in ("theoretical and empirical background", "individual decision making", "learning",
                 "individual sensing", "individual prediction", "interaction", "collectives",
                 "heterogeneity", "stochasticity", "observation"):
        assert item in concepts, f"design concept without its own subsection: {item}"


def test_every_named_function_exists(text) -> None:
    names = set(NAME_RE.findall(text))
    assert len(names) >= 20
    missing = []
    for name in sorted(names):
        try:
            obj = resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
            continue
        assert callable(obj) or inspect.ismodule(obj), name
    assert missing == [], f"ODD.md names what the code does not have: {missing}"


def test_step_calls_rules():
    # Guard the extraction itself: if it found nothing, the tests below would pass vacuously.
    calls = step_rule_calls()
    assert {"outflow", "resources", "legal_status", "pressure", "decisions", "peer_rates"} <= set(calls)
    assert persons_pass_rules() == list(month.PERSONS_MONTH)


def test_each_rule_of_the_pass_lives_in_its_own_module() -> None:
    # rules.<name>.<name>_person (one person) in the rule's own module; rules.<name> (the rule alone over
    # every row) beside the pass that compiles it (rules.month), so no rule module imports the pass
    month = importlib.import_module("diaspora_sim.model.rules.month")
    for name in persons_pass_rules():
        module = importlib.import_module(f"diaspora_sim.model.rules.{name}")
        assert getattr(rules, name) is getattr(month, name)
        assert hasattr(module, f"{name}_person"), name


def test_every_rule_of_the_step_is_a_named_submodel(text) -> None:
    submodels = section(text, 7)
    uncovered = [f for f in step_rule_calls() if f"`{documented_name(f)}`" not in submodels]
    assert uncovered == [], f"rules called in DiasporaModel.step but not described in ODD.md section 7: {uncovered}"


def test_process_overview_lists_the_rules_in_step_order(text) -> None:
    rule_names = {documented_name(f): f for f in dir(rules) if inspect.isfunction(getattr(rules, f))}
    named = [rule_names[n] for n in NAME_RE.findall(section(text, 3)) if n in rule_names]
    in_order = [n for i, n in enumerate(named) if n not in named[:i]]
    assert in_order == step_rule_calls()


def test_each_process_of_the_model_description_names_its_module() -> None:
    # docs/model.md: every process section's heading names the module that implements it
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    for name in step_rule_calls():
        if name == "persons_month":
            continue
        assert re.search(rf"^## \d+\. .*`{re.escape(documented_name(name).removeprefix('diaspora_sim.model.'))}`",
                         text, re.M), f"docs/model.md has no section headed by {documented_name(name)}"


def test_initialization_names_the_population_draw(text) -> None:
    src = inspect.getsource(model.DiasporaModel.__init__)
    assert "draw_population(" in src
    assert "`diaspora_sim.model.population.draw_population`" in section(text, 5)


def test_every_submodel_names_its_function(text) -> None:
    subsections = re.split(r"^### ", section(text, 7), flags=re.M)[1:]
    assert len(subsections) >= 10
    for sub in subsections:
        assert NAME_RE.search(sub), f"submodel without a function: {sub.splitlines()[0]}"


# --------------------------------------------------------------------------------------------
# Parameters named by scenario path
# --------------------------------------------------------------------------------------------


def _options(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _options(get_args(annotation)[0])
    if origin is Union or type(annotation).__name__ == "UnionType":
        return [o for a in get_args(annotation) if a is not type(None) for o in _options(a)]
    return [annotation]


def schema_has(annotation: Any, parts: list[str]) -> bool:
    """Whether the dotted path `parts` leads to a field under `annotation` (<x> matches any key)."""
    if not parts:
        return True
    for option in _options(annotation):
        origin = get_origin(option)
        if isinstance(option, type) and issubclass(option, BaseModel):
            field = option.model_fields.get(parts[0])
            if field is not None and schema_has(field.annotation, parts[1:]):
                return True
        elif origin is dict and schema_has(get_args(option)[1], parts[1:]):
            return True
        elif origin is list and (parts[0].startswith("<") or parts[0].isdigit()):
            if schema_has(get_args(option)[0], parts[1:]):
                return True
    return False


def test_schema_has_guard() -> None:
    assert schema_has(Scenario, ["hosts", "<h>", "economy", "job_finding"])
    assert schema_has(Scenario, ["population", "profiles", "<c>", "age"])
    assert not schema_has(Scenario, ["hosts", "<h>", "economy", "jobs"])
    assert not schema_has(Scenario, ["behaviour", "beta_nothing"])


def test_every_scenario_path_is_a_schema_field(text) -> None:
    paths = set(PATH_RE.findall(text))
    assert len(paths) >= 60
    unknown = sorted(p for p in paths if not schema_has(Scenario, p.split(".")))
    assert unknown == [], f"ODD.md names scenario fields the schema does not have: {unknown}"


SCALAR = re.compile(r"^(-?\d+(?:\.\d+)?|true|false)$")


def test_baseline_values_are_the_baselines(text) -> None:
    sc = load_scenario(BASELINE)
    rows = re.findall(r"^\| `([a-z_.]+)` \| [^|]+ \| ([^|]+?) \|$", text, re.M)
    checked = 0
    for path, cell in rows:
        if not SCALAR.match(cell) or "<" in path:
            continue
        value: Any = sc
        for part in path.split("."):
            value = getattr(value, part)
        expected = cell == "true" if cell in ("true", "false") else float(cell)
        assert value == expected, f"ODD.md gives {path} = {cell}, the baseline has {value}"
        checked += 1
    assert checked >= 30


def test_patterns_table_lists_every_target(text) -> None:
    patterns = section(text, 1)
    tf = targets.load_targets(ROOT / "data" / "targets.yaml")
    for t in tf.targets:
        row = re.search(rf"^\| `{t.id}` \|.*\| (\*\*yes\*\*|no) \|$", patterns, re.M)
        assert row, f"target {t.id} is not in the patterns table of ODD.md"
        assert (row.group(1) == "**yes**") == t.holdout, t.id


def test_readme_links_the_odd() -> None:
    assert "(docs/ODD.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
