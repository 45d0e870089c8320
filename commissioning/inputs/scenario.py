"""Scenarios: small YAML files that overlay a case without editing it.

The format is the contract's ``scenario-format``: ``name`` (required), ``description``,
``budgets``, ``pool``, ``eligibility``, ``need``, ``rules``, ``objective``,
``equity_floor``, ``lock``, and the case's realism settings ``transition``,
``near_optimal``, ``programme_scale``, ``protect``, ``least_disruption`` — stated, key by
key, by the model
:class:`commissioning.inputs.settings.ScenarioFile`. Unknown keys, unknown codes and
impossible values are errors naming the file, the line and the key, all collected in one
pass.

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
* ``transition`` and ``protect`` replace the case's key by key: ``transition: {max_moved: 0.2}``
  keeps the case's ``max_change``; ``protect: {cohorts: {LTU: 0.9}}`` replaces the case's
  cohort floors (all of them: ``ALL`` is not kept unless restated) and keeps its area floors.
  A floor naming a code that is not a cohort (or area) of the case, nor ``ALL``, is an error
  at its key.
* A rule naming one pot must be one that pot can ever meet *as the scenario leaves it*
  (the test of :func:`commissioning.inputs.validate.scope_misses`): a scenario rule that fails is
  an error at its ``rules`` key and column; a case's ``rules`` row that an eligibility
  change (or a budget's ``end``) makes impossible is an error at that change's key.
* ``pool`` may name a pot marked ``poolable = no`` (a what-if): a warning says so, and
  ``summary.json`` lists such pots as ``pool_not_poolable`` (:func:`pool_not_poolable`).
* A scenario *changes the rules* (:func:`changes_rules`, the one place this is decided)
  when it changes a pot's eligibility, geography, years, carry-forward or match (through
  ``eligibility`` or a budget's ``end``), adds ``rules`` or ``lock`` entries, sets a
  different ``objective``, ``equity_floor``, ``near_optimal``, ``programme_scale`` or
  ``least_disruption``, or states ``transition`` or ``protect``. Pooling a different set of pots does not:
  the aligned level keeps today's rules whatever the pool. Budget amounts and need
  multipliers change the money and the evidence, not the rules. Every
  label reads it: a run is named ``Case 'NAME'`` without a scenario and ``Scenario 'X' on
  case 'NAME'`` with one (:func:`commissioning.case.labels.run_label`), and the aligned level is "today's rules"
  only when the scenario leaves them as they are (:func:`commissioning.case.labels.rules_words`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commissioning.errors import CaseError, Problem
from commissioning.case.model import ALL, Budget, Case, Pot, Rule
from commissioning.inputs.readers import digests, read_yaml_mapping
from commissioning.inputs.settings import (KeyProblem, ScenarioFile, as_day, follow, lock_keeps, validated,
                                           year_problem)


@dataclass
class Scenario:
    """A scenario file as read: its mapping (``data``), the key lines, and — once checked — the typed ``file``."""

    name: str
    description: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None
    lines: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # worth a look, but the scenario holds
    file: ScenarioFile | None = None  # what ``data`` says, typed (set by :func:`load_scenario`)


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
    sc.name = sc.file.name
    sc.description = sc.file.description
    not_poolable = pool_not_poolable(case.with_changes(pool=_pool_codes(case, sc.file)))
    if not_poolable:
        one = len(not_poolable) == 1
        sc.warnings.append(Problem(*_where(sc, "pool"), "pool",
                                   f"{', '.join(not_poolable)} {'is' if one else 'are'} marked poolable = no in the "
                                   f"case and pooled all the same: a what-if (today {'it' if one else 'they'} may "
                                   "not join a pool)", "", severity="warning", line=_line(sc, "pool")))
    return sc


def _where(sc: Scenario, key: str) -> tuple[str, None]:
    """The scenario file's name and no row: its line goes with the problem (:func:`_line`)."""
    return (sc.source.name if sc.source else "scenario"), None


