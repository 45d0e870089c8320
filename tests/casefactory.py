"""A tiny valid case, written to disk on demand, for tests to use as-is or to break.

The case is small enough to check by hand:

* areas: A1 Northtown (population 1,000), A2 Southvale (2,000);
* cohorts: YOUNG (outcome rate 0.5, value per outcome £1,234.50) and OLDER (0.25);
* pots, all spending 2025-26 and 2026-27 unless said:

  ======  ====  =========  ===========  ======  ========================================
  pot     dept  geography  cohorts      £/head  budgets
  ======  ====  =========  ===========  ======  ========================================
  SKILLS  DfE   ALL        YOUNG;OLDER  1,000   2025-26 £100,000; 2026-27 £120,000
  WORK    DWP   A2         OLDER        2,500   2025-26 £50,000; 2026-27 £50,000 (carry 1)
  LOCAL   LA    A1;A2      ALL          500     2025-26 £12,345.25 (life ends 31 Mar 2026)
  ======  ====  =========  ===========  ======  ========================================

  Money by year: 2025-26 £162,345.25, 2026-27 £170,000; total £332,345.25.
* need (people):

  ====  =====  =======  =======
  area  cohort 2025-26  2026-27
  ====  =====  =======  =======
  A1    YOUNG       40       45
  A1    OLDER       30       25
  A2    YOUNG       20       25
  A2    OLDER       60       65
  ====  =====  =======  =======

  Need by year: 2025-26 150, 2026-27 160; total 310.

It validates with no warnings: every pot can fund a cell with need, and SKILLS reaches
every need cell. ``optional=True`` adds one or two rows of each optional table
(footprints, rates, provision, rules), still valid and warning-free.

Use :func:`tiny_rows` for the rows as dicts (one dict per row, keys are the columns),
change what a test needs, and pass tables back to :func:`write_tiny_case` by name.
:func:`changed` is a shortcut for "the tiny table with one cell different".
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

import yaml

Rows = list[dict[str, Any]]

_TABLES: dict[str, Rows] = {
    "areas": [
        {"area_code": "A1", "area_name": "Northtown", "population": 1000},
        {"area_code": "A2", "area_name": "Southvale", "population": 2000},
    ],
    "cohorts": [
        {"cohort_code": "YOUNG", "cohort_name": "Young people not in work", "age_min": 16, "age_max": 24,
         "journey_stage": 3, "outcome": "job entry", "outcome_rate": 0.5, "value_per_outcome": 1234.5},
        {"cohort_code": "OLDER", "cohort_name": "Long-term unemployed adults", "age_min": 25, "age_max": 66,
         "journey_stage": 2, "outcome": "job entry", "outcome_rate": 0.25, "value_per_outcome": None},
    ],
    "pots": [
        {"pot_code": "SKILLS", "pot_name": "Adult skills", "department": "DfE", "geography": "ALL",
         "cohorts": "YOUNG;OLDER", "start": "2025-04-01", "end": "2027-03-31", "unit_cost": 1000,
         "carry_forward": 0, "match_rate": 0, "can_match": "no", "poolable": "yes", "basis": "formula",
         "source": "illustrative"},
        {"pot_code": "WORK", "pot_name": "Work support", "department": "DWP", "geography": "A2",
         "cohorts": "OLDER", "start": "2025-04-01", "end": "2027-03-31", "unit_cost": 2500,
         "carry_forward": 1, "match_rate": 0.1, "can_match": "no", "poolable": "no", "basis": "national",
         "source": None},
        {"pot_code": "LOCAL", "pot_name": "Council employment fund", "department": "LA", "geography": "A1;A2",
         "cohorts": "ALL", "start": "2025-04-01", "end": "2026-03-31", "unit_cost": 500,
         "carry_forward": 0, "match_rate": 0, "can_match": "yes", "poolable": "yes", "basis": "local",
         "source": None},
    ],
    "budgets": [
        {"pot_code": "SKILLS", "year": "2025-26", "amount": 100000},
        {"pot_code": "SKILLS", "year": "2026-27", "amount": 120000},
        {"pot_code": "WORK", "year": "2025-26", "amount": 50000},
        {"pot_code": "WORK", "year": "2026-27", "amount": 50000},
        {"pot_code": "LOCAL", "year": "2025-26", "amount": 12345.25},
    ],
    "need": [
        {"area_code": a, "cohort_code": c, "year": y, "people": p, "source": "survey", "as_of": "2025-03-31"}
        for a, c, y, p in [
            ("A1", "YOUNG", "2025-26", 40), ("A1", "OLDER", "2025-26", 30),
            ("A2", "YOUNG", "2025-26", 20), ("A2", "OLDER", "2025-26", 60),
            ("A1", "YOUNG", "2026-27", 45), ("A1", "OLDER", "2026-27", 25),
            ("A2", "YOUNG", "2026-27", 25), ("A2", "OLDER", "2026-27", 65),
        ]
    ],
}

_OPTIONAL: dict[str, Rows] = {
    "footprints": [
        {"footprint_code": "F1", "footprint_name": "Both towns", "area_code": "A1"},
        {"footprint_code": "F1", "footprint_name": "Both towns", "area_code": "A2"},
    ],
    "rates": [
        {"pot_code": "WORK", "cohort_code": "OLDER", "unit_cost": 3000, "outcome_rate": None},
        {"pot_code": "SKILLS", "cohort_code": "YOUNG", "unit_cost": None, "outcome_rate": 0.6},
    ],
    "provision": [
        {"pot_code": "SKILLS", "area_code": "A1", "cohort_code": "YOUNG", "year": "2025-26", "amount": 20000,
         "provider": "Northtown College"},
        {"pot_code": "WORK", "area_code": "A2", "cohort_code": "OLDER", "year": "2025-26", "amount": 10000.5,
         "provider": None},
    ],
    "rules": [
        {"rule": "max_share", "pot_code": "SKILLS", "area_code": "ALL", "cohort_code": "YOUNG", "year": "ALL",
         "value": 0.6, "note": "youth capped at 60%"},
        {"rule": "min_amount", "pot_code": "WORK", "area_code": "F1", "cohort_code": "OLDER", "year": "2026-27",
         "value": 5000, "note": None},
    ],
}

TINY_SETTINGS: dict[str, Any] = {"name": "Tiny case"}

# Hand-worked totals of the tiny case (see the module docstring).
TINY_MONEY = {"2025-26": 162345.25, "2026-27": 170000.0}
TINY_NEED = {"2025-26": 150, "2026-27": 160}


def tiny_rows(optional: bool = False) -> dict[str, Rows]:
    """A fresh deep copy of the tiny case's tables (with the optional ones if asked)."""
    tables = copy.deepcopy(_TABLES)
    if optional:
        tables.update(copy.deepcopy(_OPTIONAL))
    return tables


