"""Scenarios: small YAML files that overlay a case without editing it.

The format is the contract's ``scenario-format``: ``name`` (required), ``description``,
``budgets``, ``pool``, ``eligibility``, ``need``, ``rules``, ``objective``,
``equity_floor``, ``lock``. Unknown keys, unknown codes and impossible values are errors
naming the file, the line and the key, all collected in one pass.

Decisions where the format is silent (also in the README):

* ``budgets`` takes, per pot, one entry or a list of entries. ``multiply`` scales the
  pot's budgets (every year, or the one ``year``); ``amount`` replaces them (a year with
  no budget row gains one, if the year is within the pot's life); ``end`` ends the pot
  early — its budgets for years after the new end are dropped.
* ``eligibility.end`` may extend a pot as well as shorten it; budgets outside the new life
  are dropped. ``remove_areas`` on a pot funding ``ALL`` or a footprint leaves the
  explicit list of remaining areas.
* ``need`` multipliers apply in order; ``area`` may be an area or a footprint code.
* ``lock`` needs a ``provision`` table; each entry keeps the matching provision rows.
* Overlay order: budgets, eligibility, need, rules, settings, pool, locks.
* A rule naming one pot must be one that pot can ever meet *as the scenario leaves it*
  (the test of :func:`commissioning.inputs.validate.scope_misses`): a scenario rule that fails is
  an error at its ``rules`` key and column; a case's ``rules`` row that an eligibility
  change (or a budget's ``end``) makes impossible is an error at that change's key.
* ``pool`` may name a pot marked ``poolable = no`` (a what-if): a warning says so, and
  ``summary.json`` lists such pots as ``pool_not_poolable`` (:func:`pool_not_poolable`).
* A scenario *changes the rules* (:func:`changes_rules`, the one place this is decided)
  when it changes a pot's eligibility, geography, years, carry-forward or match (through
  ``eligibility`` or a budget's ``end``), adds ``rules`` or ``lock`` entries, sets a
  different ``objective`` or ``equity_floor``, or pools a different set of pots. Budget
  amounts and need multipliers change the money and the evidence, not the rules. Every
  label reads it: a run is named ``Case 'NAME'`` without a scenario and ``Scenario 'X' on
  case 'NAME'`` with one (:func:`run_label`), and the aligned level is "today's rules"
  only when the scenario leaves them as they are (:func:`rules_words`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from commissioning.case import years as fy
from commissioning.errors import CaseError, Problem
from commissioning.case.model import ALL, Budget, Case, Pot, Rule
from commissioning.inputs.readers import read_yaml_mapping

TOP_KEYS = ("name", "description", "budgets", "pool", "eligibility", "need", "rules", "objective",
            "equity_floor", "lock")
BUDGET_KEYS = ("multiply", "amount", "end", "year")
ELIGIBILITY_KEYS = ("add_cohorts", "remove_cohorts", "add_areas", "remove_areas", "carry_forward", "match_rate", "end")
NEED_KEYS = ("cohort", "area", "year", "multiply")
RULE_KEYS = ("rule", "pot_code", "area_code", "cohort_code", "year", "value", "note")
LOCK_KEYS = ("pot_code", "area_code", "cohort_code", "year")


@dataclass
class Scenario:
    name: str
    description: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None
    lines: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # worth a look, but the scenario holds


def load_scenario(path: str | Path, case: Case) -> Scenario:
    """Read and check a scenario against a case; raise :class:`CaseError` listing every problem."""
    path = Path(path)
    if not path.exists():
        raise CaseError(Problem(str(path), None, None, "no such scenario file", "a YAML file"))
    if path.is_dir() or path.suffix.lower() not in (".yaml", ".yml"):
        raise CaseError(Problem(path.name, None, None, "is not a YAML scenario file", "a .yaml file"))
    problems: list[Problem] = []
    data, lines = read_yaml_mapping(path, problems)
    if problems:
        raise CaseError(problems)
    sc = Scenario(name="", data=data, source=path, lines=lines)
    problems = _check(sc, case) or _check_rule_scopes(sc, case)
    if problems:
        raise CaseError(problems)
    sc.name = str(data["name"])
    sc.description = str(data.get("description") or "")
    not_poolable = pool_not_poolable(case.with_changes(pool=_pool_codes(case, data)))
    if not_poolable:
        one = len(not_poolable) == 1
        sc.warnings.append(Problem(_where(sc, "pool"), None, "pool",
                                   f"{', '.join(not_poolable)} {'is' if one else 'are'} marked poolable = no in the "
                                   f"case and pooled all the same: a what-if (today {'it' if one else 'they'} may "
                                   "not join a pool)", "", severity="warning"))
    return sc


def _where(sc: Scenario, key: str) -> str:
    line = sc.lines.get(key)
    # Fall back to the nearest enclosing key that has a line.
    k = key
    while line is None and "." in k:
        k = k.rsplit(".", 1)[0]
        line = sc.lines.get(k)
    name = sc.source.name if sc.source else "scenario"
    return f"{name}, line {line}" if line else name


def _check(sc: Scenario, case: Case) -> list[Problem]:
    out: list[Problem] = []
    d = sc.data

    def bad(key: str, found: str, expected: str) -> None:
        out.append(Problem(_where(sc, key), None, key, found, expected))

    for k in d:
        if k not in TOP_KEYS:
            bad(str(k), f"unknown key '{k}'", "one of " + ", ".join(TOP_KEYS))
    if not d.get("name") or not isinstance(d.get("name"), (str, int, float)):
        out.append(Problem(_where(sc, "name"), None, "name", "no name", "a 'name:' for the scenario (required)"))

    def pot_ok(key: str, code: Any) -> bool:
        if not isinstance(code, str) or code not in case.pot:
            bad(key, f"unknown pot code '{code}'", "a pot code of the case")
            return False
        return True

    def year_ok(key: str, y: Any, allow_all: bool = False) -> bool:
        if allow_all and y == ALL:
            return True
        try:
            fy.parse_year(str(y))
        except ValueError:
            bad(key, f"'{y}' is not a financial year", "a year written like 2025-26")
            return False
        if str(y) not in case.years:
            bad(key, f"{y} is not a year of the case", "one of " + ", ".join(case.years))
            return False
        return True

    def date_ok(key: str, v: Any) -> bool:
        if isinstance(v, date):
            return True
        try:
            date.fromisoformat(str(v))
            return True
        except ValueError:
            bad(key, f"'{v}' is not a date", "an ISO date like 2026-03-31")
            return False

    def number(key: str, v: Any, lo: float | None = 0.0, hi: float | None = None) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            bad(key, f"'{v}' is not a number", "a number")
            return False
        if not math.isfinite(v):  # .nan and .inf are YAML numbers too
            bad(key, f"'{v}' is not a finite number", "a number")
            return False
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f"from {lo:g} to {hi:g}" if hi is not None else f"{lo:g} or more"
            bad(key, f"{v:g} is out of range", f"a number {rng}")
            return False
        return True

    # budgets
    budgets = d.get("budgets")
    if budgets is not None:
        if not isinstance(budgets, dict):
            bad("budgets", "not a mapping of pots", "POT: {multiply: 0.9}")
        else:
            for pot, entries in budgets.items():
                key = f"budgets.{pot}"
                if not pot_ok(key, pot):
                    continue
                items = entries if isinstance(entries, list) else [entries]
                seen: dict[str, str] = {}
                for i, e in enumerate(items):
                    ek = f"{key}.{i}" if isinstance(entries, list) else key
                    if not isinstance(e, dict):
                        bad(ek, f"'{e}' is not an entry", "{multiply: 0.9} or {year: 2026-27, amount: 1000000}")
                        continue
                    for k in e:
                        if k not in BUDGET_KEYS:
                            bad(f"{ek}.{k}", f"unknown key '{k}'", "one of " + ", ".join(BUDGET_KEYS))
                    year = e.get("year")
                    if year is not None and not year_ok(f"{ek}.year", year):
                        continue
                    if "multiply" in e:
                        number(f"{ek}.multiply", e["multiply"])
                    if "amount" in e:
                        number(f"{ek}.amount", e["amount"])
                    if "end" in e:
                        date_ok(f"{ek}.end", e["end"])
                    years = [str(year)] if year is not None else list(case.years)
                    for y in years:
                        for k in ("multiply", "amount"):
                            if k in e:
                                other = seen.get(y)
                                if other and other != k:
                                    bad(f"{ek}.{k}", f"both multiply and amount for {pot} in {y}",
                                        "either a multiplier or an amount for a pot and year")
                                seen[y] = k
                    if "amount" in e and year is not None and not case.pot[pot].in_life(str(year)):
                        bad(f"{ek}.year", f"{year} is outside {pot}'s life", "a year within the pot's start-end")

    # pool
    pool = d.get("pool")
    if pool is not None and pool not in ("all", "none"):
        if not isinstance(pool, list):
            bad("pool", f"'{pool}'", "a list of pot codes, or all, or none")
        else:
            for i, p in enumerate(pool):
                pot_ok(f"pool.{i}", p)

    # eligibility
    elig = d.get("eligibility")
    if elig is not None:
        if not isinstance(elig, dict):
            bad("eligibility", "not a mapping of pots", "POT: {add_cohorts: [...]}")
        else:
            geo = set(case.area) | set(case.footprint_members)
            for pot, e in elig.items():
                key = f"eligibility.{pot}"
                if not pot_ok(key, pot):
                    continue
                if not isinstance(e, dict):
                    bad(key, f"'{e}' is not a mapping", "{add_cohorts: [...], carry_forward: 1, ...}")
                    continue
                for k, v in e.items():
                    kk = f"{key}.{k}"
                    if k not in ELIGIBILITY_KEYS:
                        bad(kk, f"unknown key '{k}'", "one of " + ", ".join(ELIGIBILITY_KEYS))
                    elif k in ("add_cohorts", "remove_cohorts", "add_areas", "remove_areas"):
                        if not isinstance(v, list):
                            bad(kk, f"'{v}' is not a list", "a list of codes, e.g. [NEET_16_18]")
                            continue
                        pool_codes = case.cohort if "cohort" in k else geo
                        for code in v:
                            if not _known(code, pool_codes):
                                what = "cohort" if "cohort" in k else "area or footprint"
                                bad(kk, f"unknown {what} code '{code}'", f"a {what} code of the case")
                    elif k == "carry_forward":
                        if number(kk, v, 0.0, 100.0) and not float(v).is_integer():
                            bad(kk, f"{v} is not whole", "a whole number of years")
                    elif k == "match_rate":
                        number(kk, v, 0.0, 1.0)
                    elif k == "end":
                        if date_ok(kk, v):
                            end = _as_date(v)
                            if end < case.pot[pot].start:
                                bad(kk, f"{end} is before the pot's start {case.pot[pot].start}",
                                    "an end on or after the start")

    # need
    need = d.get("need")
    if need is not None:
        if not isinstance(need, list):
            bad("need", "not a list", "a list like - {cohort: LTU, multiply: 1.2}")
        else:
            geo = set(case.area) | set(case.footprint_members)
            for i, e in enumerate(need):
                key = f"need.{i}"
                if not isinstance(e, dict):
                    bad(key, f"'{e}' is not an entry", "{cohort: LTU, multiply: 1.2}")
                    continue
                for k in e:
                    if k not in NEED_KEYS:
                        bad(f"{key}.{k}", f"unknown key '{k}'", "one of " + ", ".join(NEED_KEYS))
                if "multiply" not in e:
                    bad(key, "no multiply", "a 'multiply:' factor")
                else:
                    number(f"{key}.multiply", e["multiply"])
                if "cohort" in e and not _known(e["cohort"], case.cohort):
                    bad(f"{key}.cohort", f"unknown cohort code '{e['cohort']}'", "a cohort code of the case")
                if "area" in e and not _known(e["area"], geo):
                    bad(f"{key}.area", f"unknown area code '{e['area']}'", "an area or footprint code of the case")
                if "year" in e:
                    year_ok(f"{key}.year", e["year"])

    # rules
    rules = d.get("rules")
    if rules is not None:
        if not isinstance(rules, list):
            bad("rules", "not a list", "a list of rules rows")
        else:
            geo = set(case.area) | set(case.footprint_members)
            for i, e in enumerate(rules):
                key = f"rules.{i}"
                if not isinstance(e, dict):
                    bad(key, f"'{e}' is not a rule", "{rule: min_share, pot_code: ..., value: 0.2}")
                    continue
                for k in e:
                    if k not in RULE_KEYS:
                        bad(f"{key}.{k}", f"unknown key '{k}'", "one of " + ", ".join(RULE_KEYS))
                kind = e.get("rule")
                if kind not in ("min_share", "max_share", "min_amount", "max_amount"):
                    bad(f"{key}.rule", f"'{kind}'", "min_share, max_share, min_amount or max_amount")
                if "value" not in e:
                    bad(key, "no value", "a 'value:'")
                elif number(f"{key}.value", e["value"]) and kind in ("min_share", "max_share") and e["value"] > 1:
                    bad(f"{key}.value", f"a share of {e['value']:g}", "a share from 0 to 1")
                if e.get("pot_code", ALL) != ALL:
                    pot_ok(f"{key}.pot_code", e["pot_code"])
                if not _known(e.get("area_code", ALL), geo | {ALL}):
                    bad(f"{key}.area_code", f"unknown area code '{e['area_code']}'", "an area or footprint code, or ALL")
                if not _known(e.get("cohort_code", ALL), set(case.cohort) | {ALL}):
                    bad(f"{key}.cohort_code", f"unknown cohort code '{e['cohort_code']}'", "a cohort code, or ALL")
                if "year" in e:
                    year_ok(f"{key}.year", e["year"], allow_all=True)
                if isinstance(e.get("note"), (list, dict)):
                    bad(f"{key}.note", "not a piece of text", "a note in words")

    if "objective" in d and d["objective"] not in ("outcomes", "value", "coverage"):
        bad("objective", f"'{d['objective']}'", "outcomes, value or coverage")
    if "equity_floor" in d:
        number("equity_floor", d["equity_floor"], 0.0, 1.0)

    lock = d.get("lock")
    if lock is not None:
        if case.provision is None:
            bad("lock", "locks need today's provision, but the case has no provision table (or one with no rows)",
                "a case with a provision table")
        elif not isinstance(lock, list):
            bad("lock", "not a list", "a list like - {pot_code: WHP}")
        else:
            for i, e in enumerate(lock):
                key = f"lock.{i}"
                if not isinstance(e, dict):
                    bad(key, f"'{e}' is not an entry", "{pot_code: WHP}")
                    continue
                for k in e:
                    if k not in LOCK_KEYS:
                        bad(f"{key}.{k}", f"unknown key '{k}'", "one of " + ", ".join(LOCK_KEYS))
                if "pot_code" in e:
                    pot_ok(f"{key}.pot_code", e["pot_code"])
                if "area_code" in e and not _known(e["area_code"], case.area):
                    bad(f"{key}.area_code", f"unknown area code '{e['area_code']}'", "an area code of the case")
                if "cohort_code" in e and not _known(e["cohort_code"], case.cohort):
                    bad(f"{key}.cohort_code", f"unknown cohort code '{e['cohort_code']}'", "a cohort code")
                if "year" in e:
                    year_ok(f"{key}.year", e["year"])
                if not any(_lock_match(pr, e) for pr in case.provision):
                    bad(key, "matches no provision row", "a lock that names provision the case has")
    return out


def _check_rule_scopes(sc: Scenario, case: Case) -> list[Problem]:
    """Every rule naming one pot that the pot, as the scenario leaves it, can never meet (run after :func:`_check`)."""
    from commissioning.inputs.validate import SCOPE_EXPECTED, rule_misses

    d = sc.data
    pots = _scenario_pots(case, d)
    out: list[Problem] = []
    for rule in case.rules:
        pot = pots.get(rule.pot_code)
        if pot is None or pot == case.pot[rule.pot_code]:
            continue  # ALL, or a pot the scenario leaves as it is (the case's validation judged it)
        for col, why in rule_misses(case, rule, pot):
            key = _change_key(d, rule.pot_code, col)
            out.append(Problem(_where(sc, key), None, key, f"{why}, so the rule at {rule.origin} could never apply",
                               f"a change that leaves pot {rule.pot_code} able to meet its rules"))
    for i, rule in enumerate(_scenario_rules(sc)):
        if rule.pot_code != ALL:
            for col, why in rule_misses(case, rule, pots[rule.pot_code]):
                key = f"rules.{i}.{col}"
                out.append(Problem(_where(sc, key), None, key, why, SCOPE_EXPECTED))
    return out


def _change_key(d: dict, pot: str, column: str) -> str:
    """The scenario key that changed ``pot`` so that a rule's ``column`` fails."""
    elig = (d.get("eligibility") or {}).get(pot) or {}
    sub = {"area_code": "remove_areas", "cohort_code": "remove_cohorts", "year": "end"}[column]
    if sub in elig:
        return f"eligibility.{pot}.{sub}"
    return f"budgets.{pot}" if column == "year" and pot in (d.get("budgets") or {}) else f"eligibility.{pot}"