def _line(sc: Scenario, key: str) -> int | None:
    """The line of ``key`` in the scenario file (or of its nearest enclosing key that has one)."""
    line = sc.lines.get(key)
    # Fall back to the nearest enclosing key that has a line.
    k = key
    while line is None and "." in k:
        k = k.rsplit(".", 1)[0]
        line = sc.lines.get(k)
    return line or None


def _check(sc: Scenario, case: Case) -> list[Problem]:
    """Every problem of the scenario file, in the report's order; sets ``sc.file`` when there is none.

    The model (:class:`ScenarioFile`) checks each key; :func:`_across_keys` what no one key can.
    """
    sc.file, found = validated(ScenarioFile, sc.data, case)
    found = sorted(found + _across_keys(sc.data, case), key=lambda p: p.rank)
    if found:
        sc.file = None
    return [Problem(*_where(sc, p.key), p.key, p.found, p.expected, line=_line(sc, p.key)) for p in found]


def _across_keys(d: dict, case: Case) -> list[KeyProblem]:
    """The checks that read more than one key (on the file as read, whatever else is wrong in it).

    A pot's budget entries may not both multiply and replace one year, nor replace a year
    outside the pot's life (each reported after its entry's other problems); an eligibility
    ``end`` may not come before the pot's start; a lock must match a provision row.
    """
    out: list[KeyProblem] = []

    def pot_ok(pot: Any) -> bool:
        return isinstance(pot, str) and pot in case.pot

    budgets = d.get("budgets")
    if isinstance(budgets, dict):
        for pot, entries in budgets.items():
            if not pot_ok(pot):
                continue
            seen: dict[str, str] = {}
            for i, e in enumerate(entries if isinstance(entries, list) else [entries]):
                year = e.get("year") if isinstance(e, dict) else None
                if not isinstance(e, dict) or (year is not None and year_problem(year, case)):
                    continue
                at = follow(ScenarioFile, d, ("budgets", pot, i))
                for y in [str(year)] if year is not None else list(case.years):
                    for k in ("multiply", "amount"):
                        if k in e:
                            if seen.get(y) not in (None, k):
                                out.append(at.problem(f"both multiply and amount for {pot} in {y}",
                                                      "either a multiplier or an amount for a pot and year",
                                                      key=k, rank=(2, 0)))
                            seen[y] = k
                if "amount" in e and year is not None and not case.pot[pot].in_life(str(year)):
                    out.append(at.problem(f"{year} is outside {pot}'s life", "a year within the pot's start-end",
                                          key="year", rank=(2, 0)))

    elig = d.get("eligibility")
    if isinstance(elig, dict):
        for pot, e in elig.items():
            end = as_day(e["end"]) if pot_ok(pot) and isinstance(e, dict) and "end" in e else None
            if end is not None and end < case.pot[pot].start:
                out.append(follow(ScenarioFile, d, ("eligibility", pot, "end")).problem(
                    f"{end} is before the pot's start {case.pot[pot].start}", "an end on or after the start"))

    lock = d.get("lock")
    if isinstance(lock, list) and case.provision is not None:
        for i, e in enumerate(lock):
            if isinstance(e, dict) and not any(lock_keeps(pr, e) for pr in case.provision):
                out.append(follow(ScenarioFile, d, ("lock", i)).problem(
                    "matches no provision row", "a lock that names provision the case has", rank=(2, 0)))
    return out


