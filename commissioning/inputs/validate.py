"""Validation: raw tables in, a typed :class:`~commissioning.case.model.Case` out.

Collects *every* problem in one pass — where (file or sheet, the row as the spreadsheet
shows it, the column), what was found and what was expected — and only then either
builds the case or raises :class:`CaseError` with them all. Warnings never stop a case.

Decisions where the contract is silent:

* ``yes``/``no`` are read case-insensitively (``Yes``, ``NO``); Excel TRUE/FALSE cells too.
* ``people`` in need and ``population`` are whole numbers (published counts are whole people;
  a fraction is more likely a formula left in a cell than a real estimate).
* A code that is both an area and a footprint is an error (a pot's geography would be
  ambiguous).
* Money carrying fractions of a penny (spreadsheet arithmetic noise) is a warning.
* A pot that both needs match (``match_rate`` > 0) and ``can_match`` cannot match its
  own spend: its spend is not counted as match (a warning says so).
* A ``provision`` table with a header and no rows (the blank template's) records no
  provision: it is read exactly as an absent table (today's provision unknown, so the
  baseline spreads each pot over its own eligible need), never as "nothing is committed
  today", and a warning says so.
* *The term* of a case is ``start_year`` to ``start_year + term_years − 1`` when
  ``case.yaml`` sets ``start_year``, otherwise ``term_years`` from the first budget year (or
  to the last budget year, if later). A need row
  whose year is outside the term and outside every year a pot has money to spend (within
  its life and reached by one of its budgets, carry-forward included) is left out of the case (it
  could only stretch the case's years and read as need no pot reaches); a warning names
  the rows and their years.
* A ``rules`` row naming one pot (``pot_code`` not ``ALL``) whose scope that pot can never
  fund is an error at the column that fails: ``area_code`` when the pot's geography
  (footprints resolved) shares no area with the rule's (``ALL`` = every area),
  ``cohort_code`` when the pot does not fund the cohort, ``year`` when the year is outside
  the pot's life (:func:`scope_misses`; :mod:`commissioning.inputs.scenario` applies the same test
  to a scenario's rules and eligibility changes).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from commissioning.inputs import schema as S
from commissioning.inputs.settings import case_settings, protect_problems
from commissioning.inputs.cells import (_CODE_OK, _REPEATING, LARGEST, _Bad, _clip, _empty, _number,  # noqa: F401
                                        _pence_noise, _text, parse_cell)
from commissioning.case import years as fy
from commissioning.case.gss import vintage_problem
from commissioning.errors import CaseError, Problem
from commissioning.case.money import walk
from commissioning.case.model import (
    ALL,
    Area,
    Budget,
    Deflator,
    Department,
    Outcome,
    Case,
    Cohort,
    FootprintMember,
    Need,
    Pot,
    Provision,
    Rate,
    Rule,
    Settings,
)
from commissioning.inputs.readers import RawCase, RawTable, digests, read_case_raw

MAX_CARRY_FORWARD = 100  # years; longer than any pot's life, so no real limit is lost


@dataclass
class Validation:
    """The outcome of validating a case: the case (when valid), errors and warnings."""

    case: Case | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    raw: RawCase | None = None

    @property
    def ok(self) -> bool:
        return self.case is not None and not self.errors


def load_case(path: str | Path) -> Case:
    """Read and validate a case in either form; raise :class:`CaseError` listing every problem."""
    v = validate_path(path)
    if not v.ok:
        raise CaseError(v.errors)
    return v.case  # type: ignore[return-value]


def validate_path(path: str | Path) -> Validation:
    raw = read_case_raw(path)
    return validate_raw(raw)


# ---- cell parsing ---------------------------------------------------------------------------
@dataclass
class _Rec:
    """A parsed row: its values (None where a cell was empty or bad) and where it came from."""

    row: int
    values: dict[str, Any]
    ok: bool = True

    def __getitem__(self, k: str) -> Any:
        return self.values.get(k)


def _parse_table(table: RawTable, spec: S.Table, errors: list[Problem], warnings: list[Problem]) -> list[_Rec] | None:
    header = table.header
    missing = [c.name for c in spec.columns if c.required and c.name not in header]
    # A header that differs only in case or spaces is likely meant: say so.
    for name in missing:
        near = [h for h in header if h.strip().lower().replace(" ", "_") == name]
        hint = f" (found '{near[0]}': headers are lower-case snake_case)" if near else ""
        errors.append(Problem(table.where, table.header_row, name, f"the column '{name}' is missing{hint}",
                              f"a '{name}' column"))
    known = set(spec.column_names)
    extra = [h for h in header if h and h not in known]
    if extra:
        warnings.append(Problem(table.where, table.header_row, None,
                                "extra column(s) ignored: " + ", ".join(f"'{_clip(h)}'" for h in extra), "",
                                severity="warning"))
    if missing:
        return None
    index = {c.name: header.index(c.name) for c in spec.columns if c.name in header}
    out: list[_Rec] = []
    noise: dict[str, list[int]] = defaultdict(list)
    # Codes and years repeat down a column (an area code on thousands of need rows): a text
    # cell parsed once is remembered for its column. Only successes are remembered, so every
    # bad cell is still reported at its own row.
    parsed: dict[tuple[str, str], Any] = {}
    for row_no, cells in table.rows:
        values: dict[str, Any] = {}
        ok = True
        for col in spec.columns:
            i = index.get(col.name)
            v = cells[i] if i is not None and i < len(cells) else None
            if _empty(v):
                if col.required:
                    errors.append(Problem(table.where, row_no, col.name, "an empty cell", _expected(col)))
                    ok = False
                values[col.name] = None
                continue
            memo = isinstance(v, str) and col.kind in _REPEATING
            if memo and (col.name, v) in parsed:
                values[col.name] = parsed[col.name, v]
                continue
            try:
                values[col.name] = parse_cell(col, v)
                if memo:
                    parsed[col.name, v] = values[col.name]
            except _Bad as b:
                errors.append(Problem(table.where, row_no, col.name, b.found, b.expected))
                ok = False
                continue
            if col.kind in (S.MONEY, S.POSITIVE_MONEY) and _pence_noise(values[col.name]):
                noise[col.name].append(row_no)
        # Rows with a bad cell are kept (with that cell None) so that cross-references in
        # the rest of the row are still checked in the same pass.
        out.append(_Rec(row_no, values, ok))
    for col_name, rows in noise.items():
        warnings.append(Problem(table.where, rows[0], col_name,
                                f"{len(rows)} amount(s) carry fractions of a penny (first at row {rows[0]})",
                                "whole pence; check for spreadsheet arithmetic noise", severity="warning"))
    # Duplicate keys.
    if spec.key:
        seen: dict[tuple, int] = {}
        for rec in out:
            key = tuple(rec[k] if rec[k] is not None else "" for k in spec.key)
            if any(rec[k] is None and S.TABLES[table.name].column(k).required for k in spec.key):
                continue
            if key in seen:
                errors.append(Problem(table.where, rec.row, ", ".join(spec.key),
                                      f"duplicate of row {seen[key]} ({' / '.join(map(str, key))})",
                                      "each " + " + ".join(spec.key) + " once"))
            else:
                seen[key] = rec.row
    return out


def _expected(col: S.Column) -> str:
    return {
        S.CODE: "a code", S.TEXT: "some text", S.CODE_LIST: "codes separated by ';', or ALL",
        S.MONEY: "an amount in pounds", S.POSITIVE_MONEY: "an amount in pounds greater than 0",
        S.NUMBER: "a number", S.WHOLE: "a whole number", S.SHARE: "a share from 0 to 1",
        S.YEAR: "a financial year like 2025-26", S.YEAR_OR_ALL: "a financial year or ALL",
        S.DATE: "a date like 2025-04-01", S.YESNO: "yes or no", S.CODE_OR_ALL: "a code or ALL",
        S.CHOICE: "one of " + ", ".join(col.choices), S.STAGE: "1 to 6", S.AGE: "an age",
    }.get(col.kind, "a value")


# ---- settings ----------------------------------------------------------------------------------
def _parse_settings(raw: RawCase, errors: list[Problem]) -> Settings:
    """The case's settings (:class:`~commissioning.inputs.settings.CaseSettings` states them); problems to ``errors``."""
    parsed, problems = case_settings(raw.settings)
    for p in problems:
        errors.append(_settings_problem(raw, p.key, p.found, p.expected, p.unknown))
    data = parsed.model_dump(exclude_none=True)
    if "name" not in data:
        data["name"] = raw.source.stem if raw.form == "workbook" else raw.source.name
    return Settings(**data)


