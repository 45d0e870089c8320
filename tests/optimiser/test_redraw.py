"""A need draw's model built from the undisturbed one (optimiser.redraw) is the model the drawn
case builds from nothing, number for number — on the example and on random cases with every
need-reading family on (need caps, equity floor, money moved and least disruption, transition
limits, protection floors); and the model with one more protection floor (what protecting a
dropped cohort costs) is the one built from nothing too."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lpcases import load_spec, random_case_specs

from commissioning.analysis.dropped import protected_case
from commissioning.analysis.sensitivity import case_with_need, need_draws
from commissioning.case.model import Case, Protect
from commissioning.inputs.validate import load_case
from optimiser.build import create_model
from optimiser.levels import default_pool
from optimiser.redraw import redraw, refloored

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"


def fresh(case: Case) -> Case:
    """The same case with nothing worked out (no carried tables)."""
    return Case(**{name: getattr(case, name) for name in type(case).model_fields})


def assert_same_model(a, b) -> None:
    A, lo, up, reg = a.matrix()
    B, lo2, up2, reg2 = b.matrix()
    assert A.shape == B.shape and (A != B).nnz == 0
    assert np.array_equal(lo, lo2) and np.array_equal(up, up2)
    assert reg.equals(reg2)
    assert a.variables.equals(b.variables)
    for vec in ("objective", "tiebreak", "upper"):
        assert np.array_equal(getattr(a, vec), getattr(b, vec)), vec
    assert (a.disruption is None) == (b.disruption is None)
    if a.disruption is not None:
        assert np.array_equal(a.disruption, b.disruption)
    assert a.near_optimal == b.near_optimal and a.skipped_rules == b.skipped_rules


def with_everything(case: Case) -> Case:
    """The case with every need-reading family on: signed contracts, a transition limit, money moved
    capped, least disruption, a protection floor for every cohort, and (in the spec) an equity floor."""
    s = case.settings
    if case.provision:  # every other row of today's provision a signed contract
        case = case.with_changes(provision=tuple(
            pr.model_copy(update={"contract_end": date(2030, 3, 31)}) if i % 2 == 0 else pr
            for i, pr in enumerate(case.provision)))
    return case.with_changes(settings=s.model_copy(update={
        "transition": s.transition.model_copy(update={"max_change": 0.5, "max_moved": 0.6}),
        "least_disruption": True,
        "protect": Protect(cohorts={c.code: 0.3 for c in case.cohorts}),
    }))


@pytest.mark.parametrize("pooled", [False, True], ids=["aligned", "pooled"])
def test_the_example_draw_is_the_model_built_from_nothing(pooled):
    case = load_case(EXAMPLE)
    pool = default_pool(case) if pooled else frozenset()
    lp = create_model(case, pool=pool)
    drawn = case_with_need(case, need_draws(case, 0.2, 1, seed=4)[0])
    got = redraw(lp, case, drawn, pool)
    assert got is not None
    assert_same_model(got, create_model(fresh(drawn), pool=pool))
    # The undisturbed model is untouched, and the draw moved its need caps.
    assert_same_model(lp, create_model(fresh(case), pool=pool))
    caps = lp.matrix()[3]["family"].to_numpy() == "need_cap"
    assert not np.allclose(got.matrix()[2][caps], lp.matrix()[2][caps])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=random_case_specs(), pooled=st.booleans(), seed=st.integers(0, 10_000))
def test_a_random_draw_is_the_model_built_from_nothing(spec, pooled, seed):
    case = with_everything(load_spec(spec))
    pool = default_pool(case) if pooled else frozenset()
    lp = create_model(case, pool=pool)
    drawn = case_with_need(case, need_draws(case, 0.3, 1, seed=seed)[0])
    got = redraw(lp, case, drawn, pool)
    expected = create_model(fresh(drawn), pool=pool)
    if got is None:  # only where the draw cannot be promised: a rule known impossible, columns moved
        assert lp.infeasible_rules or expected.n != lp.n or len(expected.variables) != len(lp.variables) or \
            not expected.variables[["kind", "pot_code", "area_code", "cohort_code", "year"]].equals(
                lp.variables[["kind", "pot_code", "area_code", "cohort_code", "year"]])
        return
    assert_same_model(got, expected)


def test_a_draw_that_empties_a_cell_is_not_redrawn():
    case = load_case(EXAMPLE)
    lp = create_model(case)
    people = np.array([float(n.people) for n in case.need])
    people[np.flatnonzero(people > 0)[0]] = 0.0
    assert redraw(lp, case, case_with_need(case, people)) is None


def test_another_pool_is_not_redrawn():
    case = load_case(EXAMPLE)
    lp = create_model(case)
    drawn = case_with_need(case, need_draws(case, 0.2, 1, seed=4)[0])
    assert redraw(lp, case, drawn, default_pool(case)) is None


def test_need_caps_and_money_moved_keep_their_rows_and_take_the_drawn_bounds():
    """Need caps and money moved (with its limit) read need only in their bounds: a draw's model takes
    their rows and coefficients from the undisturbed model as they are (the same arrays) and only the
    bounds are the drawn case's — which are the bounds the drawn case builds from nothing
    (test_a_random_draw_is_the_model_built_from_nothing)."""
    case = with_everything(load_case(EXAMPLE))
    lp = create_model(case)
    drawn = case_with_need(case, need_draws(case, 0.2, 1, seed=4)[0])
    got = redraw(lp, case, drawn)
    assert got is not None
    assert_same_model(got, create_model(fresh(drawn)))
    seen = set()
    for old, new in zip(lp.blocks, got.blocks):
        if old.family in ("need_cap", "moved", "max_moved"):
            seen.add(old.family)
            assert new is not old and new.rows is old.rows and new.cols is old.cols and new.coefs is old.coefs
            assert new.meaning is old.meaning
    assert seen == {"need_cap", "moved", "max_moved"}
    # The draw moved the need caps' bounds (and today's money, which the baseline spreads over need).
    caps = [i for i, b in enumerate(lp.blocks) if b.family == "need_cap"]
    assert not np.allclose(got.blocks[caps[0]].upper, lp.blocks[caps[0]].upper)


# ---- one more protection floor (commissioning.analysis.dropped) -----------------------------------
@pytest.mark.parametrize("pooled", [False, True], ids=["aligned", "pooled"])
def test_the_example_with_one_more_floor_is_the_model_built_from_nothing(pooled):
    """What protecting a dropped cohort costs is a re-solve with one more floor: its model is the
    level's with the protection rows defined again, number for number the one built from nothing, and
    every other block is the level's own (the same objects)."""
    case = load_case(EXAMPLE)
    pool = default_pool(case) if pooled else frozenset()
    lp = create_model(case, pool=pool)
    area = case.areas[0].code  # the example protects every cohort (ALL: 0.5), no area
    changed = protected_case(case, "area", area)
    got = refloored(lp, case, changed, pool)
    assert got is not None
    assert_same_model(got, create_model(fresh(changed), pool=pool))
    # The protection block gains the area's rows (one per year it has people today: the example's
    # three years); every other block is the level's own.
    old, new = ([b for b in m.blocks if b.family == "protect"] for m in (lp, got))
    assert len(old) == len(new) == 1
    assert len(new[0].meaning) == len(old[0].meaning) + len(case.years)
    assert set(new[0].meaning["area_code"].dropna()) == {area}
    assert len(got.blocks) == len(lp.blocks)
    assert all(any(b is o for o in lp.blocks) for b in got.blocks if b.family != "protect")
    assert [name for name, _, _ in got.built_by] == [name for name, _, _ in lp.built_by]
    assert_same_model(lp, create_model(fresh(case), pool=pool))  # the level's model untouched


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=random_case_specs(), pooled=st.booleans(), pick=st.integers(0, 50), area=st.booleans())
def test_a_random_case_with_one_more_floor_is_the_model_built_from_nothing(spec, pooled, pick, area):
    case = with_everything(load_spec(spec))  # a floor for every cohort already: this adds one, or overrides one
    pool = default_pool(case) if pooled else frozenset()
    lp = create_model(case, pool=pool)
    codes = [a.code for a in case.areas] if area else [c.code for c in case.cohorts]
    changed = protected_case(case, "area" if area else "cohort", codes[pick % len(codes)], share=0.45)
    got = refloored(lp, case, changed, pool)
    if lp.infeasible_rules:
        assert got is None
        return
    assert got is not None
    assert_same_model(got, create_model(fresh(changed), pool=pool))


def test_a_case_that_differs_in_more_than_its_floors_is_not_refloored():
    case = load_case(EXAMPLE)
    lp = create_model(case)
    changed = protected_case(case, "cohort", case.cohorts[0].code)
    other = changed.with_changes(need=tuple(n.model_copy(update={"people": n.people + 1}) for n in changed.need))
    assert refloored(lp, case, other) is None
    assert refloored(lp, case, changed, default_pool(case)) is None  # another level's pool
