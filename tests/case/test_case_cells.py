"""Eligible cells carried over by ``Case.with_changes``: the same table as worked out afresh.

An ask changes one pot; ``with_changes(pots=…)`` keeps the other pots' cells and works out
only the changed pot's again. Each kind of pot change an ask makes is checked against a
case built from scratch with the same fields.
"""

from pathlib import Path

import pandas as pd
import pytest

from commissioning.case import years as fy
from commissioning.case.model import Case
from commissioning.inputs.validate import load_case

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"


def fresh(case: Case) -> Case:
    return Case(**{name: getattr(case, name) for name in type(case).model_fields})


CHANGES = {
    "add_area": lambda case, p: {"geography": tuple(p.geography) + tuple(a for a in case.area
                                                                         if a not in case.pot_areas[p.code])[:1]},
    "add_cohort": lambda case, p: {"cohorts": tuple(p.cohorts) + tuple(c for c in case.cohort
                                                                       if c not in case.pot_cohorts[p.code])[:1]},
    "carry_forward": lambda case, p: {"carry_forward": p.carry_forward + 1},
    "extend_years": lambda case, p: {"end": fy.year_end(fy.shift(fy.year_of(p.end), 1))},
    "shorter": lambda case, p: {"end": fy.year_end(case.years[0])},
}


@pytest.fixture(scope="module")
def example():
    case = load_case(EXAMPLE)
    case.eligibility.cells(True), case.eligibility.cells(False)  # worked out, so they can be carried
    return case


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("which", [0, 7, -1])
def test_carried_cells_equal_cells_worked_out_afresh(example, change, which):
    pot = example.pots[which]
    new_pot = pot.model_copy(update=CHANGES[change](example, pot))
    changed = example.with_changes(pots=tuple(new_pot if p.code == pot.code else p for p in example.pots))
    assert set(changed.eligibility.cells_worked_out) == {True, False}  # carried, not left to be worked out
    reference = fresh(changed)
    for flag in (True, False):
        pd.testing.assert_frame_equal(changed.eligibility.cells(flag), reference.eligibility.cells(flag))
    # Where the change reaches new cells or drops some, the table did change (else the
    # comparison above would prove nothing). More carry-forward or a later end can change
    # nothing when the pot already has money in every year it may spend it.
    if change in ("add_area", "add_cohort", "shorter") and new_pot != pot:
        assert len(changed.eligibility.cells(False)) != len(example.eligibility.cells(False))


def test_other_changes_are_worked_out_afresh(example):
    fewer = example.with_changes(pots=example.pots[1:])  # codes differ: nothing carried
    assert not fewer.eligibility.cells_worked_out
    pd.testing.assert_frame_equal(fewer.eligibility.cells(), fresh(fewer).eligibility.cells())
    rates = example.with_changes(rates=())
    assert not rates.eligibility.cells_worked_out


def test_a_pydantic_copy_does_not_share_the_cached_tables(example):
    before = example.eligibility.cells(False)
    cheap = example.model_copy(update={"pots": tuple(p.model_copy(update={"unit_cost": 1.0})
                                                     for p in example.pots)})
    pd.testing.assert_frame_equal(cheap.eligibility.cells(False), fresh(cheap).eligibility.cells(False))
    assert (cheap.eligibility.cells(False)["unit_cost"] == 1.0).any()  # the copy's own costs (rates aside)
    pd.testing.assert_frame_equal(example.eligibility.cells(False), before)  # the original is untouched
