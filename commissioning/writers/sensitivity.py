"""Writing a sensitivity run: ``sensitivity.csv`` and ``sensitivity.json``.

The frame and the summary are :mod:`commissioning.analysis.sensitivity`'s; this lays them out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from commissioning.analysis.sensitivity import SENSITIVITY_COLUMNS
from commissioning.writers.files import write_frame_csv, write_json


def write_sensitivity_outputs(frame: pd.DataFrame, summary: dict, folder: Path) -> None:
    """sensitivity.csv and sensitivity.json into ``folder``."""
    write_frame_csv(folder / "sensitivity.csv", frame, SENSITIVITY_COLUMNS)
    write_json(folder / "sensitivity.json", summary)
