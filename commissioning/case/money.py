"""Following a pot's money from the year it arrives to the years it is spent, oldest first.

Money from a pot's budget for year *s* may be spent in *s* and the next ``carry_forward``
years within the pot's life (:meth:`Case.spend_years`). When today's spending (provision,
or the baseline's spread) is set against the budgets, each year draws on the **oldest**
money that may still be spent in it — the soonest to expire — so that money carried
forward is never counted twice. The same walk serves the baseline (how much of each
year's provision the pot can really pay for), the map (provision over budget, money left
uncommitted) and the validator's warnings, so all three agree to the penny.
"""

from __future__ import annotations

from dataclasses import dataclass

from commissioning.case.model import Case


@dataclass(frozen=True)
class MoneyWalk:
    """One pot's spending set against its budgets, year by year, oldest money first.

    ``paid[t]`` is how much of the spending wanted in year *t* the money could pay for
    (never more than wanted); ``short[t] = wanted[t] − paid[t]``; ``left[s]`` is what is
    left of budget year *s*'s money once every year has drawn on it.
    """

    pot_code: str
    paid: dict[str, float]
    short: dict[str, float]
    left: dict[str, float]

    def uncommitted(self, case: Case, year: str) -> float:
        """Money never drawn that could have been spent in ``year``: Σ left[s] over the budget
        years *s* whose money may be spent in ``year``."""
        return sum(v for s, v in self.left.items() if year in case.spend_years(self.pot_code, s))


def walk(case: Case, pot_code: str, wanted: dict[str, float]) -> MoneyWalk:
    """Set ``wanted`` spending (year → £) against the pot's budgets, oldest money first."""
    left = {b.year: b.amount for b in case.budgets if b.pot_code == pot_code}
    paid: dict[str, float] = {}
    short: dict[str, float] = {}
    for t in case.years:
        want = float(wanted.get(t, 0.0))
        if want <= 0:
            continue
        used = 0.0
        for s in sorted(left):  # financial-year labels sort in time order
            if used >= want:
                break
            if left[s] > 0 and t in case.spend_years(pot_code, s):
                take = min(left[s], want - used)
                left[s] -= take
                used += take
        paid[t] = used
        short[t] = want - used
    return MoneyWalk(pot_code, paid, short, left)
