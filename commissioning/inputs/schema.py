"""The case contract as data: every table, its columns, their types and meanings.

One source of truth for the reader, the validator, the template workbook (header
comments and drop-downs) and the converter. The names are the contract of
``case-format``: lower-case snake_case, exactly as written there.
"""

from __future__ import annotations

from dataclasses import dataclass

# Text that a spreadsheet would read as a formula: written with a leading apostrophe (which
# makes it inert) and read back without it (commissioning.inputs.readers).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Column kinds understood by the validator.
CODE = "code"  # identifier, case-sensitive, no surrounding spaces
TEXT = "text"
WHOLE = "whole"  # whole number >= 0
MONEY = "money"  # £ >= 0 (a £ sign and thousands separators are accepted)
POSITIVE_MONEY = "positive_money"  # £ > 0
SHARE = "share"  # 0..1
YEAR = "year"  # financial year 2025-26
YEAR_OR_ALL = "year_or_all"
DATE = "date"  # ISO date or an Excel date cell
YESNO = "yesno"
CODE_LIST = "code_list"  # ;-list of codes, or ALL
CODE_OR_ALL = "code_or_all"
STAGE = "stage"  # 1..6
AGE = "age"  # whole number 0..120
CHOICE = "choice"
NUMBER = "number"  # >= 0, meaning depends on another column (rules.value)


@dataclass(frozen=True)
class Column:
    """One column of the contract: its name, its kind, whether it must be filled, its meaning, its choices."""

    name: str
    kind: str
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """One table of the contract: its name, its meaning, its columns, the columns that key a row, whether required."""

    name: str
    help: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True

    @property
    def column_names(self) -> list[str]:
        """The column names, in contract order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name`` (StopIteration when there is none)."""
        return next(c for c in self.columns if c.name == name)


