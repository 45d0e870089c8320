"""Flags: the register of duplication, gaps and stranded money, in commissioners' words.

One :class:`Flag` is one row of ``flags.csv`` (outputs.md). The same record serves both
stages that find flags:

* ``map`` — found in today's provision and eligibility, before optimising (``level``
  empty); built by :mod:`commissioning.analysis.mapping`;
* ``optimise`` — what remains after the ``aligned`` or ``pooled`` allocation named in
  ``level``.

Columns, exactly: ``stage, level, kind, reason, pot_code, area_code, cohort_code, year,
people, amount, detail``. A cell that does not apply is left empty (``None`` here, an
empty cell in CSV).

Vocabulary:

* ``kind``: ``duplication`` (more provision aimed at a cell than its need), ``gap`` (need
  left unmet), ``idle`` (money that cannot be spent on any eligible need),
  ``over_committed`` (a pot's provision in a year beyond the money it has then; map stage),
  ``breach`` (today's provision breaks a ``rules`` row; map stage, ``reason = rule``),
  ``dropped`` (a cohort or area with no protection floor whose participants over the term
  fall by more than half from today's; optimise stage, no reason, the measured cost of
  protecting it in the detail: :mod:`commissioning.analysis.dropped`).
* ``reason`` for a gap: ``no_eligible_pot`` (no pot may fund the cell at all),
  ``geography``, ``cohort``, ``timing`` (a pot would fit but for that one rule),
  ``uncommitted`` (map stage: an eligible pot has money no provision uses that could be
  spent that year; the pot with the most is named), ``funding`` (eligible pots are
  exhausted or committed elsewhere), ``match`` (money exists
  but its match cannot be found), ``rule`` (a ``rules`` row holds it back), ``theme_flex`` (the
  integrated settlement's cross-theme limit holds back a theme's money that could fund it).
* ``reason`` for idle money: the rule that strands it (``geography``, ``cohort``,
  ``timing``, ``match``, ``rule`` …, any short snake_case word).
* ``reason`` for duplication: empty at the map stage (the detail says which pots stack).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import pandas as pd

FLAG_COLUMNS: list[str] = [
    "stage",
    "level",
    "kind",
    "reason",
    "pot_code",
    "area_code",
    "cohort_code",
    "year",
    "people",
    "amount",
    "detail",
]

STAGES = ("map", "optimise")
LEVELS = ("baseline", "aligned", "settlement", "pooled")
KINDS = ("duplication", "gap", "idle", "over_committed", "breach", "dropped")
GAP_REASONS = ("no_eligible_pot", "geography", "cohort", "timing", "uncommitted", "funding", "match", "rule",
               "theme_flex")
# The single rules a pot can fail for a cell, in the order a flag names them.
ELIGIBILITY_RULES = ("geography", "cohort", "timing")


@dataclass(frozen=True)
class Flag:
    """One duplication, gap or stranded pound: a row of ``flags.csv``.

    ``people`` and ``amount`` are ``None`` when they do not apply (for instance the cost of
    closing a gap that no pot may fund). ``level`` is ``None`` at the ``map`` stage.
    """

    stage: str
    kind: str
    reason: str | None = None
    level: str | None = None
    pot_code: str | None = None
    area_code: str | None = None
    cohort_code: str | None = None
    year: str | None = None
    people: float | None = None
    amount: float | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"flag stage {self.stage!r} is not one of {', '.join(STAGES)}")
        if self.kind not in KINDS:
            raise ValueError(f"flag kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "gap" and self.reason not in GAP_REASONS:
            raise ValueError(f"gap reason {self.reason!r} is not one of {', '.join(GAP_REASONS)}")
        if self.stage == "map" and self.level:
            raise ValueError("a map-stage flag has no level")
        if self.stage == "optimise" and self.level not in LEVELS:
            raise ValueError(f"an optimise-stage flag needs a level ({', '.join(LEVELS)})")
        for name in ("people", "amount"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or math.isnan(v)):
                raise ValueError(f"flag {name} must be a number or None, not {v!r}")

    def row(self) -> dict:
        """The flag as a ``flags.csv`` row (column name → value)."""
        return {c: getattr(self, c) for c in FLAG_COLUMNS}


def flags_frame(flags: Iterable[Flag]) -> pd.DataFrame:
    """The register as a DataFrame with exactly :data:`FLAG_COLUMNS`, in the order given.

    Text columns hold ``None`` where a cell does not apply; ``people`` and ``amount`` are
    floats with NaN there (both written as empty cells by the CSV writer).
    """
    rows = [[getattr(f, c) for c in FLAG_COLUMNS] for f in flags]
    frame = pd.DataFrame(rows, columns=FLAG_COLUMNS)
    for c in FLAG_COLUMNS:
        if c in ("people", "amount"):
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
        else:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame
