"""Small optimiser cases written to the contract, as CSV folders, for tests to solve by hand.

The optimiser tests go through the same door as a commissioner: each case is written as a
folder of CSV files (``case-format``) and read back with :func:`commissioning.inputs.validate.load_case`,
so that what is tested is what a user would run. The helpers keep a case short to write:

* :func:`pot`, :func:`cohort`, :func:`rule` give one row with the contract's defaults
  (every pot spends from 1 April 2025 to 31 March 2028, £1,000 a head, no carry-forward,
  no match, not poolable);
* :func:`write_case` writes the folder; budgets, need and provision are mappings keyed by
  their cell, which reads like the tables in a test's arithmetic comment;
* :func:`make_case` writes and loads in one step;
* :func:`amounts` and :func:`by` fold an allocation table into ``{key: £}`` to assert on;
* :func:`random_case_specs` is a hypothesis strategy for small random cases that are
  valid by construction (2–4 areas, 2–4 cohorts, 2–5 pots, 2–3 years, …), and
  :func:`load_spec` writes one to a temporary folder and loads it.

Another engineer keeps ``tests/casefactory.py`` for validation tests; this module is
independent of it on purpose (its tiny case may change for its own reasons).
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any, Mapping

import yaml

from commissioning.case.model import Case
from commissioning.inputs.validate import load_case

Y1, Y2, Y3 = "2025-26", "2026-27", "2027-28"
YEARS = (Y1, Y2, Y3)
YEAR_START = {Y1: "2025-04-01", Y2: "2026-04-01", Y3: "2027-04-01"}
YEAR_END = {Y1: "2026-03-31", Y2: "2027-03-31", Y3: "2028-03-31"}

POT_COLUMNS = ["pot_code", "pot_name", "department", "geography", "cohorts", "start", "end", "unit_cost",
               "carry_forward", "match_rate", "can_match", "poolable", "basis"]


def pot(code: str, *, geography: str = "ALL", cohorts: str = "ALL", unit_cost: float = 1000,
        carry_forward: int = 0, match_rate: float = 0.0, can_match: bool = False, poolable: bool = False,
        start: str = "2025-04-01", end: str = "2028-03-31", department: str = "DfE",
        basis: str = "formula") -> dict[str, Any]:
    """One pots row (``geography``/``cohorts`` as the contract writes them: ``A1;A2`` or ``ALL``)."""
    return {
        "pot_code": code, "pot_name": f"Pot {code}", "department": department, "geography": geography,
        "cohorts": cohorts, "start": start, "end": end, "unit_cost": unit_cost, "carry_forward": carry_forward,
        "match_rate": match_rate, "can_match": "yes" if can_match else "no",
        "poolable": "yes" if poolable else "no", "basis": basis,
    }


def cohort(code: str, rate: float, value: float | None = None) -> dict[str, Any]:
    """One cohorts row: outcome rate and (optionally) £ value per outcome."""
    return {"cohort_code": code, "cohort_name": f"Cohort {code}", "outcome": "job entry",
            "outcome_rate": rate, "value_per_outcome": value}


def rule(kind: str, value: float, *, pot: str = "ALL", area: str = "ALL", cohort: str = "ALL",
         year: str = "ALL", note: str | None = None) -> dict[str, Any]:
    """One rules row."""
    return {"rule": kind, "pot_code": pot, "area_code": area, "cohort_code": cohort, "year": year,
            "value": value, "note": note}


def rate(pot_code: str, cohort_code: str, unit_cost: float | None = None,
         outcome_rate: float | None = None) -> dict[str, Any]:
    """One rates row (an empty cell keeps the pot's unit cost or the cohort's rate)."""
    return {"pot_code": pot_code, "cohort_code": cohort_code, "unit_cost": unit_cost, "outcome_rate": outcome_rate}


def _write(path: Path, header: list[str], rows: list[Mapping[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r[c] for c in header])


def write_case(folder: Path, *, areas, cohorts, pots, budgets: Mapping[tuple[str, str], float],
               need: Mapping[tuple[str, str, str], float], footprints: Mapping[str, list[str]] | None = None,
               rates: list[dict] | None = None, provision: Mapping[tuple[str, str, str, str], float] | None = None,
               rules: list[dict] | None = None, settings: Mapping[str, Any] | None = None) -> Path:
    """Write a case folder.

    ``areas`` is a list of codes; ``cohorts`` a list of :func:`cohort` rows or ``{code: rate}``;
    ``pots`` a list of :func:`pot` rows; ``budgets`` ``{(pot, year): £}``; ``need``
    ``{(area, cohort, year): people}``; ``footprints`` ``{code: [areas]}``; ``provision``
    ``{(pot, area, cohort, year): £}`` (or ``{"amount": £, "contract_end": date}`` for a signed
    contract); ``settings`` the case.yaml keys. A pot row may carry ``capacity``,
    ``pool_areas`` and ``min_award`` (the columns are written when any pot has them).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(cohorts, Mapping):
        cohorts = [cohort(c, r) for c, r in cohorts.items()]
    _write(folder / "areas.csv", ["area_code", "area_name"], [{"area_code": a, "area_name": f"Area {a}"} for a in areas])
    _write(folder / "cohorts.csv", ["cohort_code", "cohort_name", "outcome", "outcome_rate", "value_per_outcome"],
           cohorts)
    extra = [c for c in ("capacity", "pool_areas", "min_award") if any(c in p for p in pots)]
    _write(folder / "pots.csv", POT_COLUMNS + extra, pots)
    _write(folder / "budgets.csv", ["pot_code", "year", "amount"],
           [{"pot_code": p, "year": y, "amount": amt} for (p, y), amt in budgets.items()])
    _write(folder / "need.csv", ["area_code", "cohort_code", "year", "people"],
           [{"area_code": a, "cohort_code": c, "year": y, "people": n} for (a, c, y), n in need.items()])
    if footprints:
        _write(folder / "footprints.csv", ["footprint_code", "footprint_name", "area_code"],
               [{"footprint_code": f, "footprint_name": f"Footprint {f}", "area_code": a}
                for f, members in footprints.items() for a in members])
    if rates:
        _write(folder / "rates.csv", ["pot_code", "cohort_code", "unit_cost", "outcome_rate"], rates)
    if provision is not None:
        # A value is £, or {"amount": £, "contract_end": "2026-03-31"} for a contracted row.
        rows = [{"pot_code": p, "area_code": a, "cohort_code": c, "year": y,
                 **(amt if isinstance(amt, Mapping) else {"amount": amt})}
                for (p, a, c, y), amt in provision.items()]
        header = ["pot_code", "area_code", "cohort_code", "year", "amount"]
        _write(folder / "provision.csv", header + (["contract_end"] if any("contract_end" in r for r in rows) else []),
               rows)
    if rules:
        _write(folder / "rules.csv", ["rule", "pot_code", "area_code", "cohort_code", "year", "value", "note"], rules)
    (folder / "case.yaml").write_text(yaml.safe_dump({"name": "test case", **dict(settings or {})}, sort_keys=False),
                                      encoding="utf-8")
    return folder


