"""Write a case folder from tables given as lists of row dicts (the columns are the dicts' keys, in
the order they first appear) and a case.yaml text: the shortest way to a hand-made case."""

from __future__ import annotations

import csv
from pathlib import Path


def write_tables(folder: Path, tables: dict[str, list[dict]], settings: str = "name: hand") -> Path:
    """Write each table as ``<name>.csv`` and ``settings`` as ``case.yaml`` into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        cols = list(dict.fromkeys(k for r in rows for k in r))
        with open(folder / f"{name}.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, cols)
            w.writeheader()
            w.writerows(rows)
    (folder / "case.yaml").write_text(settings + "\n")
    return folder