def changed(table: str, index: int, optional: bool = False, **cells: Any) -> Rows:
    """The tiny ``table`` with row ``index`` changed (0-based: the spreadsheet row is index + 2).

    A cell given as ``None`` is emptied; a new key adds a column (other rows leave it empty).
    """
    rows = tiny_rows(optional)[table]
    rows[index].update(cells)
    return rows


def write_tiny_case(
    folder: Path,
    optional: bool = False,
    case_yaml: dict[str, Any] | str | None = TINY_SETTINGS,
    drop_columns: dict[str, list[str]] | None = None,
    **tables: Rows | None,
) -> Path:
    """Write the tiny case as a folder of CSVs (plus case.yaml) and return the folder.

    * ``optional=True`` also writes footprints, rates, provision and rules.
    * ``<table>=rows`` replaces a table's rows (a list of dicts; the header is the union of
      the keys, in first-seen order, so a new key adds a column); ``<table>=None`` leaves
      the file out altogether; ``<table>=[]`` writes the header only.
    * ``drop_columns={"pots": ["basis"]}`` removes columns from the header and every row.
    * ``case_yaml`` is a mapping to dump, raw YAML text, or ``None`` for no case.yaml.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Rows | None] = dict(tiny_rows(optional))
    data.update(tables)
    for name, rows in data.items():
        path = folder / f"{name}.csv"
        if rows is None:
            path.unlink(missing_ok=True)
            continue
        header = _header(name, rows, optional)
        for col in (drop_columns or {}).get(name, []):
            header.remove(col)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            for row in rows:
                w.writerow(["" if row.get(c) is None else row[c] for c in header])
    yml = folder / "case.yaml"
    if case_yaml is None:
        yml.unlink(missing_ok=True)
    elif isinstance(case_yaml, str):
        yml.write_text(case_yaml, encoding="utf-8")
    else:
        yml.write_text(yaml.safe_dump(case_yaml, sort_keys=False), encoding="utf-8")
    return folder


def _header(name: str, rows: Rows, optional: bool) -> list[str]:
    """The columns of the tiny table, plus any new keys the rows bring, in first-seen order."""
    base = tiny_rows(optional=True).get(name, [])
    header: list[str] = list(base[0]) if base else []
    for row in rows:
        for key in row:
            if key not in header:
                header.append(key)
    return header
