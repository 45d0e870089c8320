"""The linear programme as data: variables, constraint blocks and what each row means.

Constraint families add *blocks* — sparse coefficients in coordinate form plus a table
saying, for every row, which rule of the case it expresses (family, pot, area, cohort,
year, note). Nothing downstream parses solver names: interpretation reads this registry.
The solver module turns the blocks into one sparse matrix (or a PuLP problem) at the end.

Units: money variables are in **£ thousands** (``MONEY_SCALE``). CBC stops short of the
optimum when money is modelled in pounds (objective coefficients of ~1e-5 fall under its
dual tolerance); in thousands every coefficient sits near 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

MONEY_SCALE = 1000.0  # £ per model unit
INF = np.inf

REGISTRY_COLUMNS = ["family", "pot_code", "area_code", "cohort_code", "year", "rule_index", "theme", "description"]


@dataclass
class Block:
    """Rows of one constraint family: ``lower <= A x <= upper``."""

    family: str
    meaning: pd.DataFrame  # one row per constraint row: REGISTRY_COLUMNS
    rows: np.ndarray  # local row index of each nonzero
    cols: np.ndarray  # variable index of each nonzero
    coefs: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass
class LinearProgram:
    """A maximisation ``max c·x`` subject to the blocks, ``0 <= x <= ub``.

    ``variables`` describes every column: ``kind`` is ``alloc`` (money for a pot, area,
    cohort and year through a programme), ``flow`` (carry-forward: money of one budget
    year spent in a later year) or ``aux`` (a helper such as total participants).
    """

    variables: pd.DataFrame
    objective: np.ndarray  # primary objective per variable (natural units per model unit)
    tiebreak: np.ndarray  # secondary objective: prefer the soonest-expiring money
    upper: np.ndarray
    blocks: list[Block] = field(default_factory=list)
    objective_name: str = "outcomes"
    objective_scale: float = 1.0  # natural objective = objective_scale × (c·x)
    infeasible_rules: list[str] = field(default_factory=list)  # rows known impossible before solving
    skipped_rules: list[str] = field(default_factory=list)  # rule instances left out, in words (optimiser.families.rules)
    # Columns that take whole values only (min_award's on/off switches); None: none do.
    integer: np.ndarray | None = None
    # Least disruption (optimiser.families.transition): a second objective, maximised over the
    # allocations within ``near_optimal`` of the primary optimum, before the tie-break. None: off.
    disruption: np.ndarray | None = None
    near_optimal: float = 0.0  # share of the primary optimum the later objectives may give up
    # How far a later objective (the second) may fall once the next is solved, relative; below
    # optimiser.solve.OPTIMALITY_SLACK that slack holds (an ask's anchor: optimiser.anchor.ANCHOR_SLACK).
    later_slack: float = 0.0
    # Solve with the simplex at any size (the robust model: its many small recourse rows suit the dual
    # simplex far better than the interior point, measured in optimiser.robust). False: by size.
    prefer_simplex: bool = False
    # The tie-break carries the fixed preference that makes the plan unique (optimiser.objective.unique_plan).
    fixed_preference: bool = False
    # How it was built (optimiser.build.create_model), so that a need draw's model can be built from
    # it (optimiser.redraw): the build context, each defining family's blocks (name, first, end) and
    # each family's own columns (name, first, end); the need row of each column, once worked out.
    context: Any = None
    built_by: list[tuple[str, int, int]] | None = None
    columns_by: list[tuple[str, int, int]] = field(default_factory=list)
    need_rows: np.ndarray | None = field(default=None, repr=False)

    def mark_integer(self, columns) -> None:
        """Make ``columns`` whole-valued (the model becomes a mixed-integer programme)."""
        if self.integer is None:
            self.integer = np.zeros(self.n, dtype=bool)
        self.integer[np.asarray(columns, dtype=np.int64)] = True

    @property
    def is_mip(self) -> bool:
        """Whether any column must take a whole value."""
        return self.integer is not None and bool(self.integer.any())

    @property
    def n(self) -> int:
        """How many variables (columns) the model has."""
        return len(self.variables)

    def add(self, family: str, meaning: pd.DataFrame, rows, cols, coefs, lower, upper) -> None:
        """Append a block of ``family`` rows, ``lower <= A x <= upper`` with ``A`` in coordinate form
        (a scalar bound applies to every row); nothing when ``meaning`` has no rows."""
        m = len(meaning)
        if m == 0:
            return
        meaning = meaning.reindex(columns=REGISTRY_COLUMNS).reset_index(drop=True)
        meaning["family"] = family
        self.blocks.append(
            Block(
                family,
                meaning,
                np.asarray(rows, dtype=np.int64),
                np.asarray(cols, dtype=np.int64),
                np.asarray(coefs, dtype=float),
                np.broadcast_to(np.asarray(lower, dtype=float), (m,)).copy(),
                np.broadcast_to(np.asarray(upper, dtype=float), (m,)).copy(),
            )
        )

    def matrix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, pd.DataFrame]:
        """Stack every block: (A in CSR, row lower, row upper, registry)."""
        offset = 0
        r, c, v, lo, up, meaning = [], [], [], [], [], []
        for b in self.blocks:
            r.append(b.rows + offset)
            c.append(b.cols)
            v.append(b.coefs)
            lo.append(b.lower)
            up.append(b.upper)
            meaning.append(b.meaning)
            offset += len(b.meaning)
        if offset == 0:
            return (sp.csr_matrix((0, self.n)), np.zeros(0), np.zeros(0),
                    pd.DataFrame(columns=REGISTRY_COLUMNS))
        A = sp.csr_matrix(
            (np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(offset, self.n)
        )
        A.sum_duplicates()
        registry = pd.concat(meaning, ignore_index=True)
        return A, np.concatenate(lo), np.concatenate(up), registry

    @property
    def size(self) -> dict[str, int]:
        """The model's size: variables, rows and nonzeros."""
        rows = sum(len(b.meaning) for b in self.blocks)
        nnz = sum(len(b.coefs) for b in self.blocks)
        return {"variables": self.n, "rows": rows, "nonzeros": nnz}


def meaning_frame(n: int, **columns) -> pd.DataFrame:
    """A registry table of ``n`` rows; scalar columns are broadcast."""
    data = {}
    for k in REGISTRY_COLUMNS:
        v = columns.get(k)
        if v is None:
            data[k] = [None] * n
        elif isinstance(v, (str, int, float)):
            data[k] = [v] * n
        else:
            data[k] = list(v)
    return pd.DataFrame(data, columns=REGISTRY_COLUMNS)


def group_rows(keys: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Number the distinct key combinations in order of first appearance.

    Returns the row index of every input line and the table of distinct keys, the usual
    step from "one line per variable" to "one constraint per group".
    """
    keys = keys.reset_index(drop=True)
    codes = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
    first = np.unique(codes, return_index=True)[1]
    return codes, keys.iloc[first].reset_index(drop=True)
