"""DiasporaModel: the Mesa model of Russia's post-2022 emigrants.

The state of every emigrant lives in NumPy columns owned by the model (``model.state``);
each :class:`Emigrant` agent is a view on one row, so its attributes read the columns. The
monthly step runs the rules of :mod:`diaspora_sim.model.rules` (one module per process) as
compiled kernels, in the order of docs/model.md section 4. A ``mesa.DataCollector``
(``model.datacollector``) records the headline rates and stocks before the first step and
after each step, so that ``mesa.batch_run`` works.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import mesa
import numpy as np

from ..scenario.loading import load_scenario
from ..scenario.schema import CATEGORIES, Scenario, month_name, month_number
from ..scenario.timeline import epochs
from . import rules
from .agents import Emigrant
from .context import MonthContext
from .metrics import Recorder
from .policy import Policy
from .population import draw_population
from .streams import Streams


class DiasporaModel(mesa.Model):
    """Russia's post-2022 emigrants under the policies of a scenario, one step per month.

    Args:
        scenario: a validated scenario (see :func:`diaspora_sim.scenario.loading.load_scenario`),
            or the path of a scenario file, loaded with it.
        rng: seed of every random stream; defaults to ``run.seed`` of the scenario.
        months: stop after this many months (at most ``run.months``); the first months of a
            shortened run equal those of the full run.

    The validated scenario is ``model.config``. ``model.datacollector`` holds the model
    reporters of REPORTERS, collected before the first step (row 0, NaN rates) and after every
    step (row k: after k months), as ``mesa.batch_run`` expects.

    """

    REPORTERS = ("return_rate", "integration_rate", "stock_abroad", "in_russia", "ever_left")
    """The model reporters of ``model.datacollector``: properties of the model, for the last month simulated."""

    def __init__(self, scenario: Scenario | str | Path, rng: int | None = None, months: int | None = None) -> None:
        config = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        seed = config.run.seed if rng is None else int(rng)
        super().__init__(rng=seed)
        started = time.perf_counter()
        self.config = config
        self.seed = seed
        self.streams = Streams(seed)
        self.host_codes = config.host_codes
        self.n_hosts = len(self.host_codes)
        self.location_names = [*self.host_codes, "RU", "not_left"]
        if months is not None and not 1 <= months <= config.run.months:
            raise ValueError(f"months must be between 1 and run.months ({config.run.months}), got {months}")
        self.months = config.run.months if months is None else months
        self.start = month_number(config.run.start)
        self.month = 0
        self.epochs = epochs(config)
        self._epoch = -1
        self.policy = Policy.from_scenario(config)
        self.state = draw_population(config, self.streams, self.n_hosts)
        self.recorder = Recorder(self.months, self.n_hosts, config.run.scale, config.integration.threshold,
                                 month_number(config.run.cohort_month) - self.start)
        C = len(CATEGORIES)
        self.peer_return = np.zeros((self.n_hosts, C))
        self.peer_permit = np.zeros((self.n_hosts, C))
        self.peer_counts = np.zeros((3, self.n_hosts, C))  # smoothed returns, permits, agents
        self.events_applied: list[tuple[str, str]] = []
        self.agent_steps = 0
        self.datacollector = mesa.DataCollector(model_reporters={name: name for name in self.REPORTERS})
        self.datacollector.collect(self)
        self.timings = {"construct_s": time.perf_counter() - started, "steps_s": 0.0}

    @property
    def date(self) -> str:
        """The month last simulated ('YYYY-MM'): the month of the last recorded row.

        Before the first step it is the month before the run's start (the state drawn at
        construction is the state before the first month).
        """
        return month_name(self.start + self.month - 1)

    def _apply_events(self) -> None:
        while self._epoch + 1 < len(self.epochs) and self.epochs[self._epoch + 1].start <= self.month:
            self._epoch += 1
            epoch = self.epochs[self._epoch]
            self.policy = Policy.from_scenario(epoch.scenario)
            self.russia = epoch.scenario.russia
            self.behaviour = epoch.scenario.behaviour
            self.integration_params = epoch.scenario.integration
            self.events_applied += [(month_name(self.start + self.month), name) for name in epoch.events]

    def step(self) -> None:
        """Simulate one month: events, outflow, resources, documents and status, integration,
        pressure, Russia, decisions; then record the metrics and the peers' signals.
        """
        if self.month >= self.months:
            self.running = False
            return
        started = time.perf_counter()
        self._apply_events()
        s, t = self.state, self.month
        n = int(np.searchsorted(s.depart, t, side="right"))
        H = self.n_hosts
        stock_hc = self.recorder.stock_by_cell(t - 1) if t > 0 else np.zeros((H, len(CATEGORIES)))
        ctx = MonthContext(
            t=t, n=n, policy=self.policy, russia=self.russia, behaviour=self.behaviour,
            integration=self.integration_params, streams=self.streams, n_hosts=H,
            stock=stock_hc.sum(axis=1), peer_return=self.peer_return, peer_permit=self.peer_permit,
        )
        self._add_agents(rules.outflow(s, ctx))
        self.agent_steps += int(np.count_nonzero(s.location[:n] <= H))  # abroad or in Russia, new leavers included
        rules.persons_month(s, ctx)  # resources, documents, legal_status, integration, pressure (rules.month)
        rules.russia(s, ctx)
        rules.decisions(s, ctx)
        self.recorder.record(t, s, ctx.n, ctx.flows)
        # peers' rates are shares of agents: stocks are in persons, flows in agents
        scale = self.config.run.scale
        self.peer_counts, self.peer_return, self.peer_permit = rules.peer_rates(
            ctx, stock_hc / scale, self.peer_counts, self.behaviour.peer_memory, self.behaviour.peer_min_persons / scale
        )
        self.month += 1
        self.running = self.month < self.months
        self.datacollector.collect(self)
        self.timings["steps_s"] += time.perf_counter() - started

    def _add_agents(self, rows: np.ndarray) -> None:
        """An Emigrant agent for each row that has just left Russia.

        The cyclic garbage collector is paused meanwhile: a million new objects would otherwise
        trigger collections that traverse every agent again and again, doubling the cost.
        """
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for row in rows.tolist():
                Emigrant(self, row)
        finally:
            if was_enabled:
                gc.enable()

    def run(self) -> DiasporaModel:
        """Run every month of the scenario."""
        while self.running:
            self.step()
        return self

    # Model-level reporters for mesa.DataCollector ---------------------------------------

    def _latest(self, metric: str, location: int | None = None) -> float:
        """`metric` for every category at `location` (default: every host together) at the end
        of the last month simulated; NaN before the first step.
        """
        if self.month == 0:
            return float("nan")
        loc = self.n_hosts + 1 if location is None else location
        return float(self.recorder.data[metric][self.month - 1, loc, len(CATEGORIES)])

    @property
    def return_rate(self) -> float:
        """Returned to Russia and still there / ever left, at the end of the last month simulated."""
        return self._latest("return_rate")

    @property
    def integration_rate(self) -> float:
        """Integrated abroad (secure status and integration >= threshold) / ever left."""
        return self._latest("integration_rate")

    @property
    def stock_abroad(self) -> float:
        """Persons abroad at the end of the last month simulated."""
        return self._latest("stock")

    @property
    def in_russia(self) -> float:
        """Persons back in Russia (returnees) at the end of the last month simulated."""
        return self._latest("stock", self.n_hosts)

    @property
    def ever_left(self) -> float:
        """Persons who have ever left Russia, at the end of the last month simulated."""
        return self._latest("ever_left")

    def release(self) -> None:
        """Free the model's agents and Mesa's per-model bookkeeping (Mesa 3.3 keeps every model
        alive through ``Agent._ids``); call it in long batch processes.
        """
        ids = getattr(mesa.Agent, "_ids", None)
        if ids is not None:
            ids.pop(self, None)
        for agents in (self._agents_by_type, getattr(self, "_agents", None)):
            if agents:
                agents.clear()
        self._all_agents = mesa.agent.AgentSet([], random=self.random)