def _settings_problem(raw: RawCase, key: str, found: str, expected: str, unknown: bool = False) -> Problem:
    """A problem at a setting's ``key`` (``protect.cohorts``): in case.yaml at the key and its line (or
    its enclosing key's), on a workbook's case sheet at the key's row (a nested key is a dotted key there)
    and the value's column, or the key's for a key that is not a setting."""
    where = raw.settings_where or "case.yaml"
    parts = key.split(".")
    row = next((raw.settings_rows[k] for k in (".".join(parts[:n]) for n in range(len(parts), 0, -1))
                if k in raw.settings_rows), None)
    if raw.form == "folder":  # case.yaml: the row is a line of the file, the column a key
        return Problem(where, None, key, found, expected, line=row)
    return Problem(where, row, key if unknown else "value", found, expected)


def _protect_problems(raw: RawCase, settings: Settings, codes: dict[str, dict]) -> list[Problem]:
    """Every ``protect`` floor naming a cohort (or area) the case does not have, at its key.

    ``codes``: the case's cohorts and areas as parsed (``{"cohorts": ..., "areas": ...}``),
    a kind left out where its table could not be read (its problems are reported there)."""
    return [_settings_problem(raw, f"protect.{kind}", found, expected)
            for kind, known in codes.items()
            for found, expected in protect_problems(kind, getattr(settings.protect, kind), known)]