def _known(value: Any, codes) -> bool:
    """Whether ``value`` is one of ``codes``; a list or mapping (never a code) is not."""
    try:
        return value in codes
    except TypeError:  # unhashable: YAML gave a list or a mapping where a code belongs
        return False


def _lock_match(pr, e: dict) -> bool:
    return all(str(getattr(pr, k)) == str(v) for k, v in e.items() if k in LOCK_KEYS)


def _as_date(v) -> date:
    if isinstance(v, datetime):  # YAML reads "2026-03-31 00:00" as a datetime; a pot ends on a day
        return v.date()
    return v if isinstance(v, date) else date.fromisoformat(str(v))


def _scenario_pots(case: Case, d: dict) -> dict[str, Pot]:
    """Each pot as the scenario leaves it: budgets' ``end`` first, then the eligibility overlays."""
    pots = {p.code: p for p in case.pots}
    for pot, entries in (d.get("budgets") or {}).items():
        for e in entries if isinstance(entries, list) else [entries]:
            if "end" in e:
                pots[pot] = pots[pot].model_copy(update={"end": _as_date(e["end"])})
    for pot, e in (d.get("eligibility") or {}).items():
        p = pots[pot]
        update: dict[str, Any] = {}
        if e.get("add_cohorts") or e.get("remove_cohorts"):
            current = list(case.resolve_cohorts(p.cohorts))
            current += [c for c in e.get("add_cohorts") or [] if c not in current]
            current = [c for c in current if c not in set(e.get("remove_cohorts") or [])]
            update["cohorts"] = tuple(current)
        if e.get("add_areas") or e.get("remove_areas"):
            if e.get("remove_areas"):
                current = list(case.resolve_areas(p.geography))
                current += [a for a in case.resolve_areas(tuple(e.get("add_areas") or ())) if a not in current]
                drop = set(case.resolve_areas(tuple(e["remove_areas"])))
                update["geography"] = tuple(a for a in current if a not in drop)
            else:
                update["geography"] = tuple(p.geography) + tuple(a for a in e["add_areas"] if a not in p.geography)
        if "carry_forward" in e:
            update["carry_forward"] = int(e["carry_forward"])
        if "match_rate" in e:
            update["match_rate"] = float(e["match_rate"])
        if "end" in e:
            update["end"] = _as_date(e["end"])
        pots[pot] = p.model_copy(update=update)
    return pots


