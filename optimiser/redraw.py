"""A level's model for other need figures (a need draw's), or other protection floors, from the
model already built.

A sensitivity or robust draw changes how many people are in need and nothing else. Most of a
level's model does not read need at all — budgets, carry-forward, match, rules, capacity,
pooling, the objectives — and rebuilding it for every draw took 1.7 s a level at national
size, as long as the warm re-solve itself. :func:`redraw` builds the model
:func:`optimiser.build.create_model` would build for the drawn case, from the undisturbed
model:

* the columns are the same (same cells with need: the drawn case's eligibility is carried
  over, :meth:`commissioning.case.eligibility.Eligibility.renewed`); the allocation columns'
  ``need`` is read again;
* every family that reads need (``Family.reads_need``: the need caps, the equity floor, and
  through today's provision — which the baseline spreads over need — contracts, transition
  limits, money moved and least disruption, protection floors) adds its rows again, in its
  place among the others; a family with columns of its own that reads need (money moved,
  one column per today's cell) must give the same columns, or there is no redraw;
* a need-reading family whose rows keep their coefficients when need moves (``Family.rebound``:
  the need caps, money moved and its limit) keeps the undisturbed model's rows and coefficients
  as they are and takes only the drawn case's bounds — the bounds its ``define`` would set, at
  a fraction of the cost (national: grouping 468,000 columns into need cells and matching them
  to today's cells again took 0.4 s a level);
* every other family's rows are the undisturbed model's, shared (blocks are never changed
  in place).

The result is the drawn case's model number for number — tested against ``create_model`` on
the example and on random cases with every need-reading family switched on. :func:`redraw`
returns None whenever it cannot promise that (need moved across zero, so other cells are
eligible; a rule known impossible before solving; a model built without its build record),
and the caller builds the model from the case as before.

**One more protection floor.** What protecting a dropped cohort or area costs
(:mod:`commissioning.analysis.dropped`) is the level solved again with one more ``protect``
floor, and nothing else changed. Only the protection family reads the floors, so
:func:`refloored` defines that family's rows again, in its place, and shares every other block
(the columns are the same: the family has none of its own); today's cells, which the floors
are shares of, are the level's (:func:`optimiser.baseline.share_today`). Building the model
afresh took 0.3 s a re-solve at combined-authority size, as long as the warm re-solve itself.
The same number-for-number test as for draws; None (build from the case) when the cases differ
in anything but their floors.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from commissioning.case.eligibility import same_need_cells
from commissioning.case.model import Case, same_but_floors

from optimiser.baseline import share_today
from optimiser.families.protect import PROTECT
from optimiser.families.registry import BY_NAME
from optimiser.lp import LinearProgram

CELL = ["area_code", "cohort_code", "year"]


def need_rows(lp: LinearProgram, case: Case) -> np.ndarray:
    """Each column's position among ``case``'s need rows (-1: not an allocation, or no need row);
    worked out once per model and kept on it (every draw of the model shares the columns)."""
    if lp.need_rows is None:
        index = pd.MultiIndex.from_frame(case.need_frame[CELL])
        v = lp.variables
        at = np.full(len(v), -1, dtype=np.int64)
        alloc = np.flatnonzero((v["kind"] == "alloc").to_numpy())
        if len(alloc):
            at[alloc] = index.get_indexer(pd.MultiIndex.from_frame(v.loc[alloc, CELL].astype(object)))
        lp.need_rows = at
    return lp.need_rows


def redraw(lp: LinearProgram, base: Case, drawn: Case, pool: frozenset[str] = frozenset()) -> LinearProgram | None:
    """The model of ``drawn`` (``base`` with other need figures) from ``lp``, ``base``'s model of the
    same level; None when that cannot be promised (see the module docstring)."""
    if lp.built_by is None or lp.infeasible_rules or not same_need_cells(base, drawn):
        return None
    ctx = lp.context
    if ctx is None or ctx.pool != frozenset(pool):
        return None
    at = need_rows(lp, base)
    people = np.append(drawn.need_frame["people"].to_numpy(dtype=float), 0.0)
    variables = lp.variables.copy()
    alloc = at >= 0
    if "need" in variables.columns and alloc.any():
        need = variables["need"].to_numpy(dtype=float, copy=True)
        need[alloc] = people[at[alloc]]
        variables["need"] = need
    for name, start, end in lp.columns_by:
        fam = BY_NAME[name]
        if not fam.reads_need:
            continue
        fresh = fam.variables(drawn, ctx).reset_index(drop=True)
        if len(fresh) != end - start:
            return None
        old = variables.iloc[start:end]
        if any(c not in old.columns or not np.array_equal(fresh[c].to_numpy(dtype=object), old[c].to_numpy(dtype=object))
               for c in fresh.columns):
            return None
    out = replace(lp, variables=variables, blocks=[], upper=lp.upper.copy(), infeasible_rules=[],
                  skipped_rules=list(lp.skipped_rules), need_rows=at, built_by=[])
    for name, first, last in lp.built_by:
        fam, start = BY_NAME[name], len(out.blocks)
        if not fam.reads_need:
            out.blocks.extend(lp.blocks[first:last])
        else:
            bounds = [fam.rebound(b, out, drawn, ctx) for b in lp.blocks[first:last]] if fam.rebound else [None]
            if all(b is not None for b in bounds):
                # The family's rows keep their coefficients: only their bounds are the drawn case's.
                out.blocks.extend(replace(b, lower=lo, upper=up)
                                  for b, (lo, up) in zip(lp.blocks[first:last], bounds))
            else:
                fam.define(out, drawn, ctx)
        out.built_by.append((name, start, len(out.blocks)))
    if out.infeasible_rules:
        return None
    return out


def refloored(lp: LinearProgram, base: Case, changed: Case, pool: frozenset[str] = frozenset()) -> LinearProgram | None:
    """The model of ``changed`` (``base`` with other protection floors: what protecting a dropped
    cohort or area costs, :mod:`commissioning.analysis.dropped`) from ``lp``, ``base``'s model of the
    same level: the protection family defines its rows again, in its place; every other block is
    shared. None when that cannot be promised (the cases differ in more than their floors, another
    pool, a model without its build record)."""
    if lp.built_by is None or lp.infeasible_rules or lp.context is None or lp.context.pool != frozenset(pool):
        return None
    if not same_but_floors(base, changed):
        return None
    share_today(base, changed)  # today's provision reads no floor
    out = replace(lp, blocks=[], infeasible_rules=[], skipped_rules=list(lp.skipped_rules), built_by=[])
    for name, first, last in lp.built_by:
        start = len(out.blocks)
        if name == PROTECT.name:
            PROTECT.define(out, changed, lp.context)
        else:
            out.blocks.extend(lp.blocks[first:last])
        out.built_by.append((name, start, len(out.blocks)))
    return None if out.infeasible_rules else out