BASES = ("formula", "competitive", "devolved", "national", "local")
RULE_KINDS = ("min_share", "max_share", "min_amount", "max_amount")
OBJECTIVES = ("outcomes", "value", "fiscal", "economic", "social", "coverage")
VALUE_OBJECTIVES = ("value", "fiscal", "economic", "social")  # need an outcomes table, except value
POOL_AREAS = ("own", "pool")
BUDGET_TYPES = ("revenue", "capital")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "areas",
            "The places where people live and services are delivered.",
            (
                Column("area_code", CODE, help="Unique id of a delivery area (ONS GSS code recommended, e.g. E08000035)."),
                Column("area_name", TEXT, help="Human name of the area."),
                Column("population", WHOLE, required=False, help="Optional whole number of residents."),
            ),
            key=("area_code",),
        ),
        Table(
            "cohorts",
            "The groups of people whose need is evidenced.",
            (
                Column("cohort_code", CODE, help="Unique id of the cohort, e.g. NEET_16_18."),
                Column("cohort_name", TEXT, help="Human name of the cohort."),
                Column("age_min", AGE, required=False, help="Optional youngest age (informational)."),
                Column("age_max", AGE, required=False, help="Optional oldest age (informational)."),
                Column("journey_stage", STAGE, required=False,
                       help="Optional customer-journey stage 1-6: 1 severe complex needs, 2 complex needs, "
                            "3 looking for work, 4 self-able and looking for work, 5 in-work (new entrants), "
                            "6 in-work (ill health)."),
                Column("outcome", TEXT, help="Label of the headline outcome, e.g. job entry."),
                Column("outcome_rate", SHARE, help="Share of participants expected to reach the outcome, 0-1."),
                Column("value_per_outcome", MONEY, required=False,
                       help="Optional £ public value (fiscal + economic) of one outcome."),
                Column("weight", NUMBER, required=False,
                       help="Optional distributional weight on the cohort's benefits in a value objective "
                            "(default 1; state and justify it, as the Green Book asks)."),
            ),
            key=("cohort_code",),
        ),
        Table(
            "pots",
            "The funding streams.",
            (
                Column("pot_code", CODE, help="Unique id of the pot, e.g. ASF."),
                Column("pot_name", TEXT, help="Human name of the funding stream."),
                Column("department", TEXT, help="Owning department or agency (DfE, DWP, MHCLG, local ...)."),
                Column("geography", CODE_LIST, help="';'-list of area and/or footprint codes, or ALL."),
                Column("cohorts", CODE_LIST, help="';'-list of cohort codes the pot may fund, or ALL."),
                Column("start", DATE, help="First day the pot's money may be spent (ISO date, e.g. 2025-04-01)."),
                Column("end", DATE, help="Last day the pot's money may be spent."),
                Column("unit_cost", POSITIVE_MONEY, help="£ per participant, greater than 0."),
                Column("carry_forward", WHOLE,
                       help="Whole years unspent money may roll forward (0 = use it or lose it)."),
                Column("match_rate", SHARE,
                       help="0-1: each £1 spent needs £match_rate from can_match pots in the same area and year."),
                Column("can_match", YESNO, help="yes/no: this pot's spend may count as match for other pots."),
                Column("poolable", YESNO, help="yes/no: may be merged into a local pooled budget."),
                Column("basis", CHOICE, choices=BASES,
                       help="Informational: formula, competitive, devolved, national or local."),
                Column("source", TEXT, required=False, help="Optional: where the figures come from."),
                Column("capacity", WHOLE, required=False,
                       help="Optional: participants a year the pot's programme can serve, at every level "
                            "(empty: in the pool, programme_scale times what its own budget buys)."),
                Column("pool_areas", CHOICE, required=False, choices=POOL_AREAS,
                       help="Optional: in the pool, own (its money stays in its own geography) or pool (it may "
                            "fund any area of the pool); empty: own for a local budget, pool otherwise."),
                Column("min_award", MONEY, required=False,
                       help="Optional £: spend in an area and year, summed over cohorts, is nothing or at least "
                            "this (a mixed-integer model)."),
                Column("settlement", YESNO, required=False,
                       help="Optional yes/no (default no): the pot is paid inside the area's integrated settlement."),
                Column("theme", TEXT, required=False,
                       help="Optional: the settlement's spending theme (functional responsibility), e.g. Adult "
                            "skills; needed when settlement is yes."),
                Column("budget_type", CHOICE, required=False, choices=BUDGET_TYPES,
                       help="Optional: revenue (RDEL, the default) or capital (CDEL); revenue never pays for "
                            "capital, nor capital for revenue."),
                Column("ring_fenced", YESNO, required=False,
                       help="Optional yes/no (default no): a settlement pot that keeps its own conditions "
                            "(it does not pool within its theme or move between themes)."),
            ),
            key=("pot_code",),
        ),
        Table(
            "budgets",
            "Each pot's money by financial year.",
            (
                Column("pot_code", CODE, help="A pot code from the pots table."),
                Column("year", YEAR, help="Financial year, e.g. 2025-26, within the pot's start-end."),
                Column("amount", MONEY, help="£ newly available that year, 0 or more."),
            ),
            key=("pot_code", "year"),
        ),
        Table(
            "need",
            "The evidence base: people in need of support, by area, cohort and year.",
            (
                Column("area_code", CODE, help="An area code from the areas table."),
                Column("cohort_code", CODE, help="A cohort code from the cohorts table."),
                Column("year", YEAR, help="Financial year, e.g. 2025-26."),
                Column("people", WHOLE, help="Number of people in need of support, 0 or more."),
                Column("source", TEXT, required=False, help="Optional: the dataset the figure comes from."),
                Column("as_of", DATE, required=False, help="Optional: date of the evidence."),
                Column("people_low", WHOLE, required=False,
                       help="Optional: the low end of the figure's stated interval (e.g. a survey's 95% confidence "
                            "interval), at most people; robust and sensitivity draw need between people_low and "
                            "people_high."),
                Column("people_high", WHOLE, required=False,
                       help="Optional: the high end of the interval, at least people; given with people_low."),
            ),
            key=("area_code", "cohort_code", "year"),
        ),
        Table(
            "footprints",
            "Named groups of areas (combined authority, contract package area ...), one row per member.",
            (
                Column("footprint_code", CODE, help="Id of the footprint, e.g. E47000003."),
                Column("footprint_name", TEXT, help="Human name of the footprint."),
                Column("area_code", CODE, help="A member area code."),
            ),
            key=("footprint_code", "area_code"),
            required=False,
        ),
        Table(
            "rates",
            "Per pot and cohort overrides of unit cost and outcome rate.",
            (
                Column("pot_code", CODE, help="A pot code."),
                Column("cohort_code", CODE, help="A cohort code."),
                Column("unit_cost", POSITIVE_MONEY, required=False,
                       help="£ per participant for this pot and cohort (empty: the pot's unit_cost)."),
                Column("outcome_rate", SHARE, required=False,
                       help="Outcome rate for this pot and cohort (empty: the cohort's outcome_rate); on a row "
                            "naming an outcome, that outcome's rate."),
                Column("outcome", TEXT, required=False,
                       help="Optional: an outcome of the outcomes table; the row's outcome_rate then overrides "
                            "that outcome's rate for this pot (and unit_cost stays empty)."),
            ),
            key=("pot_code", "cohort_code", "outcome"),
            required=False,
        ),
        Table(
            "provision",
            "What is committed today (the status quo).",
            (
                Column("pot_code", CODE, help="A pot code."),
                Column("area_code", CODE, help="An area code."),
                Column("cohort_code", CODE, help="A cohort code."),
                Column("year", YEAR, help="Financial year."),
                Column("amount", MONEY, help="£ committed."),
                Column("provider", TEXT, required=False, help="Optional: who delivers it."),
                Column("contract_end", DATE, required=False,
                       help="Optional: last day of the signed contract; provision in a year starting on or before "
                            "it is kept where it is at every level."),
            ),
            key=("pot_code", "area_code", "cohort_code", "year", "provider"),
            required=False,
        ),
        Table(
            "rules",
            "Extra local or national conditions.",
            (
                Column("rule", CHOICE, choices=RULE_KINDS,
                       help="min_share or max_share (of the pot's money that year), min_amount or max_amount (£)."),
                Column("pot_code", CODE_OR_ALL, help="A pot code, or ALL."),
                Column("area_code", CODE_OR_ALL, help="An area or footprint code, or ALL."),
                Column("cohort_code", CODE_OR_ALL, help="A cohort code, or ALL."),
                Column("year", YEAR_OR_ALL, help="A financial year, or ALL (each year)."),
                Column("value", NUMBER, help="The share (0-1) or the amount (£)."),
                Column("note", TEXT, required=False, help="Optional text carried into outputs."),
            ),
            key=(),
            required=False,
        ),
        Table(
            "outcomes",
            "Outcomes by type, valued the Green Book's way: one row per cohort and outcome.",
            (
                Column("cohort_code", CODE, help="A cohort code."),
                Column("outcome", TEXT, help="The outcome, e.g. job entry, sustained job, Level 2."),
                Column("rate", SHARE, help="Share of participants reaching it, 0-1 (rates may override it per pot)."),
                Column("fiscal_value", MONEY, required=False, help="£ a year to the public purse per outcome."),
                Column("economic_value", MONEY, required=False, help="£ a year to the economy per outcome."),
                Column("social_value", MONEY, required=False, help="£ a year of wider social value per outcome."),
                Column("persistence_years", WHOLE, required=False,
                       help="Whole years the benefit lasts, from the year achieved (default 1)."),
                Column("price_year", YEAR, required=False,
                       help="Financial year of the values' prices (empty: the case's price_base)."),
                Column("deadweight", SHARE, required=False, help="0-1: share that would have happened anyway."),
                Column("displacement", SHARE, required=False, help="0-1: share displaced from others."),
                Column("source", TEXT, required=False, help="Where the values come from, with their licence."),
            ),
            key=("cohort_code", "outcome"),
            required=False,
        ),
        Table(
            "departments",
            "A pot's owning department by date: one row each time the pot changes hands.",
            (
                Column("pot_code", CODE, help="A pot code."),
                Column("department", TEXT, help="The department that owns the pot from this date."),
                Column("from", DATE, help="First day it owns the pot (before the earliest row: pots.department)."),
                Column("source", TEXT, required=False, help="Optional: where the change is announced."),
            ),
            key=("pot_code", "from"),
            required=False,
        ),
        Table(
            "deflators",
            "A price index by financial year (e.g. HM Treasury's GDP deflators), to uprate values to the price base.",
            (
                Column("year", YEAR, help="Financial year, e.g. 2012-13."),
                Column("index", NUMBER, help="The index for that year (any base: only ratios are used)."),
            ),
            key=("year",),
            required=False,
        ),
    )
}

