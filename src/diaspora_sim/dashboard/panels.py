"""The panels SolaraViz shows, and the export buttons.

Each panel is a Solara component taking the Mesa model (SolaraViz's convention); the comparison
panels read the shared comparison of :mod:`.store` and ignore the model, the last panel shows the
model SolaraViz steps month by month.
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Callable
from typing import Any

import pandas as pd
import solara
from matplotlib.figure import Figure

from . import engine, figures, stats
from .runner import Comparison
from .store import comparison, scenario_path


def _table(c: Comparison) -> pd.DataFrame:
    return stats.tidy(c.runs)


@solara.component
def FigurePanel(title: str, make: Callable[[pd.DataFrame], Figure], name: str) -> None:
    """A figure of the current comparison with its PNG download."""
    c = comparison.value
    ready = c is not None and bool(c.runs["changed"])
    key = [id(c), c.done if c is not None else 0]
    fig = solara.use_memo(lambda: make(_table(c)) if ready else None, dependencies=key)
    with solara.Card(title, classes=[f"panel-{name}"]):
        if fig is None:
            solara.Info("Press Run to compare the scenario with and without the levers.")
        else:
            solara.FigureMatplotlib(fig, format="png", dependencies=key)
            solara.FileDownload(lambda: figures.png(fig), filename=f"{name}.png", label=f"{name}.png")


@solara.component
def RatesPanel(model: Any) -> None:
    """Return and integration rates over time against the baseline, bands over replicates."""
    FigurePanel("Return and integration rates (mean, 95% CI over replicates)", figures.rates_figure, "rates")


@solara.component
def DifferencePanel(model: Any) -> None:
    """Levers minus baseline with its interval (paired by seed)."""
    FigurePanel("Difference to the baseline (paired by seed, 95% CI)", figures.difference_figure, "difference")


@solara.component
def CategoryPanel(model: Any) -> None:
    """Rates by category."""
    FigurePanel("By category", figures.category_figure, "by_category")


@solara.component
def StockPanel(model: Any) -> None:
    """Stock by host over time."""
    FigurePanel("Stock by host", figures.stock_figure, "stock_by_host")


@solara.component
def MapPanel(model: Any) -> None:
    """Bubble map of the hosts."""
    FigurePanel("Map of the host countries", figures.map_figure, "map")


@solara.component
def HeadlineTable(model: Any) -> None:
    """The end-of-run table `run` prints, mean over replicates, per arm."""
    c = comparison.value
    with solara.Card("Headline table (end of run, mean over replicates)", classes=["panel-headline"]):
        if c is None or not c.runs["changed"]:
            solara.Info("Press Run.")
            return
        t = stats.headline({a: [r.summary for r in runs] for a, runs in c.runs.items()}, engine.CATEGORIES)
        wide = t.pivot_table(index="category", columns="arm", values=["return_rate", "integration_rate"], sort=False)
        wide.columns = [f"{m} ({a})" for m, a in wide.columns]
        left = t[t.arm == "changed"].set_index("category")["ever_left"].rename("ever left (levers)")
        shown = pd.concat([left, wide], axis=1).reset_index()
        solara.Markdown(_markdown_table(shown))


def _markdown_table(df: pd.DataFrame) -> str:
    def cell(v: Any, col: str) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if "ever" in col else f"{v:.1%}"
        return str(v)

    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "\n".join("| " + " | ".join(cell(v, c) for c, v in row.items()) + " |" for _, row in df.iterrows())


@solara.component
def LiveModel(model: Any) -> None:
    """The Mesa model SolaraViz steps (the picked scenario, no levers, its own seed)."""
    with solara.Card("Step the model (SolaraViz controls, one month a step)"):
        solara.Markdown(
            f"Month simulated next: **{model.date}** (step {model.month} of {model.months}); "
            f"agents: {len(model.agents):,}; return rate {model.return_rate:.1%}, "
            f"integration rate {model.integration_rate:.1%}, abroad {model.stock_abroad:,.0f} persons."
        )


PANELS = [(RatesPanel, 0), (DifferencePanel, 0), (HeadlineTable, 1), (CategoryPanel, 1), (StockPanel, 2),
          (MapPanel, 2), (LiveModel, 3)]


def commands(c: Comparison, exported: str = "scenario_levers.yaml") -> str:
    """The command lines that reproduce the comparison's figures."""
    req = c.request
    opts = f"--reps {req.reps} --seed {req.seed}"
    opts += f" --scale {req.scale:g}" if req.scale else ""
    opts += f" --months {req.months}" if req.months else ""
    one = " ".join(f"--set {shlex.quote(o)}" for o in req.overrides)
    run_opts = f" --scale {req.scale:g}" if req.scale else ""
    run_opts += f" --months {req.months}" if req.months else ""
    return (
        f"# all replicates of both arms, CIs and paired differences:\n"
        f"python -m diaspora_sim compare {shlex.quote(req.path)} {exported} {opts}\n"
        f"# one replicate (seed {req.seed}) of the levers arm, as the page ran it:\n"
        f"python -m diaspora_sim run {shlex.quote(req.path)} {one} --seed {req.seed}{run_opts}\n"
    )


@solara.component
def ExportPanel() -> None:
    """Scenario YAML + commands, results as CSV and Parquet."""
    c = comparison.value
    if c is None or not c.runs["changed"]:
        solara.Text("Run a comparison to export it.")
        return
    cmd = commands(c)
    header = "# Exported by the diaspora_sim dashboard: the picked scenario with the levers as overrides.\n"
    header += "".join(f"# {line}\n" for line in cmd.splitlines())
    text = engine.export_yaml(scenario_path.value, list(c.request.overrides), header=header)
    solara.FileDownload(text, filename="scenario_levers.yaml", label="Scenario YAML", mime_type="text/yaml")
    solara.HTML(tag="pre", unsafe_innerHTML=cmd.replace("<", "&lt;"), style="white-space:pre-wrap;font-size:11px",
                classes=["repro-commands"])

    def parquet() -> bytes:
        buf = io.BytesIO()
        _table(c).to_parquet(buf, index=False)
        return buf.getvalue()

    solara.FileDownload(lambda: _table(c).to_csv(index=False), filename="results.csv", label="Results CSV")
    solara.FileDownload(parquet, filename="results.parquet", label="Results Parquet")
