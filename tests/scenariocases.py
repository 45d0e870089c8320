"""A tiny case and scenario files for the scenario, compare and sensitivity tests.

Written as CSV files (the case-format contract), so that tests go through the same door
as a commissioner. Independent of the other test helpers on purpose.

* areas: A1 Northtown, A2 Southvale; footprint F1 = both;
* cohorts: YOUNG (outcome rate 0.5, £1,000 an outcome), OLDER (0.25, £4,000);
* years 2025-26 (Y1) and 2026-27 (Y2); every pot lives 2025-04-01 to 2027-03-31;

  ======  ====  =========  ===========  ======  ====  =================
  pot     dept  geography  cohorts      £/head  pool  budget each year
  ======  ====  =========  ===========  ======  ====  =================
  SKILLS  DfE   ALL        YOUNG;OLDER   1,000  yes   £60,000
  WORK    DWP   A2         OLDER         2,000  yes   £40,000
  LOCAL   LA    A1         YOUNG           500  no    £10,000
  ======  ====  =========  ===========  ======  ====  =================

* need (people, both years): A1 YOUNG 40, A1 OLDER 30, A2 YOUNG 30, A2 OLDER 50;
* provision (Y1): SKILLS A1 YOUNG £10,000; WORK A2 OLDER £20,000; LOCAL A1 YOUNG £5,000.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

Y1, Y2 = "2025-26", "2026-27"

POTS = [
    {"pot_code": "SKILLS", "pot_name": "Adult skills", "department": "DfE", "geography": "ALL",
     "cohorts": "YOUNG;OLDER", "unit_cost": 1000, "poolable": "yes", "can_match": "no"},
    {"pot_code": "WORK", "pot_name": "Work support", "department": "DWP", "geography": "A2",
     "cohorts": "OLDER", "unit_cost": 2000, "poolable": "yes", "can_match": "no"},
    {"pot_code": "LOCAL", "pot_name": "Council fund", "department": "LA", "geography": "A1",
     "cohorts": "YOUNG", "unit_cost": 500, "poolable": "no", "can_match": "yes"},
]
BUDGET = {"SKILLS": 60000, "WORK": 40000, "LOCAL": 10000}
NEED = {("A1", "YOUNG"): 40, ("A1", "OLDER"): 30, ("A2", "YOUNG"): 30, ("A2", "OLDER"): 50}
PROVISION = [("SKILLS", "A1", "YOUNG", Y1, 10000), ("WORK", "A2", "OLDER", Y1, 20000),
             ("LOCAL", "A1", "YOUNG", Y1, 5000)]


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_case(folder: Path, provision: bool = True, rules: list[dict] | None = None) -> Path:
    """Write the tiny case into ``folder`` (created) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "areas.csv", ["area_code", "area_name", "population"],
           [["A1", "Northtown", 1000], ["A2", "Southvale", 2000]])
    _write(folder / "footprints.csv", ["footprint_code", "footprint_name", "area_code"],
           [["F1", "Both towns", "A1"], ["F1", "Both towns", "A2"]])
    _write(folder / "cohorts.csv", ["cohort_code", "cohort_name", "age_min", "age_max", "journey_stage", "outcome",
                                    "outcome_rate", "value_per_outcome"],
           [["YOUNG", "Young people not in work", 16, 24, 3, "job entry", 0.5, 1000],
            ["OLDER", "Long-term unemployed adults", 25, 66, 2, "job entry", 0.25, 4000]])
    header = ["pot_code", "pot_name", "department", "geography", "cohorts", "start", "end", "unit_cost",
              "carry_forward", "match_rate", "can_match", "poolable", "basis", "source"]
    _write(folder / "pots.csv", header,
           [[p["pot_code"], p["pot_name"], p["department"], p["geography"], p["cohorts"], "2025-04-01",
             "2027-03-31", p["unit_cost"], 0, 0, p["can_match"], p["poolable"], "local", "test"] for p in POTS])
    _write(folder / "budgets.csv", ["pot_code", "year", "amount"],
           [[p, y, a] for p, a in BUDGET.items() for y in (Y1, Y2)])
    _write(folder / "need.csv", ["area_code", "cohort_code", "year", "people", "source", "as_of"],
           [[a, c, y, n, "survey", "2025-03-31"] for y in (Y1, Y2) for (a, c), n in NEED.items()])
    if provision:
        _write(folder / "provision.csv", ["pot_code", "area_code", "cohort_code", "year", "amount", "provider"],
               [list(r) + ["provider"] for r in PROVISION])
    if rules:
        cols = ["rule", "pot_code", "area_code", "cohort_code", "year", "value", "note"]
        _write(folder / "rules.csv", cols, [[r.get(c, "") for c in cols] for r in rules])
    (folder / "case.yaml").write_text(yaml.safe_dump({"name": "Tiny scenario case", "objective": "outcomes"}),
                                      encoding="utf-8")
    return folder


def write_scenario(folder: Path, filename: str, text: str) -> Path:
    """Write a scenario file (YAML text, as a user would type it) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text(text, encoding="utf-8")
    return path