# ---- the whole case --------------------------------------------------------------------------
def validate_raw(raw: RawCase) -> Validation:
    errors: list[Problem] = [p for p in raw.problems if p.severity == "error"]
    warnings: list[Problem] = [p for p in raw.problems if p.severity == "warning"]
    where_of = {name: (raw.tables[name].where if name in raw.tables else _default_where(raw, name)) for name in S.TABLES}

    for name, spec in S.TABLES.items():
        if spec.required and name not in raw.tables and not any(p.where == where_of[name] for p in errors):
            errors.append(Problem(where_of[name], None, None, f"the required table '{name}' is missing",
                                  f"a {'sheet' if raw.form == 'workbook' else 'file'} named '{name}"
                                  f"{'' if raw.form == 'workbook' else '.csv'}'"))
        elif spec.required and name in raw.tables and not raw.tables[name].rows:
            # A header alone (a blank template) is not a case; checks further on assume rows.
            errors.append(Problem(raw.tables[name].where, None, None, f"the required table '{name}' has no rows",
                                  "at least one row below the header"))
    if raw.extra_tables:
        warnings.append(Problem(str(raw.source.name), None, None,
                                "extra table(s) ignored: " + ", ".join(raw.extra_tables), "", severity="warning"))

    # A provision table with a header and no rows records no provision: read as absent.
    no_provision = "provision" in raw.tables and not raw.tables["provision"].rows
    if no_provision:
        warnings.append(Problem(where_of["provision"], None, None,
                                "the provision table has a header but no rows: read as no provision recorded "
                                "(as if there were no provision table), not as nothing committed today",
                                "", severity="warning"))
    recs: dict[str, list[_Rec]] = {}
    for name, table in raw.tables.items():
        if name == "provision" and no_provision:
            continue
        parsed = _parse_table(table, S.TABLES[name], errors, warnings)
        if parsed is not None:
            recs[name] = parsed
    settings = _parse_settings(raw, errors)

    # Everything below cross-references; it runs on whatever parsed cleanly, so one pass
    # reports both a bad cell and an unknown code elsewhere.
    def first_by(table: str, key: str) -> dict[str, _Rec]:
        out: dict[str, _Rec] = {}
        for r in recs.get(table, []):
            if r[key] is not None:
                out.setdefault(r[key], r)
        return out

    areas = first_by("areas", "area_code")
    cohorts = first_by("cohorts", "cohort_code")
    pots = first_by("pots", "pot_code")
    footprints: dict[str, list[str]] = defaultdict(list)
    broken_footprints: set[str] = set()  # with a member that is no area: not resolved for rules
    have = {name: name in recs for name in S.TABLES}

    def unknown(table: str, rec: _Rec, col: str, code: str, kinds: str, pool: set[str]) -> None:
        errors.append(Problem(where_of[table], rec.row, col, f"unknown {kinds} code '{_clip(code)}'",
                              f"a code from the {' or '.join(pool_names[kinds])} table"))

    pool_names = {"area": ["areas"], "cohort": ["cohorts"], "pot": ["pots"],
                  "area or footprint": ["areas", "footprints"]}

    for r in recs.get("footprints", []):
        if r["footprint_code"] is None or r["area_code"] is None:
            continue
        if have["areas"] and r["area_code"] not in areas:
            unknown("footprints", r, "area_code", r["area_code"], "area", set())
            broken_footprints.add(r["footprint_code"])
        if r["footprint_code"] in areas:
            errors.append(Problem(where_of["footprints"], r.row, "footprint_code",
                                  f"'{r['footprint_code']}' is already an area code", "a code distinct from every area"))
        footprints[r["footprint_code"]].append(r["area_code"])
    fp_names: dict[str, tuple[str, int]] = {}
    for r in recs.get("footprints", []):
        if r["footprint_code"] is None or r["footprint_name"] is None:
            continue
        prev = fp_names.setdefault(r["footprint_code"], (r["footprint_name"], r.row))
        if prev[0] != r["footprint_name"]:
            errors.append(Problem(where_of["footprints"], r.row, "footprint_name",
                                  f"'{_clip(r['footprint_name'])}' differs from '{_clip(prev[0])}' at row {prev[1]}",
                                  "one name per footprint"))
    geo_codes = set(areas) | set(footprints)
    errors.extend(_protect_problems(raw, settings, {kind: known for kind, known in
                                                    (("cohorts", cohorts), ("areas", areas)) if have[kind]}))

    for r in recs.get("cohorts", []):
        if r["age_min"] is not None and r["age_max"] is not None and r["age_min"] > r["age_max"]:
            errors.append(Problem(where_of["cohorts"], r.row, "age_max",
                                  f"age_max {r['age_max']} is below age_min {r['age_min']}", "age_max ≥ age_min"))

    for r in recs.get("pots", []):
        if r["carry_forward"] is not None and r["carry_forward"] > MAX_CARRY_FORWARD:
            # Money is followed year by year through the window: a typo of a million years
            # would run for hours.
            errors.append(Problem(where_of["pots"], r.row, "carry_forward", f"{float(r['carry_forward']):g} years",
                                  f"a whole number of years from 0 to {MAX_CARRY_FORWARD}"))
        if r["start"] and r["end"] and r["end"] < r["start"]:
            errors.append(Problem(where_of["pots"], r.row, "end", f"end {r['end']} is before start {r['start']}",
                                  "an end on or after the start"))
        for code in r["geography"] or ():
            if code != ALL and have["areas"] and code not in geo_codes:
                unknown("pots", r, "geography", code, "area or footprint", geo_codes)
        for code in r["cohorts"] or ():
            if code != ALL and have["cohorts"] and code not in cohorts:
                unknown("pots", r, "cohorts", code, "cohort", set())
        if r["settlement"] and r["theme"] is None:
            errors.append(Problem(where_of["pots"], r.row, "theme", "an empty cell on a settlement pot",
                                  "the settlement's spending theme the pot is paid under, e.g. Adult skills"))
        if r["ring_fenced"] and not r["settlement"] and r.ok:
            warnings.append(Problem(where_of["pots"], r.row, "ring_fenced",
                                    f"pot {r['pot_code']} is ring-fenced but not in a settlement: ring-fencing "
                                    "only changes a settlement pot", "", severity="warning"))
        if r["match_rate"] and r["can_match"] and r.ok:
            warnings.append(Problem(where_of["pots"], r.row, "can_match",
                                    f"pot {r['pot_code']} needs match and can_match: its own spend cannot match itself "
                                    "and is not counted as match", "", severity="warning"))

    def check_pot(table: str, rec: _Rec) -> bool:
        if rec["pot_code"] is None:
            return False
        if have["pots"] and rec["pot_code"] not in pots:
            unknown(table, rec, "pot_code", rec["pot_code"], "pot", set())
            return False
        return have["pots"]

    def check_cell(table: str, rec: _Rec, area_kinds: str = "area") -> None:
        a = rec["area_code"]
        if have["areas"] and a is not None and a != ALL:
            ok_codes = geo_codes if area_kinds != "area" else set(areas)
            if a not in ok_codes:
                unknown(table, rec, "area_code", a, area_kinds, ok_codes)
        c = rec["cohort_code"]
        if have["cohorts"] and c is not None and c != ALL and c not in cohorts:
            unknown(table, rec, "cohort_code", c, "cohort", set())

    for r in recs.get("budgets", []):
        if check_pot("budgets", r) and r["year"] is not None:
            p = pots[r["pot_code"]]
            if p["start"] and p["end"] and p["end"] >= p["start"] and not fy.overlaps(r["year"], p["start"], p["end"]):
                errors.append(Problem(where_of["budgets"], r.row, "year",
                                      f"{r['year']} is outside pot {r['pot_code']}'s life "
                                      f"{p['start']} to {p['end']} (pots row {p.row})",
                                      "a year within the pot's start-end"))

    for r in recs.get("departments", []):
        check_pot("departments", r)

    for r in recs.get("need", []):
        check_cell("need", r)
        errors.extend(_interval_problems(where_of["need"], r))
    if "need" in recs:
        recs["need"] = _need_within_term(recs, settings, where_of["need"], warnings)
    outcome_names: dict[str, set[str]] = defaultdict(set)
    for r in recs.get("outcomes", []):
        check_cell("outcomes", r)
        if r["cohort_code"] is not None and r["outcome"] is not None:
            outcome_names[r["cohort_code"]].add(r["outcome"])
    for r in recs.get("rates", []):
        check_pot("rates", r)
        check_cell("rates", r)
        if r["outcome"] is not None:
            if r["cohort_code"] is not None and r["outcome"] not in outcome_names.get(r["cohort_code"], ()):
                errors.append(Problem(where_of["rates"], r.row, "outcome",
                                      f"no outcome '{_clip(r['outcome'])}' for cohort {r['cohort_code']} in the "
                                      "outcomes table", "an outcome of this cohort in the outcomes table"))
            if r["unit_cost"] is not None:
                errors.append(Problem(where_of["rates"], r.row, "unit_cost",
                                      "a unit cost on a row naming an outcome",
                                      "an empty cell (a row naming an outcome sets only that outcome's rate)"))
            if r["outcome_rate"] is None:
                errors.append(Problem(where_of["rates"], r.row, "outcome_rate", "an empty cell",
                                      "the outcome's rate for this pot, 0-1"))
        elif r["unit_cost"] is None and r["outcome_rate"] is None:
            warnings.append(Problem(where_of["rates"], r.row, None, "neither unit_cost nor outcome_rate is given",
                                    "", severity="warning"))

    case_years: set[str] = {r["year"] for r in recs.get("need", []) + recs.get("budgets", []) if r["year"] is not None}
    for r in recs.get("provision", []):
        check_cell("provision", r)
        if r["year"] is None:
            continue
        if check_pot("provision", r):
            p = pots[r["pot_code"]]
            if p["start"] and p["end"] and p["end"] >= p["start"] and not fy.overlaps(r["year"], p["start"], p["end"]):
                errors.append(Problem(where_of["provision"], r.row, "year",
                                      f"{r['year']} is outside pot {r['pot_code']}'s life {p['start']} to {p['end']}",
                                      "a year within the pot's start-end"))
        if case_years and r["year"] not in case_years:
            errors.append(Problem(where_of["provision"], r.row, "year",
                                  f"{r['year']} has no budgets and no need in this case",
                                  "one of " + ", ".join(sorted(case_years))))

    def resolve(codes) -> frozenset[str]:
        if ALL in codes:
            return frozenset(areas)
        return frozenset(a for c in codes for a in ([c] if c in areas else footprints.get(c, ())))

    def judgeable(r: _Rec, p: _Rec) -> bool:
        """Whether a rule's scope and its pot parsed with every code known: only then can
        :func:`scope_misses` speak without echoing an error reported elsewhere."""
        return (p.ok and r.ok and p["end"] >= p["start"]
                and r["area_code"] in geo_codes | {ALL} and r["cohort_code"] in set(cohorts) | {ALL}
                and set(p["geography"]) <= geo_codes | {ALL} and set(p["cohorts"]) <= set(cohorts) | {ALL}
                and not broken_footprints & {r["area_code"], *p["geography"]})

    for r in recs.get("rules", []):
        named = r["pot_code"] != ALL and check_pot("rules", r)
        check_cell("rules", r, area_kinds="area or footprint")
        year_known = r["year"] == ALL or not case_years or r["year"] in case_years
        if r["year"] is not None and not year_known:
            errors.append(Problem(where_of["rules"], r.row, "year", f"{r['year']} is not a year of this case",
                                  "ALL or one of " + ", ".join(sorted(case_years))))
        if r["rule"] in ("min_share", "max_share") and r["value"] is not None and r["value"] > 1:
            errors.append(Problem(where_of["rules"], r.row, "value", f"a share of {r['value']:g}",
                                  "a share from 0 to 1 for min_share and max_share"))
        p = pots[r["pot_code"]] if named else None
        if p is not None and year_known and judgeable(r, p):
            pot_cohorts = frozenset(cohorts) if ALL in p["cohorts"] else frozenset(p["cohorts"])
            for col, why in scope_misses(p["pot_code"], resolve(p["geography"]), pot_cohorts, (p["start"], p["end"]),
                                         resolve((r["area_code"],)), r["area_code"], r["cohort_code"], r["year"]):
                errors.append(Problem(where_of["rules"], r.row, col, why, SCOPE_EXPECTED))

    settings = _value_settings(raw, recs, settings, case_years, where_of, errors)

    if errors:
        return Validation(None, _sorted(errors), warnings, raw)

    case = _build_case(recs, settings, have, raw)
    warnings.extend(_case_warnings(case, where_of, recs))
    return Validation(case, [], warnings, raw)


