"""A tiny case writer shared by the explanation tests (asks, explain, infeasible).

Unless a test says otherwise: one area A1 "Northtown", year 2025-26, £1,000 a head,
no carry-forward, no match, not poolable; objective outcomes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

Y1, Y2 = "2025-26", "2026-27"
START = {Y1: "2025-04-01", Y2: "2026-04-01"}
END = {Y1: "2026-03-31", Y2: "2027-03-31"}
AREA_NAMES = {"A1": "Northtown", "A2": "Southvale", "A3": "Eastmoor", "A4": "Westdale", "A5": "Highfield"}
SOLVERS = ["cbc", "highs"]


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r[c] for c in header])


def pot(code: str, cohorts: str, *, name: str | None = None, geography: str = "ALL", unit_cost: float = 1000,
        first: str = Y1, last: str = Y1, carry_forward: int = 0, match_rate: float = 0.0,
        can_match: bool = False, poolable: bool = False, department: str = "DfE") -> dict:
    return {"pot_code": code, "pot_name": name or f"Pot {code}", "department": department, "geography": geography,
            "cohorts": cohorts, "start": START[first], "end": END[last], "unit_cost": unit_cost,
            "carry_forward": carry_forward, "match_rate": match_rate, "can_match": "yes" if can_match else "no",
            "poolable": "yes" if poolable else "no", "basis": "local"}


def rule(kind: str, value: float, note: str, *, pot: str = "ALL", area: str = "ALL", cohort: str = "ALL",
         year: str = "ALL") -> dict:
    return {"rule": kind, "pot_code": pot, "area_code": area, "cohort_code": cohort, "year": year,
            "value": value, "note": note}


def write_case(folder: Path, *, cohorts: dict[str, float], pots: list[dict], budgets: dict, need: dict,
               areas=("A1",), rules: list[dict] | None = None, settings: dict | None = None) -> Path:
    """``cohorts`` {code: outcome rate}; ``budgets`` {(pot, year): £}; ``need`` {(area, cohort, year): people};
    ``settings`` more case.yaml keys."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "areas.csv", ["area_code", "area_name"],
           [{"area_code": a, "area_name": AREA_NAMES[a]} for a in areas])
    _write(folder / "cohorts.csv", ["cohort_code", "cohort_name", "outcome", "outcome_rate"],
           [{"cohort_code": c, "cohort_name": f"Cohort {c}", "outcome": "job entry", "outcome_rate": r}
            for c, r in cohorts.items()])
    _write(folder / "pots.csv", list(pots[0]), pots)
    _write(folder / "budgets.csv", ["pot_code", "year", "amount"],
           [{"pot_code": p, "year": y, "amount": a} for (p, y), a in budgets.items()])
    _write(folder / "need.csv", ["area_code", "cohort_code", "year", "people"],
           [{"area_code": a, "cohort_code": c, "year": y, "people": n} for (a, c, y), n in need.items()])
    if rules:
        _write(folder / "rules.csv", ["rule", "pot_code", "area_code", "cohort_code", "year", "value", "note"], rules)
    (folder / "case.yaml").write_text(yaml.safe_dump({"name": folder.name, **(settings or {})}), encoding="utf-8")
    return folder


# A pool that may grow a member's programme without limit, as before issue 16's programme
# scale (the default 2): for cases about asks and gaps, not about capacity.
UNLIMITED_PROGRAMMES = {"programme_scale": 1000}


# ---- infeasible cases (tests/optimiser/test_infeasible.py, tests/golden.py) ----------------------
def one_pot_case(folder: Path, rules: list[dict], need: dict | None = None, areas=("A1",)) -> Path:
    return write_case(folder, areas=areas, cohorts={"C": 0.5, "D": 0.5},
                      pots=[pot("P", "C;D", geography="A1")], budgets={("P", Y1): 10000},
                      need=need or {("A1", "C", Y1): 2, ("A1", "D", Y1): 50}, rules=rules)


def min_share_case(folder: Path) -> Path:
    """min_amount £5,000 of P on C — but C's need is 2 people, so at most £2,000 can go there.

    (A *share* of P's spending on C can always be met by spending less: with a share of
    what the pot spends, "half of P on C" holds at £2,000 on C and £2,000 on D. The
    floor that need cannot meet is an amount.)
    """
    return one_pot_case(folder, [rule("min_amount", 5000, "Half of P on cohort C", pot="P", cohort="C", year=Y1)])
