"""What a scenario file and a case's settings may hold: one pydantic model each.

:class:`ScenarioFile` is a scenario (``--scenario FILE.yaml``, the contract's
``scenario-format``; :mod:`commissioning.inputs.scenario` reads and applies it) and
:class:`CaseSettings` the settings of a case (``case.yaml``, or a workbook's ``case``
sheet; :mod:`commissioning.inputs.validate` reads them). The models are the one statement
of the keys: each forbids any other key, and each field's docstring is the documentation
of its key.

Conventions of the models:

* A key left out holds ``None`` (or the default it states). A key written with no value
  (``multiply: ~``) is held to its type like any other value — "'None' is not a number" —
  except where the field says ``None`` is allowed. (Hence ``multiply: Multiplier = None``:
  pydantic never checks a default, only what the file holds.)
* A scenario is checked against the case it overlays: its validators read the case from
  the validation context, ``{"case": case}`` (as :func:`validated` passes it).
* Every check raises the words the command line has always reported (what was found,
  what was expected), never pydantic's. :func:`validated` turns a ``ValidationError``
  into :class:`KeyProblem` records — the key as ``budgets.WORK.0.multiply``, found,
  expected — in the order the problems have always been reported: in each mapping its
  unknown keys first, then its keys in :attr:`YamlMapping.report_order` (or the file's order,
  :attr:`YamlMapping.in_file_order`), mappings of pots and lists in the file's order. A key
  that is itself wrong (an unknown pot) hides the problems of its value.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, NoReturn, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      ValidationInfo, field_validator, model_validator)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from commissioning.case import years as fy
from commissioning.case.model import ALL, Case, Provision
from commissioning.inputs import schema as S
from commissioning.inputs.cells import _Bad, _clip, _empty, _text, parse_cell

_PROBLEM = "commissioning_problem"  # the pydantic error type of every check below


def _fail(*problems: tuple[str, str]) -> NoReturn:
    """Raise what one check found, as (found, expected) pairs, all at the key being checked."""
    raise PydanticCustomError(_PROBLEM, "{problems}", {"problems": problems})


def _case(info: ValidationInfo) -> Case:
    return info.context["case"]


def _known(value: Any, codes: Collection) -> bool:
    """Whether ``value`` is one of ``codes``; a list or mapping (never a code) is not."""
    try:
        return value in codes
    except TypeError:  # unhashable: YAML gave a list or a mapping where a code belongs
        return False


# ---- checks of one value ------------------------------------------------------------------------
def year_problem(value: Any, case: Case) -> tuple[str, str] | None:
    """What is wrong with ``value`` as a year of ``case`` (found, expected), or None."""
    try:
        fy.parse_year(str(value))
    except ValueError:
        return f"'{value}' is not a financial year", "a year written like 2025-26"
    if str(value) not in case.years:
        return f"{value} is not a year of the case", "one of " + ", ".join(case.years)
    return None


def as_day(value: Any) -> date | None:
    """``value`` as a day (a YAML date, a datetime's day, or ISO text), or None if it is none."""
    if isinstance(value, datetime):  # YAML reads "2026-03-31 00:00" as a datetime; a pot ends on a day
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _year(value: Any, info: ValidationInfo) -> str:
    problem = year_problem(value, _case(info))
    if problem:
        _fail(problem)
    return str(value)


def _year_or_all(value: Any, info: ValidationInfo) -> str:
    return ALL if value == ALL else _year(value, info)


def _day(value: Any) -> date:
    day = as_day(value)
    if day is None:
        _fail((f"'{value}' is not a date", "an ISO date like 2026-03-31"))
    return day


def _pot(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or value not in _case(info).pot:
        _fail((f"unknown pot code '{value}'", "a pot code of the case"))
    return value


def _pot_or_all(value: Any, info: ValidationInfo) -> str:
    return ALL if value == ALL else _pot(value, info)


def _cohorts(case: Case) -> Collection[str]:
    return case.cohort


def _areas(case: Case) -> Collection[str]:
    return case.area


def _geography(case: Case) -> Collection[str]:
    return set(case.area) | set(case.footprint_members)


def _code(what: str, codes, expected: str, allow_all: bool = False):
    """A check that a value is one of the case's ``codes(case)`` (or ``ALL``): 'unknown WHAT code'."""
    def check(value: Any, info: ValidationInfo) -> str:
        if not (allow_all and value == ALL) and not _known(value, codes(_case(info))):
            _fail((f"unknown {what} code '{value}'", expected))
        return value
    return BeforeValidator(check)


def _codes(what: str, codes):
    """A check that a value is a list of the case's ``codes(case)``; every unknown one is named."""
    def check(value: Any, info: ValidationInfo) -> list:
        if not isinstance(value, list):
            _fail((f"'{value}' is not a list", "a list of codes, e.g. [NEET_16_18]"))
        known = codes(_case(info))
        unknown = [(f"unknown {what} code '{c}'", f"a {what} code of the case") for c in value if not _known(c, known)]
        if unknown:
            _fail(*unknown)
        return value
    return BeforeValidator(check)


def _a(kind: type, found: str, expected: str):
    """A check that a value is a ``kind`` (dict or list); ``found`` may show it as ``{}``."""
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            _fail((found.format(value), expected))
        return value
    return BeforeValidator(check)


def _whole_years(value: float) -> float:
    if not float(value).is_integer():
        _fail((f"{value} is not whole", "a whole number of years"))
    return value


# Numbers: YAML numbers only (not text), finite, within bounds; problems in the words of
# :func:`_number_found`, which reads the bounds from here.
_NUMBER: dict[str, Any] = {"strict": True, "allow_inf_nan": False}
Multiplier = Annotated[float, Field(ge=0, **_NUMBER)]  # also amounts in pounds and a rule's value
Share = Annotated[float, Field(ge=0, le=1, **_NUMBER)]
WholeYears = Annotated[float, Field(ge=0, le=100, **_NUMBER), AfterValidator(_whole_years)]

PotCode = Annotated[str, BeforeValidator(_pot)]
CaseYear = Annotated[str, BeforeValidator(_year)]
Day = Annotated[date, BeforeValidator(_day)]
Objective = Literal[S.OBJECTIVES]
RuleKind = Literal[S.RULE_KINDS]


# ---- the models ------------------------------------------------------------------------------
class YamlMapping(BaseModel):
    """A YAML mapping with a fixed set of keys (the fields), and how its problems are reported."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    #: Found and expected when the value is not a mapping at all (``{}`` shows it); None: always one.
    not_a_mapping: ClassVar[tuple[str, str] | None] = None
    #: The order its keys' problems are reported in (empty: the order of the fields).
    report_order: ClassVar[tuple[str, ...]] = ()
    #: Report its keys' problems in the file's order, unknown keys among them.
    in_file_order: ClassVar[bool] = False
    #: Found and expected for a required key left out (reported at the mapping, not the key).
    if_missing: ClassVar[dict[str, tuple[str, str]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, data: Any) -> Any:
        if cls.not_a_mapping is not None and not isinstance(data, dict):
            _fail((cls.not_a_mapping[0].format(data), cls.not_a_mapping[1]))
        return data

    @classmethod
    def unknown_key(cls, key: Any) -> str:
        """What is found when ``key`` is not one of the fields."""
        return f"unknown key '{key}'"

    @classmethod
    def rank(cls, key: Any, data: Any) -> tuple[int, int]:
        """Where a problem at ``key`` of ``data`` (this mapping, as read) comes in the report."""
        keys = list(data) if isinstance(data, dict) else []
        if cls.in_file_order or key not in cls.model_fields:
            return 0, keys.index(key) if key in keys else len(keys)
        return 1, (cls.report_order or tuple(cls.model_fields)).index(key)


class BudgetChange(YamlMapping):
    """One change to a pot's budgets; a pot takes one of these or a list of them."""

    not_a_mapping = ("'{}' is not an entry", "{multiply: 0.9} or {year: 2026-27, amount: 1000000}")
    report_order = ("year", "multiply", "amount", "end")

    multiply: Multiplier = None
    """Scale the pot's budgets (every year, or the one ``year``) by this factor, 0 or more."""
    amount: Multiplier = None
    """Replace the pot's budgets (every year of its life, or the one ``year``) by this amount in pounds; a
    year with no budget row gains one if it is within the pot's life."""
    end: Day = None
    """End the pot early on this date (ISO, like 2026-03-31): its budgets for years after the new end are
    dropped."""
    year: CaseYear | None = None
    """The one financial year of the case (like 2026-27) that ``multiply`` or ``amount`` changes; left out
    (or empty), every year."""

    @model_validator(mode="before")
    @classmethod
    def _year_first(cls, data: Any, info: ValidationInfo) -> Any:
        """A year that is not one of the case's is the entry's one problem: its changes go unread."""
        if isinstance(data, dict) and data.get("year") is not None and year_problem(data["year"], _case(info)):
            return {k: v for k, v in data.items() if k not in ("multiply", "amount", "end")}
        return data


class EligibilityChange(YamlMapping):
    """Changes to what one pot may fund, and for how long."""

    not_a_mapping = ("'{}' is not a mapping", "{add_cohorts: [...], carry_forward: 1, ...}")
    in_file_order = True

    add_cohorts: Annotated[list[str], _codes("cohort", _cohorts)] = None
    """Cohort codes the pot may fund as well."""
    remove_cohorts: Annotated[list[str], _codes("cohort", _cohorts)] = None
    """Cohort codes the pot may no longer fund."""
    add_areas: Annotated[list[str], _codes("area or footprint", _geography)] = None
    """Area or footprint codes the pot may fund as well."""
    remove_areas: Annotated[list[str], _codes("area or footprint", _geography)] = None
    """Area or footprint codes the pot may no longer fund; on a pot funding ``ALL`` or a footprint, the
    explicit list of the remaining areas is left."""
    carry_forward: WholeYears = None
    """Whole years unspent money may roll forward (0 = use it or lose it)."""
    match_rate: Share = None
    """0-1: each £1 spent needs £match_rate from can_match pots in the same area and year."""
    end: Day = None
    """The pot's new last day (ISO date), on or after its start: it may extend the pot as well as shorten
    it; budgets outside the new life are dropped."""


class NeedChange(YamlMapping):
    """A multiplier on the evidenced need, for a cohort, an area and/or a year (all of it by default)."""

    not_a_mapping = ("'{}' is not an entry", "{cohort: LTU, multiply: 1.2}")
    report_order = ("multiply", "cohort", "area", "year")
    if_missing = {"multiply": ("no multiply", "a 'multiply:' factor")}

    cohort: Annotated[str, _code("cohort", _cohorts, "a cohort code of the case")] = None
    """Only the need of this cohort."""
    area: Annotated[str, _code("area", _geography, "an area or footprint code of the case")] = None
    """Only the need in this area, or in the areas of this footprint."""
    year: CaseYear = None
    """Only the need of this financial year of the case."""
    multiply: Multiplier
    """The factor the need is multiplied by, 0 or more (required). Multipliers apply in order."""


def _note(value: Any) -> str | None:
    if isinstance(value, (list, dict)):
        _fail(("not a piece of text", "a note in words"))
    return None if value is None else str(value)


class ScenarioRule(YamlMapping):
    """One more row of the case's ``rules`` table, with the same columns."""

    not_a_mapping = ("'{}' is not a rule", "{rule: min_share, pot_code: ..., value: 0.2}")
    report_order = ("rule", "value", "pot_code", "area_code", "cohort_code", "year", "note")
    if_missing = {"value": ("no value", "a 'value:'")}

    rule: RuleKind = Field(None, validate_default=True)
    """min_share or max_share (of the pot's money that year), min_amount or max_amount (£)."""
    pot_code: Annotated[str, BeforeValidator(_pot_or_all)] = ALL
    """A pot code, or ALL. A rule naming one pot must be one the pot can meet as the scenario leaves it."""
    area_code: Annotated[str, _code("area", _geography, "an area or footprint code, or ALL", allow_all=True)] = ALL
    """An area or footprint code, or ALL."""
    cohort_code: Annotated[str, _code("cohort", _cohorts, "a cohort code, or ALL", allow_all=True)] = ALL
    """A cohort code, or ALL."""
    year: Annotated[str, BeforeValidator(_year_or_all)] = ALL
    """A financial year of the case, or ALL (each year)."""
    value: Multiplier
    """The share (0-1) or the amount (£) (required)."""
    note: Annotated[str | None, BeforeValidator(_note)] = None
    """Optional text carried into outputs."""

    @field_validator("value")
    @classmethod
    def _a_share(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("rule") in ("min_share", "max_share") and value > 1:
            _fail((f"a share of {value:g}", "a share from 0 to 1"))
        return value


class ScenarioLock(YamlMapping):
    """Today's provision to keep exactly as it is: every provision row matching the keys given."""

    not_a_mapping = ("'{}' is not an entry", "{pot_code: WHP}")

    pot_code: PotCode = None
    """Only provision from this pot."""
    area_code: Annotated[str, _code("area", _areas, "an area code of the case")] = None
    """Only provision in this area."""
    cohort_code: Annotated[str, _code("cohort", _cohorts, "a cohort code")] = None
    """Only provision for this cohort."""
    year: CaseYear = None
    """Only provision in this financial year of the case."""

    def keeps(self, row: Provision) -> bool:
        """Whether this lock keeps the provision ``row``."""
        return lock_keeps(row, self.model_dump(exclude_none=True))


def lock_keeps(row: Provision, lock: dict) -> bool:
    """Whether a lock's keys as read (``lock``, a mapping) all match the provision ``row``."""
    return all(str(getattr(row, k)) == str(v) for k, v in lock.items() if k in ScenarioLock.model_fields)


def _name(value: Any) -> str:
    if not value or not isinstance(value, (str, int, float)):
        _fail(("no name", "a 'name:' for the scenario (required)"))
    return str(value)


def _pool(value: Any) -> list | None:
    if value is None or value == "all":
        return None
    if value == "none":
        return []
    if not isinstance(value, list):
        _fail((f"'{value}'", "a list of pot codes, or all, or none"))
    return value


def _lockable(value: Any, info: ValidationInfo) -> Any:
    if _case(info).provision is None:
        _fail(("locks need today's provision, but the case has no provision table (or one with no rows)",
               "a case with a provision table"))
    if not isinstance(value, list):
        _fail(("not a list", "a list like - {pot_code: WHP}"))
    return value


def _yes_no(value: Any) -> bool:
    """A YAML boolean (``yes``, ``no``, ``true``, ``false``), or the text yes or no in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return value.strip().lower() == "yes"
    _fail((f"'{_clip(value)}'", "yes or no"))


class ScenarioFile(YamlMapping):
    """A scenario: a small YAML file that overlays a case without editing it.

    Validated with the case as context (``{"case": case}``): codes and years must be the
    case's. Overlay order: budgets, eligibility, need, rules, settings, pool, locks.
    """

    name: Annotated[str, BeforeValidator(_name)] = Field(None, validate_default=True)
    """Name of the scenario, used in outputs (required)."""
    description: Annotated[str, BeforeValidator(lambda v: str(v or ""))] = ""
    """What the scenario asks, in words."""
    budgets: Annotated[dict[PotCode, Annotated[list[BudgetChange], BeforeValidator(
        lambda v: v if isinstance(v, list) else [v])]],
        _a(dict, "not a mapping of pots", "POT: {multiply: 0.9}")] | None = None
    """Per pot code, one change to its budgets or a list of them, applied in order."""
    pool: Annotated[list[PotCode] | None, BeforeValidator(_pool)] = None
    """The pots that form the pool: a list of pot codes, ``none``, or ``all`` (as the case has it: every
    poolable pot; read as left out). A pot marked ``poolable = no`` may be named (a what-if, with a
    warning)."""
    eligibility: Annotated[dict[PotCode, EligibilityChange],
                           _a(dict, "not a mapping of pots", "POT: {add_cohorts: [...]}")] | None = None
    """Per pot code, changes to what it may fund and for how long."""
    need: Annotated[list[NeedChange],
                    _a(list, "not a list", "a list like - {cohort: LTU, multiply: 1.2}")] | None = None
    """Multipliers on the evidenced need, applied in order."""
    rules: Annotated[list[ScenarioRule], _a(list, "not a list", "a list of rules rows")] | None = None
    """Rules added to the case's."""
    objective: Annotated[Objective, AfterValidator(_valued_objective)] = None
    """outcomes, value, fiscal, economic, social or coverage, in place of the case's (fiscal, economic and
    social need a case with an outcomes table)."""
    equity_floor: Share = None
    """0-1, in place of the case's: each area's share of need served is at least this times the overall
    share."""
    lock: Annotated[list[ScenarioLock], BeforeValidator(_lockable)] | None = None
    """Today's provision kept exactly as it is (the case needs a provision table)."""
    transition: "TransitionSettings" = None
    """Limits on change from today (max_change, max_moved), in place of the case's."""
    near_optimal: Share = None
    """0-1, in place of the case's: the tolerance on the optimum for least disruption and alternatives."""
    programme_scale: Annotated[float, Field(ge=1, **_NUMBER)] = None
    """1 or more, in place of the case's: the growth a programme bought by the pool may have."""
    protect: "ProtectSettings" = None
    """Floors under today's participants (cohorts, areas), in place of the case's."""
    least_disruption: Annotated[bool, BeforeValidator(_yes_no)] = None
    """yes or no (true or false), in place of the case's: among equally good plans, the one closest to
    today's provision."""


def _cell(column: S.Column, value: Any) -> Any:
    try:
        return parse_cell(column, value)
    except _Bad as b:
        _fail((b.found, b.expected))


def _settings_text(value: Any) -> str:
    if isinstance(value, (list, dict)):
        _fail((f"a {'list' if isinstance(value, list) else 'mapping'}", "one piece of text"))
    return _text(value)


def _settings_objective(value: Any) -> str:
    if str(value).strip() not in S.OBJECTIVES:
        _fail((f"'{_clip(value)}'", ", ".join(S.OBJECTIVES[:-1]) + " or " + S.OBJECTIVES[-1]))
    return str(value).strip()


def _settings_term(value: Any) -> int:
    n = _cell(S.Column("term_years", S.WHOLE), value)
    if n < 1:
        _fail((f"{n}", "a whole number of years, 1 or more"))
    return n


def _settings_parties(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [p.strip() for p in value.split(";") if p.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, (str, int, float)) for p in value):
        _fail(("not a list of names", "a list of party names"))
    return tuple(_text(p) for p in value)


def _settings_share(name: str):
    return lambda v: _cell(S.Column(name, S.SHARE), v)


def _settings_scale(value: Any) -> float:
    n = _cell(S.Column("programme_scale", S.NUMBER), value)
    if n < 1:
        _fail((f"{n:g} is below 1", "a number, 1 or more"))
    return float(n)


def _settings_change(value: Any) -> float:
    return float(_cell(S.Column("max_change", S.NUMBER), value))


def _settings_yesno(value: Any) -> bool:
    return bool(_cell(S.Column("least_disruption", S.YESNO), value))


def _shares(value: Any) -> dict[str, float]:
    """A floor as written: one share for every code, or per code (``ALL`` for the rest).

    In YAML a number or a mapping; in a workbook cell ``0.5`` or ``LTU: 0.9; ALL: 0.5``."""
    if isinstance(value, str) and ":" in value:
        pairs = [part.rsplit(":", 1) for part in value.split(";") if part.strip()]  # a code may hold a colon
        if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
            _fail((f"'{_clip(value)}'", "a share per code like LTU: 0.9; ALL: 0.5"))
        value = {k.strip(): v.strip() for k, v in pairs}
    if isinstance(value, dict):
        out = {}
        for code, share in value.items():
            try:
                out[str(code)] = float(parse_cell(S.Column(str(code), S.SHARE), share))
            except _Bad as b:
                _fail((f"{code}: {b.found}", b.expected))
        return out
    try:
        return {ALL: float(parse_cell(S.Column("share", S.SHARE), value))}
    except _Bad as b:
        _fail((b.found, "a share from 0 to 1, or per code like {LTU: 0.9, ALL: 0.5}"))


def _valued_objective(value: str, info: ValidationInfo) -> str:
    """A scenario's ``fiscal``, ``economic`` or ``social`` objective needs a case with an outcomes table."""
    case = (info.context or {}).get("case")
    if case is not None and value in ("fiscal", "economic", "social") and not case.outcomes:
        _fail((value, "outcomes, value or coverage (fiscal, economic and social need an outcomes table)"))
    return value


class TransitionSettings(YamlMapping):
    """``transition:`` — how far a level may move from today's provision."""

    not_a_mapping = ("'{}' is not a mapping", "max_change: 0.25 and/or max_moved: 0.3")

    max_change: Annotated[float, BeforeValidator(_settings_change)] = None
    """A share, 0 or more: each area's and each cohort's funding stays within ± this share of today's, each
    year (an area or cohort with no funding today is not limited)."""
    max_moved: Annotated[float, BeforeValidator(_settings_share("max_moved"))] = None
    """0-1: at most this share of today's money moves over the term (money moved: Σ max(0, today − plan) over
    pot, area, cohort and year)."""


_PROTECTED = {"cohorts": "cohort", "areas": "area"}


def protect_problems(kind: str, shares: dict[str, float], codes: Collection[str]) -> list[tuple[str, str]]:
    """(found, expected) for each code of a ``protect`` floor (``kind`` ``cohorts`` or ``areas``) that
    is neither one of ``codes`` (the case's cohorts or areas) nor ``ALL``."""
    what = _PROTECTED[kind]
    return [(f"unknown {what} code '{_clip(code)}'", f"a{'n' if what == 'area' else ''} {what} code of the case, "
                                                     "or ALL")
            for code in shares if code != ALL and not _known(code, codes)]


def _protected(kind: str):
    """The check that a floor names only the case's codes — when validated with a case (a scenario's)."""
    def check(value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        case = (info.context or {}).get("case")
        if case is not None:
            problems = protect_problems(kind, value, case.cohort if kind == "cohorts" else case.area)
            if problems:
                _fail(*problems)
        return value
    return AfterValidator(check)


class ProtectSettings(YamlMapping):
    """``protect:`` — floors under today's participants, per cohort and per area, each year."""

    not_a_mapping = ("'{}' is not a mapping", "cohorts: 0.5 and/or areas: 0.8")

    cohorts: Annotated[dict[str, float], BeforeValidator(_shares), _protected("cohorts")] = None
    """Every cohort keeps at least this share of today's participants each year (0.5), or a share per cohort
    code with ALL for the rest ({LTU: 0.9, ALL: 0.5}; in a workbook cell LTU: 0.9; ALL: 0.5)."""
    areas: Annotated[dict[str, float], BeforeValidator(_shares), _protected("areas")] = None
    """Every area keeps at least this share of today's participants each year (0.8), or a share per area
    code with ALL for the rest ({E08000035: 0.9, ALL: 0.8}; in a workbook cell E08000035: 0.9; ALL: 0.8)."""


class SettlementSettings(YamlMapping):
    """``settlement:`` — the integrated settlement's rules (commissioning.case.settlement)."""

    not_a_mapping = ("'{}' is not a mapping", "theme_flex: 0.10")

    theme_flex: Annotated[float, BeforeValidator(_settings_share("theme_flex"))] = None
    """0-1 (default 0.10): at most this share of each theme's settlement money in a year (its pots that are
    not ring-fenced) may be spent on another theme."""


def _settings_vintage(value: Any) -> date:
    """``gss_vintage``: a date (2025-05-01, or an Excel date cell), or a calendar year (2025: its 31 December)."""
    if isinstance(value, bool):
        _fail((f"'{_clip(value)}'", "a date like 2025-05-01, or a year like 2025"))
    text = str(value).strip()
    if text.isdigit() and len(text) == 4:  # a year; a larger whole number is an Excel date serial
        year = int(text)
        if not 1990 <= year <= 2100:
            _fail((text, "a date like 2025-05-01, or a year like 2025"))
        return date(year, 12, 31)
    return _cell(S.Column("gss_vintage", S.DATE), value)


# The settings that are mappings: in a workbook's case sheet, one dotted key per key of theirs.
NESTED_SETTINGS: dict[str, type[YamlMapping]] = {"transition": TransitionSettings, "protect": ProtectSettings,
                                                 "settlement": SettlementSettings}


class CaseSettings(YamlMapping):
    """The settings of a case: ``case.yaml`` in a folder, the ``case`` sheet of a workbook.

    An empty value (``key:`` with nothing after it, a blank cell) leaves a setting at its
    default. Values are read as cells are (:func:`commissioning.inputs.validate.parse_cell`).
    """

    in_file_order = True

    name: Annotated[str, BeforeValidator(_settings_text)] = None
    """Name of the case, used in outputs."""
    objective: Annotated[Objective, BeforeValidator(_settings_objective)] = None
    """outcomes, value, fiscal, economic, social or coverage (default: value when the case has an outcomes table with values, otherwise outcomes)."""
    equity_floor: Annotated[float, BeforeValidator(lambda v: _cell(S.Column("equity_floor", S.SHARE), v))] = None
    """0-1 (default 0): each area's share of need served is at least this times the overall share."""
    parties: Annotated[tuple[str, ...], BeforeValidator(_settings_parties)] = None
    """The parties to an agreement (a list, or ';'-separated in the workbook)."""
    lead_body: Annotated[str, BeforeValidator(_settings_text)] = None
    """The accountable body leading the agreement."""
    term_years: Annotated[int, BeforeValidator(_settings_term)] = None
    """Length of the agreement in years (default 5)."""
    start_year: Annotated[str, BeforeValidator(lambda v: _cell(S.Column("start_year", S.YEAR), v))] = None
    """First financial year of the agreement, e.g. 2025-26."""
    transition: TransitionSettings = None
    """Limits on moving from today's provision: max_change (per area and cohort, each year) and max_moved."""
    near_optimal: Annotated[float, BeforeValidator(_settings_share("near_optimal"))] = None
    """0-1 (default 0): least disruption and alternatives may take plans within this share of the optimum."""
    programme_scale: Annotated[float, BeforeValidator(_settings_scale)] = None
    """1 or more (default 2): a programme the pool buys serves at most this multiple of what its budget buys."""
    protect: ProtectSettings = None
    """Floors under today's participants, each year: cohorts and areas, a share each or per code (ALL: the rest)."""
    least_disruption: Annotated[bool, BeforeValidator(_settings_yesno)] = None
    """yes (default) or no: among equally good plans, take the one moving the least money from today's."""
    package_share: Annotated[float, BeforeValidator(_settings_share("package_share"))] = None
    """0-1 (default 0.05): the asks' package stops when the next ask would add less than this share of it."""
    price_base: Annotated[str, BeforeValidator(lambda v: _cell(S.Column("price_base", S.YEAR), v))] = None
    """Financial year whose prices every value is stated in (default: the case's first year)."""
    discount_rate: Annotated[float, BeforeValidator(_settings_share("discount_rate"))] = None
    """0-1 (default 0.035, the Green Book's): the yearly discount rate for present values."""
    optimism_bias: Annotated[float, BeforeValidator(lambda v: float(_cell(S.Column("optimism_bias", S.NUMBER), v)))] = None
    """0 or more (default 0): the uplift on costs for optimism bias, as a share."""
    settlement: SettlementSettings = None
    """The integrated settlement's rules: theme_flex, 0-1 (default 0.10), the share of each theme's money in a year that may move to another theme."""
    gss_vintage: Annotated[date, BeforeValidator(_settings_vintage)] = None
    """The date (or year) of the GSS codes the case uses, e.g. 2025-05-01; combined-authority codes are checked as they stood then (default: the first day of the case's first year)."""

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: Any) -> Any:
        out = {}
        for k, v in data.items():
            if k in NESTED_SETTINGS and isinstance(v, dict):  # transition: {max_change: } leaves it unset too
                v = {sub: x for sub, x in v.items() if sub not in NESTED_SETTINGS[k].model_fields or not _empty(x)}
            if k not in cls.model_fields or not _empty(v):
                out[k] = v
        return out

    @classmethod
    def unknown_key(cls, key: Any) -> str:
        """What is found when ``key`` is not one of the settings (clipped, as a cell is)."""
        return f"unknown key '{_clip(key)}'"


# ---- problems ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyProblem:
    """One problem at a key of a YAML mapping (or a settings sheet), before its file and line are named.

    ``key`` is the key as words (``budgets.WORK.0.multiply``), ``path`` the keys and list
    positions as read, ``rank`` its place in the report (sort by it), ``unknown`` whether
    the key itself is not one the mapping may hold.
    """

    key: str
    found: str
    expected: str
    rank: tuple
    path: tuple = ()
    unknown: bool = False


_HERE = object()  # a problem at the place itself, not at one of its keys (which may be None: `~: 1`)


@dataclass(frozen=True)
class _Place:
    """Where a location leads in the data as read."""

    path: tuple  # keys and list positions as read
    words: tuple[str, ...]  # the key as reported: a single entry standing for a list has no position
    rank: tuple
    data: Any  # the value there, as read
    model: type[YamlMapping] | None  # the model the value is a mapping of, if any
    field: FieldInfo | None  # the last field passed

    def problem(self, found: str, expected: str, key: Any = _HERE, rank: Any = None,
                unknown: bool = False) -> KeyProblem:
        """A problem here, or at ``key`` (ranked ``rank``) of the mapping here."""
        words, path, where = self.words, self.path, self.rank
        if key is not _HERE:
            words, path, where = words + (str(key),), path + (key,), where + (rank,)
        elif rank is not None:
            where = where + (rank,)
        return KeyProblem(".".join(words), found, expected, where, path, unknown)


def _shape(tp: Any) -> tuple:
    """The containers a field's value passes through ('dict', 'list') and the model it ends in, if any."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _shape(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return _shape(next(a for a in typing.get_args(tp) if a is not type(None)))
    if origin is dict:
        return ("dict",) + _shape(typing.get_args(tp)[1])
    if origin is list:
        return ("list",) + _shape(typing.get_args(tp)[0])
    if isinstance(tp, type) and issubclass(tp, YamlMapping):
        return (tp,)
    return ()


def _loc_item(key: Any) -> Any:
    """A mapping's key as pydantic names it in an error's location."""
    if isinstance(key, str):
        return key
    if isinstance(key, int):  # True as 1; beyond 64 bits, as text
        return int(key) if -2**63 <= key < 2**63 else str(key)
    return repr(key)


def follow(model: type[YamlMapping], data: Any, loc: tuple) -> _Place:
    """Where ``loc`` (pydantic's location of an error, or keys as read) leads in ``data`` read as ``model``."""
    path: list = []
    words: list[str] = []
    rank: list = []
    node, here, field, shape = data, model, None, ()
    for item in loc:
        if here is not None:  # a mapping of `here`; `item` is one of its fields
            rank.append(here.rank(item, node))
            field = here.model_fields[item]
            path.append(item)
            words.append(item)
            node = node.get(item) if isinstance(node, dict) else None
            here, shape = None, _shape(field.annotation)
        elif shape[:1] == ("dict",):  # a mapping of pots: `item` is a key as read
            keys = list(node)
            key = next((k for k in keys if k is item or (type(k) is type(item) and k == item)),
                       next((k for k in keys if _loc_item(k) == _loc_item(item)), item))
            rank.append(keys.index(key) if key in keys else len(keys))
            path.append(key)
            words.append(str(key))
            node, shape = node.get(key), shape[1:]
        else:  # a list: `item` is a position
            rank.append(item)
            path.append(item)
            if isinstance(node, list):
                words.append(str(item))
                node = node[item]
            # else one entry written where a list of them may stand (budgets: POT: {multiply: 0.9})
            shape = shape[1:]
        if shape and not isinstance(shape[0], str):
            here, shape = shape[0], ()
    return _Place(tuple(path), tuple(words), tuple(rank), node, here, field)


def _number_found(kind: str, value: Any, field: FieldInfo) -> tuple[str, str]:
    lo = next((m.ge for m in field.metadata if hasattr(m, "ge")), 0.0)
    hi = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    if kind == "float_type":
        return f"'{value}' is not a number", "a number"
    if kind == "finite_number":
        return f"'{value}' is not a finite number", "a number"
    rng = f"from {lo:g} to {hi:g}" if hi is not None else f"{lo:g} or more"
    return f"{value:g} is out of range", f"a number {rng}"


def _either(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def _problems(model: type[YamlMapping], data: dict, error: ValidationError) -> list[KeyProblem]:
    errors = error.errors(include_url=False)
    wrong_keys = [e["loc"][:-1] for e in errors if e["loc"][-1:] == ("[key]",)]
    out: list[KeyProblem] = []
    for e in errors:
        loc, kind = e["loc"], e["type"]
        if any(loc[:len(k)] == k and loc != k + ("[key]",) for k in wrong_keys):
            continue  # a key that is wrong hides the problems of its value
        if kind in ("extra_forbidden", "invalid_key"):  # invalid_key: a key that is no text
            key = loc[-1] if kind == "extra_forbidden" else e["input"]
            at = follow(model, data, loc[:-1])
            out.append(at.problem(at.model.unknown_key(key), "one of " + ", ".join(at.model.model_fields),
                                  key=key, rank=at.model.rank(key, at.data), unknown=True))
        elif kind == "missing":
            at = follow(model, data, loc[:-1])
            out.append(at.problem(*at.model.if_missing[loc[-1]], rank=at.model.rank(loc[-1], at.data)))
        elif kind == _PROBLEM:  # a key that is wrong (`[key]`) is named as read: pydantic may name two alike
            at = follow(model, data, loc[:-2] + (e["input"],) if loc[-1:] == ("[key]",) else loc)
            out.extend(at.problem(found, expected) for found, expected in e["ctx"]["problems"])
        else:
            at = follow(model, data, loc)
            if kind == "literal_error":
                found = (f"'{e['input']}'", _either(typing.get_args(at.field.annotation)))
            elif kind in ("float_type", "finite_number", "greater_than_equal", "less_than_equal"):
                found = _number_found(kind, e["input"], at.field)
            else:  # not a check of ours: a slip in a model above, so pydantic's own words
                found = (e["msg"], "")
            out.append(at.problem(*found))
    return out


def validated(model: type[YamlMapping], data: dict,
              case: Case | None = None) -> tuple[YamlMapping | None, list[KeyProblem]]:
    """``data`` (a YAML mapping as read) as ``model`` — checked against ``case`` when given — or its problems.

    Returns the model and no problems, or None and every problem in the order of the report
    (see the module's notes).
    """
    try:
        return model.model_validate(data, context={"case": case}), []
    except ValidationError as e:
        return None, sorted(_problems(model, data, e), key=lambda p: p.rank)


def nest_dotted(data: dict) -> dict:
    """Settings as a workbook writes nested ones (``transition.max_change``) folded into mappings.

    Only the heads of :data:`NESTED_SETTINGS` fold; any other dotted key stays as it is (and
    is reported as an unknown key)."""
    out: dict = {}
    for k, v in data.items():
        head, _, tail = k.partition(".") if isinstance(k, str) else (k, "", "")
        if tail and head in NESTED_SETTINGS:
            if not isinstance(out.get(head), dict):
                out[head] = {}
            out[head][tail] = v
        else:
            out[k] = v
    return out


def sheet_keys() -> dict[str, str]:
    """The keys of a workbook's ``case`` sheet, each with its meaning: every setting of
    :data:`~commissioning.inputs.schema.SETTINGS_KEYS` in its order, a nested one
    (``transition``, ``protect``) as its dotted keys (``transition.max_change``)."""
    out: dict[str, str] = {}
    for key, meaning in S.SETTINGS_KEYS.items():
        if key in NESTED_SETTINGS:
            out.update({f"{key}.{sub}": " ".join(f.description.split())
                        for sub, f in NESTED_SETTINGS[key].model_fields.items()})
        else:
            out[key] = meaning
    return out


def case_settings(data: dict) -> tuple[CaseSettings, list[KeyProblem]]:
    """A case's settings as read (``case.yaml`` or the ``case`` sheet): the settings it gets right, and
    the problems of the rest (each at its key, in the file's order)."""
    data = nest_dotted(data)
    settings, problems = validated(CaseSettings, data)
    if settings is None:
        wrong = {p.path[0] for p in problems}
        settings, _ = validated(CaseSettings, {k: v for k, v in data.items() if k not in wrong})
    return settings, problems


ScenarioFile.model_rebuild()  # its transition and protect fields name models defined below it