SCOPE_EXPECTED = "a scope the pot may fund (or pot_code ALL)"


def _value_settings(raw: RawCase, recs: dict[str, list[_Rec]], settings: Settings, case_years: set[str],
                    where_of: dict[str, str], errors: list[Problem]) -> Settings:
    """The value rule's checks (:mod:`commissioning.case.value`) and the default objective.

    A value in a price year other than the price base needs both years in ``deflators``;
    persistence is at least a year; ``fiscal``, ``economic`` and ``social`` need an outcomes
    table. Unstated, the objective is ``value`` when the outcomes table carries values."""
    outcomes = recs.get("outcomes", [])
    base = settings.price_base or (min(case_years) if case_years else None)
    index = {r["year"]: r for r in recs.get("deflators", []) if r["year"] is not None}
    for r in recs.get("deflators", []):
        if r["index"] is not None and r["index"] <= 0:
            errors.append(Problem(where_of["deflators"], r.row, "index", f"{r['index']:g}", "an index above 0"))
    base_missing = False
    for r in outcomes:
        if r["persistence_years"] is not None and r["persistence_years"] < 1:
            errors.append(Problem(where_of["outcomes"], r.row, "persistence_years", f"{r['persistence_years']}",
                                  "a whole number of years, 1 or more (empty: 1)"))
        year = r["price_year"]
        if year is None or base is None or year == base:
            continue
        if year not in index:
            errors.append(Problem(where_of["outcomes"], r.row, "price_year", f"{year} has no deflator",
                                  f"a year of the deflators table, to uprate it to the price base {base}"))
        if base not in index:
            base_missing = True
    if base_missing:
        found, expected = f"the price base {base} has no deflator", "a deflators row for the price base year"
        errors.append(_settings_problem(raw, "price_base", found, expected) if settings.price_base else
                      Problem(where_of["deflators"], None, "year", found, expected))
    objective_stated = not _empty(raw.settings.get("objective"))
    if not outcomes and settings.objective in ("fiscal", "economic", "social"):
        errors.append(_settings_problem(raw, "objective", settings.objective,
                                        "outcomes, value or coverage (fiscal, economic and social need an "
                                        "outcomes table)"))
    valued = any((r["fiscal_value"] or 0) + (r["economic_value"] or 0) + (r["social_value"] or 0) > 0
                 for r in outcomes)
    if not objective_stated and valued:
        settings = settings.model_copy(update={
            "objective": "value",
            "objective_why": "the case values its outcomes (the outcomes table) and states no objective: the "
                             "default is net public value, the present value of net additional fiscal, economic "
                             "and social benefits"})
    return settings


