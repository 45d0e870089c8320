"""The constraint families, in the order the builder adds their rows.

One line per family; each is declared at the foot of its own module
(:class:`optimiser.families.base.Family` says what a family holds). The builder, the
penny settlement, the infeasibility diagnosis, the explanation, the agreement's Checks
sheet and ``check`` all loop over :data:`REGISTRY`. Adding a family is one module, one line
here, and its tests.
"""

from __future__ import annotations

from optimiser.families.base import Family
from optimiser.families.budget import CARRY_FORWARD, POT_BUDGET, money_left
from optimiser.families.capacity import CAPACITY
from optimiser.families.contract import CONTRACT
from optimiser.families.equity import EQUITY, EQUITY_TOTAL
from optimiser.families.lock import LOCK
from optimiser.families.match import MATCH
from optimiser.families.min_award import AWARD_ON, MIN_AWARD
from optimiser.families.need_cap import NEED_CAP
from optimiser.families.pool_areas import POOL_AREAS
from optimiser.families.protect import PROTECT
from optimiser.families.rules import RULE
from optimiser.families.theme_flex import THEME_FLEX
from optimiser.families.transition import MAX_MOVED, MOVED, TRANSITION

__all__ = ["REGISTRY", "BY_NAME", "family", "building", "settle_order", "demanding", "pinning", "checked", "priced",
           "budget_families", "money_left"]

REGISTRY: tuple[Family, ...] = (
    POT_BUDGET,
    CARRY_FORWARD,
    NEED_CAP,
    MATCH,
    RULE,
    EQUITY,
    EQUITY_TOTAL,
    LOCK,
    CONTRACT,
    TRANSITION,
    MOVED,
    MAX_MOVED,
    CAPACITY,
    POOL_AREAS,
    THEME_FLEX,
    PROTECT,
    MIN_AWARD,
    AWARD_ON,
)

BY_NAME: dict[str, Family] = {f.name: f for f in REGISTRY}


def family(name: str) -> Family:
    """The family a row, a limit or a binding record names (a plain family for an unknown name)."""
    return BY_NAME.get(name) or Family(name)


def building() -> list[Family]:
    """The families that add rows, in the order they add them."""
    return [f for f in REGISTRY if f.define is not None]


def settle_order() -> list[str]:
    """Row families the penny settlement brings within their ceilings, in order."""
    return [f.name for f in sorted((f for f in REGISTRY if f.settle_rank is not None), key=lambda f: f.settle_rank)]


def pinning() -> tuple[str, ...]:
    """Row families that hold money in a cell (locks, contracts): the settlement takes from them last."""
    return tuple(f.name for f in REGISTRY if f.pins)


def demanding() -> tuple[str, ...]:
    """Row families that demand money (minimums, locks, floors)."""
    return tuple(f.name for f in REGISTRY if f.demands)


def checked() -> list[Family]:
    """The families with closed-form limits, in the Checks sheet's order."""
    return sorted((f for f in REGISTRY if f.limits is not None), key=lambda f: f.check_rank)


def priced() -> list[Family]:
    """The families whose row duals are looked up by key (for the asks' estimates)."""
    return [f for f in REGISTRY if f.key_columns]


def budget_families() -> list[str]:
    """Row families that state a pot's money in a budget year."""
    return [f.name for f in REGISTRY if f.is_budget]
