"""The one error type for bad input, and the one formatter of its problems.

Every file or option a user gives (scenario, experiment, calibration parameters, targets,
command-line values, output paths, results folders) is checked before anything runs; what is
wrong becomes a list of :class:`Problem` (file, line, field path, what was expected and what
was found) carried by an :class:`InputError`. The command line prints it and exits with 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_args, get_origin

if TYPE_CHECKING:  # for annotations only: reporting an error must not load pydantic (`--help` stays fast)
    from pydantic import BaseModel
    from pydantic import ValidationError as PydanticValidationError


@dataclass
class Problem:
    """One thing wrong with an input: where (file, line, field path) and what."""

    path: str
    message: str
    file: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        field_path = self.path or "(top level)"
        return f"{where}: {field_path}: {self.message}" if where else f"{field_path}: {self.message}"


@dataclass
class InputError(Exception):
    """An input cannot be used; carries every problem found. `what` names the kind of input
    ('scenario', 'experiment', 'calibration file', 'targets file', 'output path', ...).
    """

    problems: list[Problem] = field(default_factory=list)
    what: str = "scenario"

    def __str__(self) -> str:
        n = len(self.problems)
        if n == 1 and not self.problems[0].file and not self.problems[0].path:
            return self.problems[0].message
        head = f"invalid {self.what} ({n} problem{'s' if n != 1 else ''}):"
        return "\n".join([head, *("  " + str(p) for p in self.problems)])


class InputWarning(UserWarning):
    """Input that is valid but probably not what its author meant (the command line prints it)."""


def input_error(message: str, *, what: str, path: str = "", file: str = "", line: int | None = None) -> InputError:
    """An InputError with a single problem."""
    return InputError([Problem(path, message, file, line)], what)


def fields_at(root: type[BaseModel], parts: Sequence[str]) -> list[str]:
    """The field names of the pydantic model found at the field path `parts` below `root`
    (list indices and mapping keys skipped); empty where there is no model.
    """
    model: Any = root
    for part in parts:
        fields = getattr(model, "model_fields", None)
        if fields is not None:
            if part not in fields:
                return []
            model = fields[part].annotation
        elif get_origin(model) in (dict, list):
            model = get_args(model)[-1]
        else:
            return []
        while get_origin(model) is not None and get_origin(model) not in (dict, list):
            model = next((a for a in get_args(model) if a is not type(None)), None)
    if get_origin(model) in (dict, list):
        return []
    return [f for f in getattr(model, "model_fields", {}) if f != "default"]


def loc_parts(loc: tuple[Any, ...]) -> list[str]:
    """A pydantic error location as field path parts (validator and union-branch names dropped)."""
    return [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]


Locate = Callable[[list[str]], tuple[str, int | None]]


def pydantic_problems(exc: PydanticValidationError, root: type[BaseModel], locate: Locate,
                      prefix: str = "") -> list[Problem]:
    """The problems of a pydantic error on data validated as `root`: field path, a message that
    says what was expected and found (an unknown field with the close matches and the valid
    ones), and the file and line `locate(parts)` gives for the field path.
    """
    problems = []
    for err in exc.errors(include_url=False):
        parts = loc_parts(err["loc"])
        message, found = err["msg"].removeprefix("Value error, "), err.get("input")
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            valid = fields_at(root, parts[:-1])
            close = difflib.get_close_matches(parts[-1], valid, n=1)
            message = "unknown field" + (f"; did you mean {close[0]!r}?" if close else "")
            message += f" (expected one of: {', '.join(valid)})" if valid else ""
        elif not isinstance(found, dict | list) and err["type"] != "value_error":
            message += f" (found {found!r})"
        # a missing field is reported where its parent is written
        file, line = locate(parts[:-1] if err["type"] == "missing" else parts)
        problems.append(Problem(prefix + ".".join(parts), message, file, line))
    return problems