def make_case(folder: Path, **tables) -> Case:
    """Write the case (see :func:`write_case`) and load it through the validator."""
    return load_case(write_case(folder, **tables))


# ---- reading results --------------------------------------------------------------------------
KEYS = ("pot_code", "area_code", "cohort_code", "year")


def by(alloc, *keys: str, column: str = "amount") -> dict:
    """Sum ``column`` of an allocation table by ``keys`` (rounded to the penny for money).

    One key gives ``{value: total}``; several give ``{(v1, v2, …): total}``.
    """
    if alloc.empty:
        return {}
    s = alloc.groupby(list(keys), sort=False)[column].sum()
    out = {}
    for k, v in s.items():
        if abs(v) < 1e-12:
            continue
        out[k] = round(float(v), 2) if column == "amount" else float(v)
    return out


def amounts(alloc) -> dict[tuple[str, str, str, str], float]:
    """``{(pot, area, cohort, year): £}`` of an allocation table (all programmes summed)."""
    return by(alloc, *KEYS)


# ---- random cases -----------------------------------------------------------------------------
def random_case_specs(*, allow_rules: bool = True, allow_equity: bool = True, allow_provision: bool = True,
                      max_pots: int = 5, pool_focus: bool = False):
    """A hypothesis strategy of small valid cases, as keyword arguments for :func:`write_case`.

    2–4 areas (and sometimes a footprint of some of them), 2–4 cohorts, 2–``max_pots`` pots,
    2–3 consecutive years. Each pot: a random subset of areas (or ``ALL``, or the footprint),
    of cohorts (or ``ALL``), a life covering a run of the years (sometimes ending mid-year),
    unit cost, carry-forward 0–2, sometimes a match rate, can_match, poolable. Budgets in
    whole pounds or with pence, sometimes zero. Rules (when allowed) are maxima of any scope
    or small minima; the equity floor is 0 or 0.5. Nothing here guarantees feasibility of
    the minima: tests decide what to do with an infeasible draw.

    ``pool_focus`` draws cases where pooling matters: every pot poolable, with a narrow
    geography and cohort list, so that the pool opens cells and prices to its members.
    """
    from hypothesis import strategies as st

    @st.composite
    def spec(draw):
        n_areas = draw(st.integers(2, 4))
        n_cohorts = draw(st.integers(2, 4))
        n_pots = draw(st.integers(2, max_pots))
        n_years = draw(st.integers(2, 3))
        areas = [f"A{i + 1}" for i in range(n_areas)]
        cohort_codes = [f"C{i + 1}" for i in range(n_cohorts)]
        years = list(YEARS[:n_years])

        def subset(items):
            picked = draw(st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique=True))
            return [i for i in items if i in picked]

        footprints = {}
        if draw(st.booleans()):
            footprints = {"F1": subset(areas)}
        cohorts = [
            cohort(c, draw(st.sampled_from([0.1, 0.2, 0.25, 0.3, 0.5, 0.6, 0.75])),
                   draw(st.sampled_from([None, 500, 1000, 2500, 10000])))
            for c in cohort_codes
        ]
        pots, budgets, rates, firsts = [], {}, [], []
        for i in range(n_pots):
            code = f"P{i + 1}"
            geo_kind = "subset" if pool_focus else draw(st.sampled_from(["ALL", "subset", "subset", "footprint"]))
            if geo_kind == "footprint" and footprints:
                geography = "F1"
            elif geo_kind == "ALL":
                geography = "ALL"
            else:
                geography = ";".join(subset(areas))
            if pool_focus:
                pot_cohorts = ";".join(subset(cohort_codes)[:2])
            else:
                pot_cohorts = "ALL" if draw(st.integers(0, 3)) == 0 else ";".join(subset(cohort_codes))
            first = draw(st.integers(0, n_years - 1))
            firsts.append(first)
            last = draw(st.integers(first, n_years - 1))
            end = YEAR_END[years[last]]
            if draw(st.integers(0, 4)) == 0:  # ends mid-year: the year still counts as in life
                end = YEAR_START[years[last]][:4] + "-09-30"
            match_rate = draw(st.sampled_from([0.0, 0.0, 0.0, 0.1, 0.25, 0.5]))
            pots.append(pot(
                code, geography=geography, cohorts=pot_cohorts,
                unit_cost=draw(st.sampled_from([250, 500, 800, 1000, 1500, 2000, 2500])),
                carry_forward=draw(st.integers(0, 2)), match_rate=match_rate,
                can_match=draw(st.booleans()), poolable=pool_focus or draw(st.integers(0, 3)) > 0,
                start=YEAR_START[years[first]], end=end,
            ))
            for y in years[first:last + 1]:
                kind = draw(st.integers(0, 5))
                if kind == 0 and y != years[first]:
                    continue  # no budget row that year (every pot keeps at least one row)
                amount = 0 if kind == 1 else draw(st.integers(1, 100)) * 1000
                if kind == 2:
                    amount += draw(st.integers(1, 99_999)) / 100  # pounds and pence
                budgets[(code, y)] = amount
            for c in draw(st.lists(st.sampled_from(cohort_codes), max_size=2, unique=True)):
                uc = draw(st.sampled_from([None, 300, 1200, 3000]))
                orate = draw(st.sampled_from([0.15, 0.4, 0.8] if uc is None else [None, 0.15, 0.4, 0.8]))
                rates.append(rate(code, c, uc, orate))
        need = {}
        for a in areas:
            for c in cohort_codes:
                for y in years:
                    if draw(st.integers(0, 4)) == 0:
                        continue  # no need row for the cell
                    need[(a, c, y)] = draw(st.integers(0, 80))
        # Need before every pot's life (and outside the term) is left out of the case with a
        # warning, so the case's years run from the first pot's first year; every one of them
        # must be a year of the case, even if no pot has a budget then.
        years = years[min(firsts):]
        for y in years:
            need.setdefault((areas[0], cohort_codes[0], y), 1)

        rules = []
        if allow_rules:
            for _ in range(draw(st.integers(0, 2))):
                kind = draw(st.sampled_from(["max_share", "max_amount", "max_share", "max_amount",
                                             "min_share", "min_amount"]))
                value = {
                    "max_share": draw(st.sampled_from([0.0, 0.2, 0.5, 0.8])),
                    "max_amount": draw(st.sampled_from([0, 5000, 20000, 50000])),
                    "min_share": draw(st.sampled_from([0.01, 0.05])),
                    "min_amount": draw(st.sampled_from([100, 1000])),
                }[kind]
                named = draw(st.sampled_from(["ALL"] + [p["pot_code"] for p in pots]))
                area_opts = ["ALL"] + areas + (["F1"] if footprints else [])
                cohort_opts, year_opts = ["ALL"] + cohort_codes, ["ALL"] + years
                if named != "ALL":
                    # A rule naming a pot that can never fund its scope is a validation error:
                    # draw the scope within the pot's cohorts, areas and life.
                    mine = next(p for p in pots if p["pot_code"] == named)
                    if mine["cohorts"] != "ALL":
                        cohort_opts = ["ALL"] + mine["cohorts"].split(";")
                    if mine["geography"] != "ALL":
                        area_opts = ["ALL"] + mine["geography"].split(";")
                    year_opts = ["ALL"] + [y for y in years if mine["start"] <= YEAR_START[y] <= mine["end"]]
                rules.append(rule(
                    kind, value, pot=named,
                    area=draw(st.sampled_from(area_opts)),
                    cohort=draw(st.sampled_from(cohort_opts)),
                    year=draw(st.sampled_from(year_opts)),
                    note=f"random rule {len(rules) + 1}",
                ))
        provision = None
        if allow_provision and draw(st.booleans()):
            provision = {}
            for _ in range(draw(st.integers(1, 6))):
                p = draw(st.sampled_from(pots))
                life = [y for y in years if YEAR_START[y] >= p["start"] and YEAR_START[y] <= p["end"]]
                key = (p["pot_code"], draw(st.sampled_from(areas)), draw(st.sampled_from(cohort_codes)),
                       draw(st.sampled_from(life)))
                provision[key] = draw(st.integers(1, 60)) * 1000
        settings = {"equity_floor": draw(st.sampled_from([0.0, 0.5])) if allow_equity else 0.0}
        return dict(areas=areas, cohorts=cohorts, pots=pots, budgets=budgets, need=need,
                    footprints=footprints or None, rates=rates or None, provision=provision,
                    rules=rules or None, settings=settings)

    return spec()


def load_spec(spec: dict) -> Case:
    """Write a spec from :func:`random_case_specs` to a temporary folder and load it."""
    with tempfile.TemporaryDirectory(prefix="lpcase-") as d:
        return make_case(Path(d), **spec)