def scope_misses(pot: str, pot_areas: frozenset[str], pot_cohorts: frozenset[str], life: tuple[date, date],
                 rule_areas: frozenset[str], area: str, cohort: str, year: str) -> list[tuple[str, str]]:
    """Why a rule naming ``pot`` can never apply to its scope: ``(column, reason)`` pairs, none when it can.

    ``pot_areas`` and ``rule_areas`` are resolved area codes (footprints and ``ALL``
    expanded); ``area``, ``cohort`` and ``year`` are the rule's cells as written.
    """
    out = []
    if not pot_areas & rule_areas:
        out.append(("area_code", f"pot {pot} can never fund any area: its geography holds none" if area == ALL else
                                 f"pot {pot} can never fund area {area}: its geography shares no area with it"))
    if cohort != ALL and cohort not in pot_cohorts:
        out.append(("cohort_code", f"pot {pot} can never fund cohort {cohort}: it does not fund that cohort"))
    if year != ALL and not fy.overlaps(year, *life):
        out.append(("year", f"pot {pot} can never fund {year}: the year is outside its life "
                            f"{life[0]} to {life[1]}"))
    return out


def rule_misses(case: Case, rule: Rule, pot: Pot) -> list[tuple[str, str]]:
    """:func:`scope_misses` for a rule of ``case`` naming ``pot`` (as the case has it, or as a scenario changes it)."""
    return scope_misses(pot.code, frozenset(case.resolve_areas(pot.geography)),
                        frozenset(case.resolve_cohorts(pot.cohorts)), (pot.start, pot.end),
                        frozenset(case.resolve_areas(rule.area_code)), rule.area_code, rule.cohort_code, rule.year)


