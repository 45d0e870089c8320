"""``360giving.json`` and ``360giving.csv``: a level's allocations as open data (``commissioning export``).

Writes what :mod:`commissioning.analysis.opendata` built — the package as JSON, its flattened
table as CSV — both at once or neither: the files are written to a work folder and moved into
the results folder only when both are complete. Computes nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from commissioning.errors import OutputError
from commissioning.writers.files import write_frame_csv

FILES = ("360giving.json", "360giving.csv")


def write_open_data(folder: Path, package: dict, flat: pd.DataFrame, force: bool = False) -> list[Path]:
    """Write ``360giving.json`` and ``360giving.csv`` into ``folder`` (refusing to replace them without ``force``)."""
    folder = Path(folder)
    targets = [folder / name for name in FILES]
    there = [t.name for t in targets if t.exists()]
    if there and not force:
        raise OutputError(f"{', '.join(there)} already exist(s) in {folder}: add --force to replace")
    with tempfile.TemporaryDirectory(dir=folder, prefix=".partial-360giving-") as work:
        work = Path(work)
        (work / FILES[0]).write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_frame_csv(work / FILES[1], flat)
        for name in FILES:
            os.replace(work / name, folder / name)
    return targets