def _check_rule_scopes(sc: Scenario, case: Case) -> list[Problem]:
    """Every rule naming one pot that the pot, as the scenario leaves it, can never meet (run after :func:`_check`)."""
    from commissioning.inputs.validate import SCOPE_EXPECTED, rule_misses

    f = sc.file
    pots = _scenario_pots(case, f)
    out: list[Problem] = []
    for rule in case.rules:
        pot = pots.get(rule.pot_code)
        if pot is None or pot == case.pot[rule.pot_code]:
            continue  # ALL, or a pot the scenario leaves as it is (the case's validation judged it)
        for col, why in rule_misses(case, rule, pot):
            key = _change_key(f, rule.pot_code, col)
            out.append(Problem(*_where(sc, key), key, f"{why}, so the rule at {rule.origin} could never apply",
                               f"a change that leaves pot {rule.pot_code} able to meet its rules", line=_line(sc, key)))
    for i, rule in enumerate(_scenario_rules(sc)):
        if rule.pot_code != ALL:
            for col, why in rule_misses(case, rule, pots[rule.pot_code]):
                key = f"rules.{i}.{col}"
                out.append(Problem(*_where(sc, key), key, why, SCOPE_EXPECTED, line=_line(sc, key)))
    return out


def _change_key(f: ScenarioFile, pot: str, column: str) -> str:
    """The scenario key that changed ``pot`` so that a rule's ``column`` fails."""
    elig = (f.eligibility or {}).get(pot)
    sub = {"area_code": "remove_areas", "cohort_code": "remove_cohorts", "year": "end"}[column]
    if elig is not None and getattr(elig, sub) is not None:
        return f"eligibility.{pot}.{sub}"
    return f"budgets.{pot}" if column == "year" and pot in (f.budgets or {}) else f"eligibility.{pot}"


def _scenario_pots(case: Case, f: ScenarioFile) -> dict[str, Pot]:
    """Each pot as the scenario leaves it: budgets' ``end`` first, then the eligibility overlays."""
    pots = {p.code: p for p in case.pots}
    for pot, entries in (f.budgets or {}).items():
        for e in entries:
            if e.end is not None:
                pots[pot] = pots[pot].model_copy(update={"end": e.end})
    for pot, e in (f.eligibility or {}).items():
        p = pots[pot]
        update: dict[str, Any] = {}
        if e.add_cohorts or e.remove_cohorts:
            current = list(case.resolve_cohorts(p.cohorts))
            current += [c for c in e.add_cohorts or [] if c not in current]
            current = [c for c in current if c not in set(e.remove_cohorts or [])]
            update["cohorts"] = tuple(current)
        if e.add_areas or e.remove_areas:
            if e.remove_areas:
                current = list(case.resolve_areas(p.geography))
                current += [a for a in case.resolve_areas(tuple(e.add_areas or ())) if a not in current]
                drop = set(case.resolve_areas(tuple(e.remove_areas)))
                update["geography"] = tuple(a for a in current if a not in drop)
            else:
                update["geography"] = tuple(p.geography) + tuple(a for a in e.add_areas if a not in p.geography)
        if e.carry_forward is not None:
            update["carry_forward"] = int(e.carry_forward)
        if e.match_rate is not None:
            update["match_rate"] = e.match_rate
        if e.end is not None:
            update["end"] = e.end
        pots[pot] = p.model_copy(update=update)
    return pots


def _scenario_rules(sc: Scenario) -> list[Rule]:
    """The scenario's ``rules`` entries as rules of the case, each naming its place."""
    return [Rule(rule=r.rule, pot_code=r.pot_code, area_code=r.area_code, cohort_code=r.cohort_code, year=r.year,
                 value=r.value, note=r.note, origin=f"{sc.source.name if sc.source else 'scenario'} rules[{i}]")
            for i, r in enumerate(sc.file.rules or [])]


def _pool_codes(case: Case, f: ScenarioFile) -> tuple[str, ...] | None:
    """The pool the scenario asks for, as :attr:`Case.pool` holds it (None: every poolable pot)."""
    return case.pool if f.pool is None else tuple(f.pool)


