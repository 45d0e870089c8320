"""Errors people can act on.

Bad input is collected as :class:`Problem` records — where (file or sheet, the row as the
spreadsheet shows it, the column), what was found and what was expected — and raised all
at once as :class:`CaseError`, which the command line turns into a short message and exit
code 2. Solver trouble is a different family (:class:`SolverError`,
:class:`InfeasibleError`) so that a caller can never mistake one for the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) in an input, and where it is."""

    where: str  # file or sheet name, e.g. "pots.csv", "sheet 'pots'" or "scenario.yaml"
    row: int | None  # row as the spreadsheet shows it (header is row 1)
    column: str | None  # a table's column, or a YAML file's key
    found: str
    expected: str
    severity: str = "error"  # "error" or "warning"
    line: int | None = None  # the line of a YAML file

    @property
    def place(self) -> str:
        """The file or sheet, with the YAML line when there is one."""
        return f"{self.where}, line {self.line}" if self.line is not None else self.where

    @property
    def in_yaml(self) -> bool:
        """Whether the problem is in a YAML file (whose columns are keys)."""
        return self.where.lower().endswith((".yaml", ".yml"))

    def location(self) -> str:
        """Where the problem is: the file or sheet (and YAML line), then row and column or key when known."""
        parts = [self.place]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"{'key' if self.in_yaml else 'column'} '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.found}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class CommissioningError(Exception):
    """Base of every error the command line reports without a traceback."""

    exit_code = 2


class CaseError(CommissioningError):
    """The input is wrong; every problem found in one pass is attached."""

    def __init__(self, problems: list[Problem] | Problem | str, where: str = "input"):
        if isinstance(problems, str):
            problems = [Problem(where, None, None, problems, "")]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = [p for p in problems if p.severity == "error"] or list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """Every problem, one per line, under a count."""
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class OutputError(CommissioningError):
    """The output cannot be written where asked (exists, is the case folder, …)."""


class SolverError(CommissioningError):
    """The solver failed or is missing: not the user's input, but not a crash either."""

    exit_code = 4


@dataclass
class Collision:
    """One member of a set of rules that cannot all hold together."""

    family: str
    description: str  # what is said, in words
    suggestion: str = ""
    row: str = ""  # the LP row's own description (which row this is about)
    # "short": a demanding row that cannot be met; "spent": one met only at the others'
    # expense; "limit": a ceiling they collide with; "impossible": known before solving.
    kind: str = "impossible"


class InfeasibleError(CommissioningError):
    """No allocation satisfies every rule; ``collisions`` names the ones that collide."""

    exit_code = 3

    def __init__(self, level: str, collisions: list[Collision] | None = None):
        self.level = level
        self.collisions = list(collisions or [])
        lines = [f"The {level} allocation is infeasible: these rules cannot all hold together."]
        for c in self.collisions:
            lines.append(f"  - {c.description}")
            if c.suggestion:
                lines.append(f"      suggestion: {c.suggestion}")
        super().__init__("\n".join(lines))
