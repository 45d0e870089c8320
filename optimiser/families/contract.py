"""Contracts: money signed for a year stays where it is, keeping its own programme.

``provision.contract_end`` dates a signed contract. Provision in a year that starts on or
before its ``contract_end`` is **contracted** (:meth:`~commissioning.case.model.Provision.contracted`);
after the end it is free to move. Rule — family ``contract``, one row per contracted cell
(pot *p*, area *a*, cohort *c*, year *t*), at every level::

    x[p,a,c,t,p] >= K[p,a,c,t] / 1000

on the pot's **own programme** column: a signed contract buys what it buys, at its own
unit cost and outcome rate (as a lock does, :mod:`optimiser.families.lock`). Money in the
cell beyond the contracted amount is free (other programmes of the pool included).

``K`` is the contracted share of what today's provision in the cell really buys — the
baseline's amount (:func:`optimiser.baseline.today_cells`) × contracted provision ÷ all
provision in the cell. A decision beyond the contract: a contract for more than its pot's
money or its cell's need is scaled as the baseline scales it, so that today's plan stays
feasible and the aligned level can never fall below the baseline because of it.

A contracted cell the pot may not fund under the level's rules cannot be kept: it is
recorded in ``lp.infeasible_rules`` so the diagnosis names it.
"""

from __future__ import annotations

import numpy as np

from commissioning.case.model import Case

from optimiser.baseline import today_cells
from optimiser.families.base import PENNY, BuildContext, Family, Limit, scope_sum
from optimiser.families.lock import CANNOT_KEEP
from optimiser.lp import MONEY_SCALE, LinearProgram, meaning_frame

Key = tuple[str, str, str, str]


def contracted(case: Case) -> dict[Key, float]:
    """``K`` per contracted cell, £ (see the module docstring), in provision order."""
    if not case.provision:
        return {}
    signed: dict[Key, float] = {}
    written: dict[Key, float] = {}
    for pr in case.provision:
        key = (pr.pot_code, pr.area_code, pr.cohort_code, pr.year)
        written[key] = written.get(key, 0.0) + pr.amount
        if pr.contracted():
            signed[key] = signed.get(key, 0.0) + pr.amount
    if not signed:
        return {}
    t = today_cells(case)
    paid = dict(zip(zip(t["pot_code"], t["area_code"], t["cohort_code"], t["year"]), t["amount"]))
    kept = {k: paid.get(k, 0.0) * v / written[k] for k, v in signed.items() if written[k] > 0 and v > 0}
    return {k: v for k, v in kept.items() if v >= PENNY}  # a contract the money can no longer pay keeps nothing


def contracted_by_year(case: Case) -> dict[str, float]:
    """Contracted money (``K``) per year, £, in case-year order (years with none left out)."""
    out: dict[str, float] = {}
    for (_, _, _, t), amount in contracted(case).items():
        out[t] = out.get(t, 0.0) + amount
    return {y: out[y] for y in case.years if y in out}


def define_contract(lp: LinearProgram, case: Case, ctx: BuildContext) -> None:
    """Add the ``contract`` rows (see the module docstring)."""
    cells = contracted(case)
    if not cells:
        return
    v = lp.variables
    alloc = v[(v["kind"] == "alloc") & (v["programme"] == v["pot_code"])]
    own = dict(zip(zip(alloc["pot_code"], alloc["area_code"], alloc["cohort_code"], alloc["year"]), alloc.index))
    cols, rhs, meaning = [], [], []
    for key, amount in cells.items():
        p, a, c, t = key
        label = f"contract: {p} keeps £{amount:,.0f} for {c} in {case.area[a].name if a in case.area else a} {t}"
        j = own.get(key)
        if j is None:
            lp.infeasible_rules.append(label + CANNOT_KEEP)  # as a lock says it
            continue
        cols.append(j)
        rhs.append(amount / MONEY_SCALE)
        meaning.append((p, a, c, t, label))
    if not rhs:
        return
    pots, areas, cohorts, years, desc = zip(*meaning)
    lp.add("contract", meaning_frame(len(rhs), pot_code=pots, area_code=areas, cohort_code=cohorts, year=years,
                                     description=desc),
           np.arange(len(rhs)), np.array(cols), np.ones(len(cols)), np.array(rhs), np.inf)


def contract_limits(case: Case, pool: frozenset[str] = frozenset()) -> list[Limit]:
    """``contract`` in closed form: the pot's own programme in the cell spends at least the contracted amount."""
    return [
        Limit("contract", "min", f"contract: {p} keeps £{amount:,.2f} for {c} in {a} {t}",
              pot_code=p, area_code=a, cohort_code=c, year=t, pots=(p,), areas=(a,), cohorts=(c,), years=(t,),
              programmes=(p,), bound=amount)
        for (p, a, c, t), amount in contracted(case).items()
    ]


CONTRACT = Family(
    "contract", reads_need=True, title="signed contracts", words="signed contract",
    define=define_contract, demands=True, pins=True, check_rank=6,
    limits=contract_limits, check_formulas=scope_sum,
    binding_words=lambda case, r: f"the signed contract binds: {r.description.removeprefix('contract: ')}",
    noun="contract (provision.contract_end)", shadow_unit="per £1,000 of contracted money",
    breach_words=lambda m, money: f"{m.limit.words}: the sheet holds {money(m.value)}",
)