def _scenario_rules(sc: Scenario) -> list[Rule]:
    """The scenario's ``rules`` entries as rules of the case, each naming its place."""
    return [Rule(rule=e["rule"], pot_code=str(e.get("pot_code", ALL)), area_code=str(e.get("area_code", ALL)),
                 cohort_code=str(e.get("cohort_code", ALL)), year=str(e.get("year", ALL)),
                 value=float(e["value"]), note=None if e.get("note") is None else str(e["note"]),
                 origin=f"{sc.source.name if sc.source else 'scenario'} rules[{i}]")
            for i, e in enumerate(sc.data.get("rules") or [])]


def _pool_codes(case: Case, d: dict) -> tuple[str, ...] | None:
    """The pool the scenario asks for, as :attr:`Case.pool` holds it (None: every poolable pot)."""
    pool = d.get("pool")
    if pool == "all" or pool is None:
        return case.pool
    if pool == "none":
        return ()
    return tuple(pool)


def changes_rules(case: Case, sc: Scenario) -> bool:
    """Whether ``sc`` runs ``case`` under rules other than today's (the decision every label reads).

    It does when a pot's eligibility, geography, years, carry-forward or match change
    (``eligibility``, or a budget's ``end``), when it adds ``rules`` or ``lock`` entries, or
    sets another ``objective`` or ``equity_floor``. Budget amounts and need change the money
    and the evidence, not the rules; and the ``pool`` changes what the *pooled* level may
    do, not the rules the aligned level keeps (the words these labels are for), so a
    scenario that only pools other pots still reads "aligned under today's rules".
    """
    d = sc.data
    return (_scenario_pots(case, d) != case.pot or bool(d.get("rules")) or bool(d.get("lock"))
            or any(k in d and d[k] != getattr(case.settings, k) for k in ("objective", "equity_floor")))