def term_span(settings: Settings, budget_years) -> tuple[int, int] | None:
    """The term as first and last financial year (their starting calendar years), or None without budgets.

    ``start_year`` to ``start_year + term_years − 1`` when the case sets ``start_year``;
    otherwise it starts with the first budget year and runs ``term_years`` years, or to the
    last budget year if that is later (need in the years after a pot's money arrives is
    what carry-forward and extension asks are about, so it stays in the case).
    """
    if settings.start_year:
        first = fy.parse_year(settings.start_year)
        return first, first + settings.term_years - 1
    starts = [fy.parse_year(y) for y in budget_years]
    return (min(starts), max(max(starts), min(starts) + settings.term_years - 1)) if starts else None


def _need_within_term(recs: dict[str, list[_Rec]], settings: Settings, where: str,
                      warnings: list[Problem]) -> list[_Rec]:
    """The need rows to keep: a row outside the term and every year a pot has money to spend is left out (warned)."""
    need = recs["need"]
    term = term_span(settings, {r["year"] for r in recs.get("budgets", []) if r["year"] is not None})
    if term is None:
        return need
    # A year some pot can spend money in: within its life, and reached by one of its budgets
    # (the budget's year or the next carry_forward years). A programme that started years
    # before the case (a pot's real start date) does not pull old need into the case.
    pots = {p["pot_code"]: p for p in recs.get("pots", []) if p["pot_code"] and p["start"] and p["end"]}
    funded: set[int] = set()
    for b in recs.get("budgets", []):
        p = pots.get(b["pot_code"])
        if p is None or b["year"] is None or not b["amount"]:
            continue
        first, last = fy.parse_year(b["year"]), fy.parse_year(fy.year_of(p["end"]))
        # Up to the pot's end (a carry-forward beyond MAX_CARRY_FORWARD is an error elsewhere).
        for start in range(first, min(first + int(p["carry_forward"] or 0), last, first + MAX_CARRY_FORWARD) + 1):
            if fy.overlaps(fy.year_label(start), p["start"], p["end"]):
                funded.add(start)
    outside: dict[str, bool] = {}

    def out_of_term(year: str) -> bool:
        if year not in outside:
            start = fy.parse_year(year)
            outside[year] = not term[0] <= start <= term[1] and start not in funded
        return outside[year]

    dropped = [r for r in need if r["year"] is not None and out_of_term(r["year"])]
    if not dropped:
        return need
    rows = ", ".join(str(r.row) for r in dropped[:10]) + (f" and {len(dropped) - 10} more" if len(dropped) > 10 else "")
    years = ", ".join(sorted({r["year"] for r in dropped}))
    warnings.append(Problem(where, dropped[0].row, "year",
                            f"{len(dropped)} need row(s) (rows {rows}; {years}) are outside the agreement's term "
                            f"{fy.year_label(term[0])} to {fy.year_label(term[1])} and any year a pot has money to spend: "
                            "left out of the case", "", severity="warning"))
    keep = set(map(id, dropped))
    return [r for r in need if id(r) not in keep]


