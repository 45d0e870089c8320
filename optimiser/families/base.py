"""What a constraint family is: everything the product knows about one kind of LP row.

A :class:`Family` is declared once, at the foot of its own module, and listed once in
:mod:`optimiser.families.registry`. Everything else loops over the registry and asks the
family; nothing outside the family modules names one. What a family holds:

* **the rows** it adds to a level's linear programme (``define``) and any variables of its
  own (``variables``: carry-forward flows, the equity floor's total);
* **its place** in the penny settlement (``settle_rank``: rows settled in rank order, each
  step only lowering spending) and on the agreement's Checks sheet (``check_rank``);
* whether it **demands** money (a minimum or a lock: such rows are what an infeasibility
  diagnosis relaxes, and what the settlement spares when it trims an over-spent row);
* its **words**: on the Checks sheet (``words``), when a row binds (``binding_words``),
  when the agreement breaks it (``breach_words``), in a collision (``noun``, ``row_unit``);
* its **shadow price**: the factor from the row's dual (per £k or per person) to the
  reported figure and the unit the figure is in;
* its **closed form**: the :class:`Limit` rows the agreement's Checks sheet writes as live
  formulas (``check_formulas``) and ``check`` measures on an edited workbook (``limits``).

Rows are grouped by the ``family`` name the LP registry carries (``lp.add(name, …)``). A
module may declare more than one family when its rows are of two kinds (the budget module:
``pot_budget`` and ``carry_forward``, added by one ``define``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from commissioning.case.model import Case
    from optimiser.lp import Block, LinearProgram

# ---- allowances: how far a measured value may stray from its bound ---------------------------
MONEY_ALLOWANCE = 0.01  # £: a maximum holds to the penny
PENNY = 0.01  # £ per row in scope that a minimum or an exact amount may fall short by
RELATIVE = 1e-7  # of a minimum or an exact amount: the solver's feasibility tolerance
PEOPLE_ALLOWANCE = 1e-6  # people

# ---- when the explanation names a reason ------------------------------------------------------
IDLE_THRESHOLD = 1.0  # £: less than this left in a pot-year is rounding, not stranded money
GAP_PEOPLE = 0.01  # people: less than this unmet in a cell is penny rounding, not a gap
CELL = ["area_code", "cohort_code", "year"]


@dataclass
class Reasons:
    """What a family's explanation hooks read of one solved level.

    ``tight``: the level's constraint rows at their bound; ``holding``: per family, the rows
    measured to hold the level back (a family's ``holding`` hook); ``money_left``: £ each pot
    could still spend in each year (the budget family's slack).
    """

    case: "Case"
    level: Any
    tight: "pd.DataFrame"
    holding: dict[str, frozenset]
    money_left: dict[tuple[str, str], float]


@dataclass(frozen=True)
class Limit:
    """One condition on the allocation: ``value (sense) bound`` over a scope of rows."""

    family: str
    sense: str  # "max", "min", "equal", or "zero_or_min" (nothing, or at least the bound)
    words: str  # what it says, in commissioners' words
    unit: str = "£"  # "£" or "people"
    pot_code: str = ""  # the scope as shown (a code, ALL or a footprint); "" when not a scope
    area_code: str = ""
    cohort_code: str = ""
    year: str = ""  # one year, or "2025-26 to 2026-27" for a window
    pots: tuple[str, ...] | None = None  # scope for measuring; None: any
    areas: tuple[str, ...] | None = None
    cohorts: tuple[str, ...] | None = None
    years: tuple[str, ...] | None = None
    programmes: tuple[str, ...] | None = None
    measure: str = "amount"  # "amount", "participants", "match", "equity", "share", "moved", "across"
    bound: float = 0.0  # the constant side (£ or people)
    budget_years: tuple[str, ...] = ()  # pot_budget: the budget years summed into the bound
    rule_index: int | None = None  # rule: position in case.rules
    rule_value: float | None = None  # rule: the share (0–1) or amount from the rules row
    needers: tuple[tuple[str, float], ...] = ()  # match: (pot, match rate)
    givers: tuple[str, ...] = ()  # match: pots whose spend counts as match
    equity_share: float = 0.0  # equity: floor × area need ÷ all need
    today: tuple[tuple[str, str, str, str, float], ...] = ()  # moved: today's (pot, area, cohort, year, £) cells
    moves: tuple[tuple[str, str, str, str, str], ...] = ()  # across: the (pot, area, cohort, year, programme) moves
    theme: str = ""  # across: the settlement theme whose money moves


@dataclass
class Measured:
    """A limit measured on allocation rows: the value, the bound, the allowance, and whether it holds."""

    limit: Limit
    value: float
    bound: float
    allowance: float
    holds: bool
    rows: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))  # positions in scope

    @property
    def shortfall(self) -> float:
        """How far the value is on the wrong side of the bound (0 when it holds)."""
        if self.limit.sense == "max":
            return max(0.0, self.value - self.bound)
        if self.limit.sense == "min":
            return max(0.0, self.bound - self.value)
        if self.limit.sense == "zero_or_min":
            return 0.0 if self.value <= 0 else max(0.0, self.bound - self.value)
        return abs(self.value - self.bound)


@dataclass(frozen=True)
class BuildContext:
    """What a family's rows may depend on beyond the case: the level's pool and settings."""

    pool: frozenset[str]
    objective: str
    equity_floor: float


class CheckCells(Protocol):
    """What the agreement writer offers a family to write its Checks formulas with.

    Every reference is an A1 string; ``row`` is the Checks sheet row being written.
    """

    row: int

    def col(self, name: str, absolute: bool = False) -> str:
        """The cell of Checks column ``name`` on this row."""

    def scope_terms(self, limit: Limit) -> list[str]:
        """EXACT() terms selecting the Allocations rows in ``limit``'s scope."""

    def pooled_span(self, what: str, pot: str, years) -> str:
        """The Pooled budget sheet's ``what`` ("spend" or "budget") row of ``pot`` across ``years``."""

    def pooled_cell(self, what: str, pot: str, year: str) -> str:
        """One cell of the Pooled budget sheet's ``what`` row of ``pot``."""

    def need_cell(self, area: str, cohort: str, year: str) -> str:
        """The cell holding a need cell's people."""

    def pot_cell(self, pot: str) -> str:
        """The cell holding a pot's code."""

    def match_rate_cell(self, pot: str) -> str:
        """The cell holding a pot's match rate."""


def demand_allowance(cells: CheckCells, counted: str) -> str:
    """The Checks formula of a minimum's or an exact amount's allowance: a penny per allocation
    row ``counted`` selects (at least one), plus the solver's tolerance on the limit."""
    return f"={PENNY}*MAX(1,SUMPRODUCT({counted}*(alloc_amount>0)))+{RELATIVE:.7f}*ABS({cells.col('limit')})"


def people_allowance(cells: CheckCells, counted: str) -> str:
    """The Checks formula of a minimum's allowance in people: a millionth of a person, plus a
    penny per allocation row ``counted`` selects, in people (a penny ÷ the row's unit cost) —
    each amount is rounded to the penny, so a floor in people may fall short by that much."""
    return (f"={PEOPLE_ALLOWANCE}+{PENNY}*SUMPRODUCT({counted}*(alloc_amount>0)/"
            "(alloc_unit_cost+(alloc_unit_cost=0)))")


def scope_sum(m: Measured, cells: CheckCells, column: str = "amount") -> dict:
    """The Checks formulas of a limit that sums one Allocations column over its scope against a
    constant bound: ``value_f`` (the sum), ``limit_f`` (the bound) and, for a minimum, an exact
    amount or a nothing-or-at-least, ``allowance_f`` (a penny a row in £, or in people)."""
    terms = cells.scope_terms(m.limit)
    scope = "*".join(terms) if terms else '--(alloc_pot<>"")'
    out: dict[str, Any] = {"value_f": f"=SUMPRODUCT({scope},alloc_{column})", "limit_f": float(m.limit.bound)}
    if m.limit.sense != "max":
        out["allowance_f"] = (people_allowance if m.limit.unit == "people" else demand_allowance)(cells, scope)
    return out


@dataclass(frozen=True)
class Family:
    """Everything known about one family of rows (see the module docstring)."""

    name: str  # the LP registry's ``family``, the Limit's family and summary.json's ``family``
    title: str | None = None  # for progress while building: "pot budgets and carry-forward"
    words: str | None = None  # the Checks sheet's ``family`` column: "pot budget"
    define: Callable[["LinearProgram", "Case", BuildContext], None] | None = None
    variables: Callable[["Case", BuildContext], "pd.DataFrame"] | None = None
    demands: bool = False  # minimums and locks: relaxed by the diagnosis, spared by the settlement
    pins: bool = False  # its rows hold money in a cell (locks, contracts): the settlement takes from them last
    settle_rank: int | None = None  # ≤ rows settled to the penny in rank order (None: not settled)
    check_rank: int | None = None  # order of the family's limits on the Checks sheet
    reported: bool = True  # listed among binding constraints when tight
    row_unit: str = "£"  # the row's natural unit: "£" (rows in £k) or "people"
    noun: str | None = None  # "relax or remove this <noun>" (default: the name)
    key_columns: tuple[str, ...] = ()  # the columns naming one row (for dual lookups)
    shadow_scale: float = 1.0  # reported shadow price = dual × shadow_scale
    shadow_unit: str = "per unit"  # "<objective unit> <shadow_unit>" in summary.json
    counts_unmet: bool = False  # its limits' shortfalls are unmet need (the agreement's live "unmet" figure)
    # Its columns or rows read the need figures, directly or through today's provision (which the
    # baseline spreads over need): a need draw's model defines it again (optimiser.redraw).
    reads_need: bool = False
    # For a need-reading family whose rows keep their coefficients when need moves: a block of the
    # undisturbed model and the drawn model (its columns' need read again) give that block's new
    # ``(lower, upper)``, or None to define the family again (optimiser.redraw).
    rebound: Callable[["Block", "LinearProgram", "Case", BuildContext], tuple | None] | None = None
    narrate: str = "other"  # how ``explain`` lists it when binding: "price", "cap", "other" or "none"
    binding_words: Callable[["Case", Any], str] | None = None  # a binding row in words
    limits: Callable[["Case", frozenset[str]], list[Limit]] | None = None
    breach_words: Callable[[Measured, Callable[[float], str]], str] | None = None
    check_formulas: Callable[[Measured, CheckCells], dict[str, Any]] | None = None
    # The explanation: which of its rows hold a level back (measured), and why need goes
    # unmet or money idle because of it. A reason hook takes :class:`Reasons` and gives a
    # function of one cell (or one pot's budget year) returning ``(reason, detail)`` or None;
    # families are asked in ``reason_rank`` order for gaps and ``idle_rank`` order for idle money.
    holding: Callable[["Case", Any, str], frozenset] | None = None
    gap_reason: Callable[[Reasons], Callable[[Any], tuple[str, str] | None]] | None = None
    idle_reason: Callable[[Reasons], Callable[..., tuple[str, str] | None]] | None = None
    reason_rank: int = 0
    idle_rank: int = 0
    is_budget: bool = False  # rows state a pot's money in a budget year (shadow prices, money left)

    def words_for(self, case: "Case", row) -> str:
        """A binding row of this family in words (its own description when it states none)."""
        return self.binding_words(case, row) if self.binding_words else str(row.description)

    def relax_words(self) -> str:
        """The suggestion a collision of this family's demanding row carries."""
        return f"relax or remove this {self.noun or self.name}"
