"""Writing the near-optimal alternatives of a run (``optimise --alternatives N``): ``alternatives.csv``.

The alternatives and their table are :mod:`optimiser.alternatives`'s; this writes the table.
"""

from __future__ import annotations

from pathlib import Path

from optimiser.alternatives import ALTERNATIVE_COLUMNS, Alternative, alternatives_frame

from commissioning.writers.files import write_frame_csv


def write_alternatives(alternatives: dict[str, list[Alternative]], folder: Path) -> None:
    """alternatives.csv into ``folder`` (a header only when no alternative was asked for)."""
    write_frame_csv(folder / "alternatives.csv", alternatives_frame(alternatives), ALTERNATIVE_COLUMNS)