def _default_where(raw: RawCase, name: str) -> str:
    return f"sheet '{name}'" if raw.form == "workbook" else f"{name}.csv"


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Report in reading order: table order, then row, keeping each row's order stable."""
    order = {f"{n}.csv": i for i, n in enumerate(S.TABLE_ORDER)}
    order.update({f"sheet '{n}'": i for i, n in enumerate(S.TABLE_ORDER)})
    return sorted(problems, key=lambda p: (order.get(p.where, len(order)), p.place, p.row or 0))


def _interval_problems(where: str, r: _Rec) -> list[Problem]:
    """A need row's stated interval: both ends or neither, ``people_low ≤ people ≤ people_high``."""
    low, high, people = r["people_low"], r["people_high"], r["people"]
    if low is None and high is None:
        return []
    if (low is None) != (high is None):
        missing = "people_high" if high is None else "people_low"
        return [Problem(where, r.row, missing, "an empty cell beside a stated " +
                        ("people_low" if high is None else "people_high"),
                        "both ends of the interval, or neither")]
    if people is None:
        return []
    if low > people:
        return [Problem(where, r.row, "people_low", f"{float(low):g} is above people ({float(people):g})",
                        "a low end at most people")]
    if high < people:
        return [Problem(where, r.row, "people_high", f"{float(high):g} is below people ({float(people):g})",
                        "a high end at least people")]
    return []


def _build_case(recs: dict[str, list[_Rec]], settings: Settings, have: dict[str, bool], raw: RawCase) -> Case:
    def rows(name):
        return recs.get(name, [])

    return Case(
        sources=digests(raw.files),
        areas=tuple(Area(code=r["area_code"], name=r["area_name"], population=r["population"]) for r in rows("areas")),
        cohorts=tuple(
            Cohort(code=r["cohort_code"], name=r["cohort_name"], age_min=r["age_min"], age_max=r["age_max"],
                   journey_stage=r["journey_stage"], outcome=r["outcome"], outcome_rate=r["outcome_rate"],
                   value_per_outcome=r["value_per_outcome"],
                   weight=None if r["weight"] is None else float(r["weight"]))
            for r in rows("cohorts")
        ),
        pots=tuple(
            Pot(code=r["pot_code"], name=r["pot_name"], department=r["department"], geography=r["geography"],
                cohorts=r["cohorts"], start=r["start"], end=r["end"], unit_cost=r["unit_cost"],
                carry_forward=r["carry_forward"], match_rate=r["match_rate"], can_match=r["can_match"],
                poolable=r["poolable"], basis=r["basis"], source=r["source"], capacity=r["capacity"],
                pool_areas=r["pool_areas"], min_award=r["min_award"] or None,
                settlement=bool(r["settlement"]), theme=r["theme"], budget_type=r["budget_type"] or "revenue",
                ring_fenced=bool(r["ring_fenced"]))
            for r in rows("pots")
        ),
        budgets=tuple(Budget(pot_code=r["pot_code"], year=r["year"], amount=r["amount"]) for r in rows("budgets")),
        need=tuple(
            Need(area_code=r["area_code"], cohort_code=r["cohort_code"], year=r["year"], people=r["people"],
                 source=r["source"], as_of=r["as_of"], people_low=r["people_low"], people_high=r["people_high"])
            for r in rows("need")
        ),
        footprints=tuple(
            FootprintMember(footprint_code=r["footprint_code"], footprint_name=r["footprint_name"],
                            area_code=r["area_code"])
            for r in rows("footprints")
        ),
        rates=tuple(
            Rate(pot_code=r["pot_code"], cohort_code=r["cohort_code"], unit_cost=r["unit_cost"],
                 outcome_rate=r["outcome_rate"], outcome=r["outcome"])
            for r in rows("rates")
        ),
        outcomes=tuple(
            Outcome(cohort_code=r["cohort_code"], outcome=r["outcome"], rate=r["rate"],
                    fiscal_value=r["fiscal_value"] or 0.0, economic_value=r["economic_value"] or 0.0,
                    social_value=r["social_value"] or 0.0, persistence_years=r["persistence_years"] or 1,
                    price_year=r["price_year"], deadweight=r["deadweight"] or 0.0,
                    displacement=r["displacement"] or 0.0, source=r["source"])
            for r in rows("outcomes")
        ),
        deflators=tuple(Deflator(year=r["year"], index=float(r["index"])) for r in rows("deflators")),
        departments=tuple(Department(pot_code=r["pot_code"], department=r["department"], start=r["from"],
                                     source=r["source"]) for r in rows("departments")),
        provision=(
            tuple(
                Provision(pot_code=r["pot_code"], area_code=r["area_code"], cohort_code=r["cohort_code"],
                          year=r["year"], amount=r["amount"], provider=r["provider"],
                          contract_end=r["contract_end"])
                for r in rows("provision")
            )
            if have["provision"] else None
        ),
        rules=tuple(
            Rule(rule=r["rule"], pot_code=r["pot_code"], area_code=r["area_code"], cohort_code=r["cohort_code"],
                 year=r["year"], value=r["value"], note=r["note"],
                 origin=f"{raw.tables['rules'].where} row {r.row}")
            for r in rows("rules")
        ),
        settings=settings,
    )