def pool_not_poolable(case: Case) -> list[str]:
    """The pots a scenario pools although the case marks them ``poolable = no`` (in case order)."""
    return [p.code for p in case.pots if case.pool is not None and p.code in case.pool and not p.poolable]


def run_label(case_name: str, scenario: str | None) -> str:
    """What was run: ``Case 'NAME'``, or ``Scenario 'X' on case 'NAME'`` when a scenario was applied."""
    return f"Scenario '{scenario}' on case '{case_name}'" if scenario is not None else f"Case '{case_name}'"


def rules_words(rules_changed: bool) -> str:
    """The rules the aligned level keeps, in words: today's, unless the scenario changed them.

    ``rules_changed`` is what :func:`changes_rules` decided (``Case.rules_changed``, or
    ``summary.json``'s ``rules_changed``).
    """
    return "the scenario's rules" if rules_changed else "today's rules"


def apply_scenario(case: Case, sc: Scenario) -> Case:
    """The case as the scenario describes it (the case itself is not changed)."""
    d = sc.data
    budgets = {(b.pot_code, b.year): b.amount for b in case.budgets}
    order = [(b.pot_code, b.year) for b in case.budgets]

    # An amount fills the years of the pot's life as the budgets entries so far leave it
    # (budgets come before eligibility in the overlay order).
    life = {p.code: p for p in case.pots}
    for pot, entries in (d.get("budgets") or {}).items():
        for e in entries if isinstance(entries, list) else [entries]:
            years = [str(e["year"])] if e.get("year") is not None else None
            if "end" in e:
                life[pot] = life[pot].model_copy(update={"end": _as_date(e["end"])})
            if "multiply" in e:
                for key in order:
                    if key[0] == pot and (years is None or key[1] in years):
                        budgets[key] = budgets[key] * float(e["multiply"])
            if "amount" in e:
                targets = years or [y for y in case.years if life[pot].in_life(y)]
                for y in targets:
                    if (pot, y) not in budgets:
                        order.append((pot, y))
                    budgets[(pot, y)] = float(e["amount"])

    # Budgets outside a pot's (new) life are dropped.
    pots = _scenario_pots(case, d)
    new_budgets = tuple(
        Budget(pot_code=k[0], year=k[1], amount=budgets[k]) for k in order if pots[k[0]].in_life(k[1])
    )

    need = list(case.need)
    for e in d.get("need") or []:
        areas = set(case.resolve_areas(e["area"])) if "area" in e else None
        f = float(e["multiply"])
        need = [
            n.model_copy(update={"people": n.people * f})
            if (("cohort" not in e or n.cohort_code == e["cohort"]) and (areas is None or n.area_code in areas)
                and ("year" not in e or n.year == str(e["year"])))
            else n
            for n in need
        ]

    settings = case.settings
    upd = {k: d[k] for k in ("objective", "equity_floor") if k in d}
    if upd:
        settings = settings.model_copy(update=upd)

    locks = tuple(pr for pr in (case.provision or ()) if any(_lock_match(pr, e) for e in d.get("lock") or []))
    return case.with_changes(pots=tuple(pots[p.code] for p in case.pots), budgets=new_budgets, need=tuple(need),
                             rules=case.rules + tuple(_scenario_rules(sc)), settings=settings,
                             scenario=str(d["name"]), pool=_pool_codes(case, d), locks=case.locks + locks,
                             rules_changed=case.rules_changed or changes_rules(case, sc))


def load_case_with_scenario(case_path: Path, scenario_path: Path | None) -> tuple[Case, list[Problem]]:
    """Validate a case and overlay a scenario on it; return the case and the warnings.

    The warnings are the case's, then the scenario's.
    """
    from commissioning.inputs.validate import validate_path

    v = validate_path(case_path)
    if not v.ok:
        raise CaseError(v.errors)
    case, warnings = v.case, list(v.warnings)
    if scenario_path is not None:
        sc = load_scenario(scenario_path, case)
        case = apply_scenario(case, sc)
        warnings += sc.warnings
    return case, warnings