def changes_rules(case: Case, sc: Scenario) -> bool:
    """Whether ``sc`` runs ``case`` under rules other than today's (the decision every label reads).

    It does when a pot's eligibility, geography, years, carry-forward or match change
    (``eligibility``, or a budget's ``end``), when it adds ``rules`` or ``lock`` entries, or
    sets another ``objective``, ``equity_floor``, ``near_optimal``, ``programme_scale`` or
    ``least_disruption``, or states ``transition`` or ``protect``. Budget amounts and need change the money
    and the evidence, not the rules; and the ``pool`` changes what the *pooled* level may
    do, not the rules the aligned level keeps (the words these labels are for), so a
    scenario that only pools other pots still reads "aligned under today's rules".
    """
    f = sc.file
    return (_scenario_pots(case, f) != case.pot or bool(f.rules) or bool(f.lock)
            or any(getattr(f, k) is not None and getattr(f, k) != getattr(case.settings, k)
                   for k in ("objective", "equity_floor", "near_optimal", "programme_scale", "least_disruption"))
            or f.transition is not None or f.protect is not None)


def pool_not_poolable(case: Case) -> list[str]:
    """The pots a scenario pools although the case marks them ``poolable = no`` (in case order)."""
    return [p.code for p in case.pots if case.pool is not None and p.code in case.pool and not p.poolable]


def apply_scenario(case: Case, sc: Scenario) -> Case:
    """The case as the scenario describes it (the case itself is not changed)."""
    f = sc.file
    budgets = {(b.pot_code, b.year): b.amount for b in case.budgets}
    order = [(b.pot_code, b.year) for b in case.budgets]

    # An amount fills the years of the pot's life as the budgets entries so far leave it
    # (budgets come before eligibility in the overlay order).
    life = {p.code: p for p in case.pots}
    for pot, entries in (f.budgets or {}).items():
        for e in entries:
            years = [e.year] if e.year is not None else None
            if e.end is not None:
                life[pot] = life[pot].model_copy(update={"end": e.end})
            if e.multiply is not None:
                for key in order:
                    if key[0] == pot and (years is None or key[1] in years):
                        budgets[key] = budgets[key] * e.multiply
            if e.amount is not None:
                targets = years or [y for y in case.years if life[pot].in_life(y)]
                for y in targets:
                    if (pot, y) not in budgets:
                        order.append((pot, y))
                    budgets[(pot, y)] = e.amount

    # Budgets outside a pot's (new) life are dropped.
    pots = _scenario_pots(case, f)
    new_budgets = tuple(
        Budget(pot_code=k[0], year=k[1], amount=budgets[k]) for k in order if pots[k[0]].in_life(k[1])
    )

    need = list(case.need)
    for e in f.need or []:
        areas = set(case.resolve_areas(e.area)) if e.area is not None else None
        need = [
            n.model_copy(update={"people": n.people * e.multiply})
            if ((e.cohort is None or n.cohort_code == e.cohort) and (areas is None or n.area_code in areas)
                and (e.year is None or n.year == e.year))
            else n
            for n in need
        ]

    settings = case.settings
    # The numbers as the file writes them (an equity_floor of 1 stays an int, as the case's
    # fingerprint has always hashed it).
    upd = {k: sc.data[k] for k in ("objective", "equity_floor") if getattr(f, k) is not None}
    if f.objective is not None:
        upd["objective_why"] = None  # stated by the scenario, not the case's default
    upd.update({k: getattr(f, k) for k in ("near_optimal", "programme_scale", "least_disruption")
                if getattr(f, k) is not None})
    for k in ("transition", "protect"):  # each key it states replaces the case's, the others stay
        if getattr(f, k) is not None:
            upd[k] = getattr(settings, k).model_copy(update=getattr(f, k).model_dump(exclude_none=True))
    if upd:
        settings = settings.model_copy(update=upd)

    locks = tuple(pr for pr in (case.provision or ()) if any(lock.keeps(pr) for lock in f.lock or []))
    return case.with_changes(pots=tuple(pots[p.code] for p in case.pots), budgets=new_budgets, need=tuple(need),
                             rules=case.rules + tuple(_scenario_rules(sc)), settings=settings,
                             scenario=f.name, pool=_pool_codes(case, f), locks=case.locks + locks,
                             rules_changed=case.rules_changed or changes_rules(case, sc),
                             sources=case.sources + (digests([sc.source]) if sc.source else ()))


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
