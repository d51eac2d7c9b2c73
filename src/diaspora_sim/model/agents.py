"""Emigrant: the Mesa agent of one emigrant (or `scale` persons), a view on one row of the state columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from ..scenario.schema import CATEGORIES
from .state import Status

if TYPE_CHECKING:  # the model owns its agents; the agent only reads the model's columns
    from .model import DiasporaModel


class Emigrant(mesa.Agent):
    """One emigrant (or `scale` persons). Attributes are read from the model's columns."""

    def __init__(self, model: DiasporaModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def category(self) -> str:
        """Emigrant category."""
        return CATEGORIES[self.model.state.category[self.row]]

    @property
    def location(self) -> str:
        """Host code, 'RU' after a return."""
        return self.model.location_names[self.model.state.location[self.row]]

    @property
    def status(self) -> str:
        """Legal status in the current host."""
        return Status.NAMES[self.model.state.status[self.row]]

    @property
    def age(self) -> float:
        """Age in years this month."""
        s = self.model.state
        return float(s.age0[self.row] + (self.model.month - s.depart[self.row]) / 12.0)

    def __getattr__(self, name: str):
        # Every other column (cash, integration, engagement, passport_valid, ...) by name.
        state = self.__dict__.get("model") and self.model.state
        if state is not None and name in state.__dataclass_fields__:
            return getattr(state, name)[self.row].item()
        raise AttributeError(name)
