"""The penny settlement: no allocation line is solver noise.

A two-column LP in £ thousands: column 0 holds £0.50 (0.0005 £k), column 1 £2,000. By hand:
with no row counting column 0, the settlement takes the 50p line to nothing (below
``MIN_LINE`` = £1) and leaves £2,000 alone; when a minimum (a ``rule`` row with a lower bound)
counts column 0, taking it could break that minimum, so it stays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.levels import MIN_LINE, settle
from optimiser.lp import LinearProgram, meaning_frame


def two_columns() -> LinearProgram:
    variables = pd.DataFrame({"kind": ["alloc", "alloc"], "pot_code": ["P", "P"]})
    return LinearProgram(variables=variables, objective=np.ones(2), tiebreak=np.zeros(2), upper=np.full(2, np.inf))


def test_a_line_below_a_pound_is_settled_to_nothing():
    assert MIN_LINE == 1.0
    x = settle(two_columns(), np.array([0.0005, 2.0]))
    assert x.tolist() == [0.0, 2000.0]  # £0.50 → £0; £2,000 kept


def test_a_line_a_minimum_counts_is_kept():
    lp = two_columns()
    # min_amount-like row: column 0 ≥ £0.40 (0.0004 £k); the 50p line is what meets it.
    lp.add("rule", meaning_frame(1, description="at least 40p on column 0"), np.array([0]), np.array([0]),
           np.array([1.0]), 0.0004, np.inf)
    x = settle(lp, np.array([0.0005, 2.0]))
    assert x.tolist() == [0.5, 2000.0]


def test_a_pound_or_more_is_not_noise():
    x = settle(two_columns(), np.array([0.001, 0.00099]))
    assert x.tolist() == [1.0, 0.0]  # £1.00 kept; £0.99 settled away