def _case_warnings(case: Case, where_of: dict[str, str], recs: dict[str, list[_Rec]]) -> list[Problem]:
    """Things worth a look that do not stop the case."""
    out: list[Problem] = _gss_warnings(case, where_of, recs)
    cells = case.eligibility.cells(with_need_only=True)
    funded_pots = set(cells["pot_code"])
    pot_rows = {r["pot_code"]: r.row for r in recs.get("pots", [])}
    for p in case.pots:
        if p.code not in funded_pots:
            out.append(Problem(where_of["pots"], pot_rows.get(p.code), "pot_code",
                               f"pot {p.code} can fund nothing with need (no eligible area, cohort and year "
                               "with need and money)", "", severity="warning"))
    need = case.need_frame
    need = need[need["people"] > 0]
    if len(need):
        reach = cells[["area_code", "cohort_code", "year"]].drop_duplicates()
        m = need.merge(reach, how="left", indicator=True, on=["area_code", "cohort_code", "year"])
        lost = m[m["_merge"] == "left_only"]
        if len(lost):
            by_cohort = lost.groupby("cohort_code", sort=False)["people"].sum()
            parts = ", ".join(f"{c} ({p:,.0f})" for c, p in by_cohort.head(6).items())
            more = f" and {len(by_cohort) - 6} more cohorts" if len(by_cohort) > 6 else ""
            out.append(Problem(where_of["need"], None, "people",
                               f"{lost['people'].sum():,.0f} people in {len(lost)} need cells can be reached by no pot: "
                               f"{parts}{more}", "", severity="warning"))
    if case.provision:
        # The same oldest-first walk as the baseline and the map (commissioning.case.money), so
        # money carried forward and spent in one year is not counted again in the next.
        spent: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for pr in case.provision:
            spent[pr.pot_code][pr.year] += pr.amount
        for pot, wanted in spent.items():
            w = walk(case, pot, wanted)
            for year, amount in wanted.items():
                if w.short.get(year, 0.0) > 0.005:
                    out.append(Problem(where_of["provision"], None, "amount",
                                       f"pot {pot} has £{amount:,.0f} provision in {year} but its money pays for only "
                                       f"£{w.paid.get(year, 0.0):,.0f} (oldest money first)",
                                       "", severity="warning"))
    return out


def _gss_warnings(case: Case, where_of: dict[str, str], recs: dict[str, list[_Rec]]) -> list[Problem]:
    """A combined-authority (E47) code that did not stand at the case's GSS vintage (commissioning.case.gss):
    unknown, not yet made or abolished. The vintage is ``gss_vintage``, else the first day of the case's first year."""
    vintage = case.settings.gss_vintage or (fy.year_start(case.years[0]) if case.years else None)
    if vintage is None:
        return []
    out: list[Problem] = []
    for table, column in (("areas", "area_code"), ("footprints", "footprint_code")):
        seen: set[str] = set()
        for r in recs.get(table, []):
            code = r[column]
            if code is None or code in seen:
                continue
            seen.add(code)
            why = vintage_problem(code, vintage)
            if why:
                out.append(Problem(where_of[table], r.row, column, why, "", severity="warning"))
    return out


def summary_lines(case: Case) -> list[str]:
    """A short account of a valid case for the terminal (of the case as run: a scenario's, when applied)."""
    from commissioning.case.labels import run_label

    head = f"{run_label(case.settings.name, case.scenario)}: {len(case.areas)} areas, {len(case.cohorts)} cohorts, " \
           f"{len(case.pots)} pots"
    lines = [f"{head}, years {case.years[0]} to {case.years[-1]}" if case.years else head]
    money: dict[str, float] = defaultdict(float)
    for b in case.budgets:
        money[b.year] += b.amount
    people: dict[str, float] = defaultdict(float)
    for n in case.need:
        people[n.year] += n.people
    width = max((len(y) for y in case.years), default=7)
    lines.append(f"  {'year':<{width}}  {'money':>16}  {'need (people)':>14}")
    for y in case.years:
        lines.append(f"  {y:<{width}}  {'£' + format(money.get(y, 0), ',.0f'):>16}  {people.get(y, 0):>14,.0f}")
    lines.append(f"  {'total':<{width}}  {'£' + format(sum(money.values()), ',.0f'):>16}  {sum(people.values()):>14,.0f}")
    if case.provision is None:
        lines.append("  provision: not supplied (today's provision is unknown)")
    else:
        lines.append(f"  provision: {len(case.provision)} rows, £{sum(p.amount for p in case.provision):,.0f}")
    return lines
