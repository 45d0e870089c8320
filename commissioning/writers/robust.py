"""Writing a robust run: ``robust.csv`` (the plan) and ``robust.json`` (its measures).

The frame and the summary are :mod:`commissioning.analysis.robust`'s; this lays them out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from commissioning.analysis.robust import ROBUST_COLUMNS
from commissioning.writers.files import write_frame_csv, write_json


def write_robust_outputs(frame: pd.DataFrame, summary: dict, folder: Path) -> None:
    """robust.csv and robust.json into ``folder``."""
    write_frame_csv(folder / "robust.csv", frame, ROBUST_COLUMNS)
    write_json(folder / "robust.json", summary)