# case.yaml / the `case` sheet: key -> help (a workbook writes transition and protect as dotted keys,
# transition.max_change: commissioning.inputs.settings.sheet_keys).
SETTINGS_KEYS: dict[str, str] = {
    "name": "Name of the case, used in outputs.",
    "objective": "outcomes, value, fiscal, economic, social or coverage (default: value when the case has an "
                 "outcomes table with values, otherwise outcomes).",
    "equity_floor": "0-1 (default 0): each area's share of need served is at least this times the overall share.",
    "parties": "The parties to an agreement (a list, or ';'-separated in the workbook).",
    "lead_body": "The accountable body leading the agreement.",
    "term_years": "Length of the agreement in years (default 5).",
    "start_year": "First financial year of the agreement, e.g. 2025-26.",
    "transition": "Limits on moving from today's provision: max_change (per area and cohort, each year) "
                  "and max_moved.",
    "near_optimal": "0-1 (default 0): least disruption and alternatives may take plans within this share "
                    "of the optimum.",
    "programme_scale": "1 or more (default 2): a programme the pool buys serves at most this multiple of "
                       "what its budget buys.",
    "protect": "Floors under today's participants, each year: cohorts and areas, a share each or per code "
               "(ALL: the rest).",
    "least_disruption": "yes (default) or no: among equally good plans, take the one moving the least money "
                        "from today's.",
    "package_share": "0-1 (default 0.05): the asks' package stops when the next ask would add less than this "
                     "share of it.",
    "price_base": "Financial year whose prices every value is stated in (default: the case's first year).",
    "discount_rate": "0-1 (default 0.035, the Green Book's): the yearly discount rate for present values.",
    "optimism_bias": "0 or more (default 0): the uplift on costs for optimism bias, as a share.",
    "settlement": "The integrated settlement's rules: theme_flex, 0-1 (default 0.10), the share of each theme's "
                  "money in a year that may move to another theme.",
    "gss_vintage": "The date (or year) of the GSS codes the case uses, e.g. 2025-05-01; combined-authority codes "
                   "are checked as they stood then (default: the first day of the case's first year).",
}

TABLE_ORDER = ["areas", "cohorts", "pots", "budgets", "need", "footprints", "rates", "provision", "rules", "outcomes",
               "deflators", "departments"]
