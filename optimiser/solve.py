"""Solving a :class:`~optimiser.lp.LinearProgram` — the only module that talks to solvers.

Two back ends:

* ``cbc`` (default, no extra dependency): PuLP's bundled CBC, through a PuLP problem
  built row by row from the sparse matrix.
* ``highs``: HiGHS through ``highspy``, handed the whole sparse matrix at once. The
  ``Highs`` object is kept so that later solves (phase two, asks, scenarios) start
  from the previous optimal basis.

Both solve **lexicographically**: first the primary objective; then, with the primary
held at its optimum (within a relative 1e-9), the soonest-expiring money is preferred (a
later objective held as its model's ``later_slack`` says: an ask's anchor more loosely,
:mod:`optimiser.anchor`). A later phase that ends without an optimum is solved again the cold way (HiGHS) or held
again at :data:`CBC_HOLD_RETRY`, the newest hold and then every one (CBC, whose plan meets
a hold only to its tolerance and comes back rounded); if it still fails the
:class:`Solution` says so (``unfinished``) and :func:`finished` turns that into a
:class:`~commissioning.errors.SolverError` wherever a plan is read: never the phase before's
plan handed on as the promised one. (Stopped by the caller's time limit instead, the solve's
status is ``time_limit``, as when phase one is stopped.)
Shadow prices come from the first phase and are reported in one convention whatever the
solver: ``dual[i] = ∂(optimal objective, natural units) / ∂(binding bound of row i, model
units)`` — positive for a ≤ row whose loosening helps, negative for a ≥ row whose
tightening costs. (PuLP's own HiGHS adapter flips signs on maximisation; going through
highspy directly, the convention is checked against hand-solved cases in the tests.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from commissioning.errors import SolverError

from optimiser.lp import LinearProgram

SOLVERS = ("cbc", "highs")
# `auto` picks HiGHS at every size when highspy is installed (it is a dependency), CBC only
# without it. Measured on the 2-core machine of benchmarks/README.md: CBC is never faster
# (3.2× slower at 1,805 variables, 1.6-3.6× above), cannot start from a previous basis, and
# passes every model through PuLP and an MPS file; on the example the whole optimise, whose
# asks and package are some thirty re-solves, takes 25.0 s with CBC and 12.3 s with HiGHS.
# Until issue 17 `auto` kept CBC up to 10,000 variables, where the difference was under a
# quarter of a second per solve.
IPM_ABOVE = 100_000
# Which interior point: named, not left to HiGHS, since from HiGHS 1.12 `solver=ipm` may pick
# its newer HiPO solver where it is built in. IPX (with crossover) is what the figures above were
# measured with and gives the simplex objective; HiPO is not in the highspy wheels this project
# installs (1.16: "solver=hipo" is refused for want of BLAS/METIS). See benchmarks/README.md,
# "Which interior point".
IPM_SOLVER = "ipx"


def choose_solver(requested: str, variables: int) -> tuple[str, str]:
    """The solver to use and why: ``auto`` is HiGHS whenever highspy is installed, else CBC."""
    if requested != "auto":
        return requested, f"{requested} as asked"
    try:
        import highspy  # noqa: F401
    except ImportError:
        return "cbc", (f"cbc (auto: {variables:,} variables; HiGHS is faster at every size measured, but "
                       "highspy is not installed: pip install highspy)")
    return "highs", f"highs (auto: {variables:,} variables; HiGHS is faster at every size measured)"
OPTIMALITY_SLACK = 1e-9  # relative slack on the primary objective in phase two
# CBC's plan meets a held objective only to its tolerance and comes back through PuLP rounded, so
# a later phase held at OPTIMALITY_SLACK of objectives worked out from it can be infeasible (with the
# anchor so held, half the example's asks were, and their tie-break was left unsolved, unsaid). The
# phase is then solved with every hold so far widened to this share.
CBC_HOLD_RETRY = 1e-7
# A mixed-integer model (min_award) is solved to this relative gap (0.1%), and above
# MIP_FIX_ABOVE columns the switches the LP relaxation settles are fixed first (_highs_mip).
MIP_GAP = 1e-3
MIP_FIX_ABOVE = 100_000
# A warm start is used only when at least this share of the new model's columns and rows
# are named in the old basis (see WarmStart.apply).
MIN_WARM_SHARE = 0.5
# Which simplex continues from a previous basis. Adding columns or loosening rows (every
# ask, the pooled level after the aligned one) leaves the old basis primal feasible: the
# primal simplex carries on from it (national: an ask 0.4-4.7 s instead of 70-95 s with the
# dual; pooled from aligned 37 s instead of 50 s cold). Changing right-hand sides (a budget,
# a need figure) leaves it dual feasible: the dual simplex is right. See benchmarks/README.md.
# A dual re-solve starts the later phases from their own old bases too (WarmStart.phases): least
# disruption always (national: 0.5-1.0 s a level instead of a 24-32 s interior-point solve), the
# tie-break where it carries the fixed preference (lp.fixed_preference; ca: 452 pivots against 1,074);
# above that the expiry tie-break is so degenerate that the primal simplex from the phase before
# takes 2 pivots, against 266-417 from its old basis. A primal re-solve (an ask) starts least
# disruption from its old basis with the primal simplex: only the held objective's row is
# violated (national: 0.1-2.5 s against a 20-23 s interior-point solve; the dual simplex from
# there took 85 s on an ask that gains). The fixed-preference tie-break's objective is the same
# in the old model and the new, so its old optimal basis is dual feasible but for the columns the
# change adds. An ask's model is anchored to the plan whose bases it starts from (optimiser.anchor),
# so its tie-break optimum lies close to that plan's: with ``tiebreak_warm`` its tie-break starts
# from the old tie-break basis with the dual simplex, which repairs the held rows the change
# violates (a ca ask's tie-break: 0.25-0.6 s, 6,400-7,600 cheap dual pivots, instead of ~0.9 s,
# ~5,000 primal pivots from the phase before; a whole ask 0.67-0.88 s instead of 1.18-1.33 s, the
# same gains to 1e-6). Not for the pooled level after the aligned one: its plan moves far, and
# that way its tie-break took 2.0 s instead of 1.2 s (benchmarks/README.md).
WARM_SIMPLEX = {"primal": 4, "dual": 1}
# Above IPM_ABOVE columns a later phase started from its old basis may stop at this many
# pivots; it then takes the path a cold phase takes (least disruption afresh by interior point,
# the tie-break by the primal simplex from the phase before). From its own basis least
# disruption usually needs ~150 pivots (a draw) to ~800 (an ask), but the pooled level's
# re-solve with one more protection floor made 28,378 (84 s, against 24-40 s for the interior
# point); 5,000 abandoned pivots cost 1.5-3.3 s there. A pivot
# count, not a clock, so the path (and so the plan reached) is the same on any machine.
WARM_PHASE_PIVOTS = 5_000
# Above IPM_ABOVE the columns fixed off the optimal face are constants in every later phase: the
# held-objective rows leave them out and carry their value in the bound (the same rows, ~40%
# of the nonzeros; national draws ~0.5 s faster, the same pivots and plan: benchmarks/README.md).
SPARSE_HELD_ROWS = True


COL_KEY = ["kind", "pot_code", "area_code", "cohort_code", "year", "programme", "budget_year"]
ROW_KEY = ["family", "pot_code", "area_code", "cohort_code", "year", "rule_index", "theme"]


class _KeyCoder:
    """Positions of a model's columns (or rows) by their identifying columns.

    Each key column of the *old* model is factorised once; a new model's values are coded
    against those categories (-1 for a value the old model never had), and rows are looked
    up by their codes packed into one integer. At national size (589,000 columns) tuples of
    keys took seconds per re-solve. Missing values match missing values; a whole number
    matches whether held as int or float.
    """

    def __init__(self, frame: pd.DataFrame, columns: list[str]):
        self.columns = [c for c in columns if c in frame.columns]
        self.categories = []
        codes = []
        for c in self.columns:
            code, uniques = pd.factorize(_values(frame[c]), use_na_sentinel=False)
            self.categories.append(pd.Index(uniques, dtype=object))
            codes.append(code)
        self.radix = [len(cats) + 1 for cats in self.categories]
        # Codes packed into one integer when they fit (always, for any real case): an integer
        # hash lookup. Otherwise a MultiIndex of the codes does the same, more slowly.
        self.packed = float(np.prod([float(r) for r in self.radix])) < 2.0 ** 62
        keys = self._keys(codes, len(frame))
        unique = ~keys.duplicated(keep=False)  # an ambiguous key maps to nothing
        self.index = keys[unique]
        self.position = np.flatnonzero(unique)

    def _keys(self, codes: list[np.ndarray], n: int) -> pd.Index:
        if not codes:
            return pd.Index(np.zeros(n, dtype=np.int64))
        if not self.packed:
            return pd.MultiIndex.from_arrays(codes)
        key = np.zeros(n, dtype=np.int64)
        for code, radix in zip(codes, self.radix):
            key = key * radix + (np.asarray(code, dtype=np.int64) + 1)
        return pd.Index(key)

    def positions(self, frame: pd.DataFrame) -> np.ndarray:
        """Position in the old model of each row of ``frame``; -1 where it has no such key."""
        if not self.columns or not len(self.index) or any(c not in frame.columns for c in self.columns):
            return np.full(len(frame), -1)
        codes = [cats.get_indexer(_values(frame[c])) for c, cats in zip(self.columns, self.categories)]
        # A value the old model never had (code -1) packs to a digit no old row has.
        hit = self.index.get_indexer(self._keys(codes, len(frame)))
        return np.where(hit >= 0, self.position[np.maximum(hit, 0)], -1)


def _count_distinct(positions: np.ndarray, size: int) -> int:
    """How many of ``0..size-1`` appear in ``positions`` (-1 entries ignored); O(n), no sort."""
    seen = np.zeros(size, dtype=bool)
    seen[positions[positions >= 0]] = True
    return int(seen.sum())


_MISSING = "\x00missing"


def _values(column: pd.Series) -> np.ndarray:
    """A key column as objects, every kind of missing value (None, NaN, NA) made one marker:
    pandas looks None up inconsistently in an index that also holds numbers."""
    values = column.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = _MISSING
    return values


_STATUS_TABLE: list = []


def _statuses(values: np.ndarray) -> list:
    """HiGHS basis statuses from their integer codes (a table lookup: 7x faster than S(int))."""
    import highspy

    if not _STATUS_TABLE:
        _STATUS_TABLE.extend(highspy.HighsBasisStatus(i) for i in range(5))
    return [_STATUS_TABLE[v] for v in np.asarray(values, dtype=np.int64).tolist()]


def _highs_basis(col_status: np.ndarray, row_status: np.ndarray):
    """A HiGHS basis of these statuses (integer codes), by position."""
    import highspy

    basis = highspy.HighsBasis()
    basis.col_status = _statuses(col_status)
    basis.row_status = _statuses(row_status)
    basis.valid = True
    basis.alien = True
    return basis


def _take_basis(h, basis) -> bool:
    """Hand ``basis`` to HiGHS; whether it was taken."""
    import highspy

    return h.setBasis(basis) == highspy.HighsStatus.kOk


class WarmStart:
    """An optimal basis named by domain keys, so it can seed a *changed* model.

    Columns are identified by what they are (kind, pot, area, cohort, year, programme,
    budget year) and rows by the rule they express, never by position: an ask that adds a
    cohort, a scenario that drops a rule or a sensitivity draw maps the basis across, new
    columns start at zero and new rows with their slack basic. HiGHS accepts such an
    "alien" basis and repairs its count, so a re-solve starts next to the previous optimum
    instead of from scratch.

    Capturing costs nothing: the keys and statuses are worked out the first time the basis
    is used (most captured bases — an ask's — never are).

    ``phases`` are the optimal bases of the later objectives (least disruption, the
    tie-break), each with its phase's held-objective rows: a dual re-solve (right-hand sides
    moved, as in a need draw, or rows added, as a protection floor adds them) starts each
    later phase from its own basis, mapped as the first was (:meth:`apply_phase`), instead
    of from the phase before. A model with exactly the old columns and rows in the old order
    (a need draw's) is matched by position, without the key lookup (:meth:`same_model`).
    """

    def __init__(self, columns: pd.DataFrame, rows: pd.DataFrame, basis=None,
                 col_status: np.ndarray | None = None, row_status: np.ndarray | None = None,
                 phases: list | None = None):
        self.columns, self.rows, self._basis = columns, rows, basis
        self._col_status, self._row_status = col_status, row_status
        self.phases: list[PhaseBasis] = list(phases or [])
        self._coders: dict[str, _KeyCoder] = {}
        # By position (a need draw's model): the mapping, and each phase's HiGHS basis, made once.
        self._identity: tuple | None = None
        self._by_position: dict[int, object] = {}

    def _coder(self, which: str) -> _KeyCoder:
        if which not in self._coders:  # built once, however many re-solves start here
            frame, key = (self.columns, COL_KEY) if which == "columns" else (self.rows, ROW_KEY)
            self._coders[which] = _KeyCoder(frame, key)
        return self._coders[which]

    def __getstate__(self) -> dict:
        """Pickled with plain status arrays (HiGHS's basis object cannot be pickled)."""
        columns = self.columns[[c for c in COL_KEY if c in self.columns.columns]]
        rows = self.rows[[c for c in ROW_KEY if c in self.rows.columns]]  # the keys only
        return {"columns": columns, "rows": rows, "_basis": None, "_col_status": self.col_status,
                "_row_status": self.row_status, "phases": self.phases, "_coders": {}, "_identity": None,
                "_by_position": {}}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({"_identity": None, "_by_position": {}, **state})

    @classmethod
    def capture(cls, lp: LinearProgram, registry, h) -> "WarmStart | None":
        """The basis HiGHS (``h``) holds after solving ``lp``, named by ``lp``'s keys; None when it is not valid."""
        b = h.getBasis()
        if not b.valid:
            return None
        return cls(lp.variables, registry, basis=b)

    @property
    def col_status(self) -> np.ndarray:
        """Each column's basis status as an integer code (worked out on first use)."""
        if self._col_status is None:
            self._col_status = np.fromiter(map(int, self._basis.col_status), dtype=np.int64)
        return self._col_status

    @property
    def row_status(self) -> np.ndarray:
        """Each model row's basis status as an integer code (worked out on first use)."""
        if self._row_status is None:  # phase two's extra row is not part of the model
            self._row_status = np.fromiter(map(int, self._basis.row_status), dtype=np.int64)[: len(self.rows)]
        return self._row_status

    def same_model(self, lp: LinearProgram, registry) -> bool:
        """Whether ``lp`` has exactly this basis's columns and rows, in the same order (a need
        draw's model: the same cells, other numbers), so the basis applies by position."""
        if len(lp.variables) != len(self.columns) or len(registry) != len(self.rows):
            return False
        for frame, old, key in ((lp.variables, self.columns, COL_KEY), (registry, self.rows, ROW_KEY)):
            for c in key:
                if (c in frame.columns) != (c in old.columns):
                    return False
                if c in frame.columns and not frame[c].reset_index(drop=True).equals(old[c].reset_index(drop=True)):
                    return False
        return True

    def set(self, h, col_status: np.ndarray, row_status: np.ndarray) -> bool:
        """Hand HiGHS a basis of these statuses, by position; whether it was taken."""
        return _take_basis(h, _highs_basis(col_status, row_status))

    def mapping(self, lp: LinearProgram, registry) -> tuple[np.ndarray, np.ndarray, float]:
        """Each column and row of ``lp`` as a position in this basis (-1: new), and the share of
        this basis found there. A need draw's model (:meth:`same_model`) maps by position."""
        if self.same_model(lp, registry):
            if self._identity is None:
                self._identity = (np.arange(len(self.columns)), np.arange(len(self.rows)), 1.0)
            return self._identity
        col_pos = self._coder("columns").positions(lp.variables)
        row_pos = self._coder("rows").positions(registry)
        found = (_count_distinct(col_pos, len(self.columns)) + _count_distinct(row_pos, len(self.rows))) / \
            max(1, len(self.columns) + len(self.rows))
        return col_pos, row_pos, float(found)

    def apply(self, lp: LinearProgram, registry, h, mapped: tuple | None = None) -> float:
        """Hand HiGHS the basis mapped onto ``lp``; return the share of it that was found.

        The share is of the old basis: its columns and rows that the new model still has. A
        model that only grew (the pooled level after the aligned one, an ask that adds
        columns) keeps all of it. Below :data:`MIN_WARM_SHARE` the old basis says too little
        about the new model (a basis captured under other keys maps to nothing, yet would be
        "applied"), so it is not handed over at all and the solve is a cold one, reported so.
        ``mapped`` is :meth:`mapping`'s answer when the caller has it already.
        """
        col_pos, row_pos, found = mapped or self.mapping(lp, registry)
        if found < MIN_WARM_SHARE:
            return found
        if mapped is not None and mapped is self._identity:
            return found if self._set_by_position(h, 0, self.col_status, self.row_status) else 0.0
        return found if self._set_mapped(h, (col_pos, row_pos), self.col_status, self.row_status) else 0.0

    def apply_phase(self, k: int, h, mapped: tuple) -> bool:
        """Hand HiGHS later phase ``k``'s basis mapped as :meth:`mapping` mapped the model (its
        held-objective rows, after the model's, as they were); whether it was taken."""
        if k >= len(self.phases):
            return False
        cols, rows = self.phases[k].statuses()
        held = rows[len(self.rows):]
        if len(mapped[1]) + len(held) != h.getNumRow():
            return False
        if mapped is self._identity:
            return self._set_by_position(h, k + 1, cols, rows)
        return self._set_mapped(h, mapped[:2], cols, rows[: len(self.rows)], held)

    def _set_by_position(self, h, k: int, cols: np.ndarray, rows: np.ndarray) -> bool:
        """Hand HiGHS phase ``k``'s basis (0: the primary's) unmapped, its HiGHS object made the first
        time (a sensitivity run hands the same bases to every draw: 0.15 s a draw at national size)."""
        if k not in self._by_position:
            self._by_position[k] = _highs_basis(cols, rows)
        return _take_basis(h, self._by_position[k])

    def _set_mapped(self, h, positions: tuple, cols: np.ndarray, rows: np.ndarray,
                    held: np.ndarray | None = None) -> bool:
        import highspy

        S = highspy.HighsBasisStatus
        col_pos, row_pos = positions
        # Index -1 (a key the old model lacked) picks the appended default: a new column
        # starts non-basic at its lower bound (zero), a new row with its slack basic.
        c = np.append(cols, int(S.kLower))[col_pos]
        r = np.append(rows, int(S.kBasic))[row_pos]
        if held is not None:
            r = np.concatenate([r, held])
        return self.set(h, c, r)


class PhaseBasis:
    """The optimal basis of one later phase (its model's rows and the held-objective rows),
    by position; its statuses worked out on first use, and pickled as integer arrays."""

    def __init__(self, basis):
        self._basis, self._cols, self._rows = basis, None, None

    def statuses(self) -> tuple[np.ndarray, np.ndarray]:
        """(column statuses, row statuses) as integer codes."""
        if self._cols is None:
            self._cols = np.fromiter(map(int, self._basis.col_status), dtype=np.int64)
            self._rows = np.fromiter(map(int, self._basis.row_status), dtype=np.int64)
            self._basis = None
        return self._cols, self._rows

    def __getstate__(self) -> dict:
        cols, rows = self.statuses()
        return {"_basis": None, "_cols": cols, "_rows": rows}


@dataclass
class Solution:
    """What a solve gives: its status, the variables (money in £ thousands), the objective in
    natural units, each row's activity and dual, the solver, and timings in seconds."""

    status: str  # optimal | infeasible | unbounded | time_limit | error
    x: np.ndarray  # model units (money in £k)
    objective: float  # natural units (outcomes, £, participants)
    row_activity: np.ndarray
    row_dual: np.ndarray  # phase-one duals, see the module docstring
    solver: str
    seconds: float
    proven_optimal: bool = True
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    warm: "WarmStart | None" = None  # the optimal basis of the primary objective (HiGHS only)
    warm_started: bool = False
    # A mixed-integer model (min_award): the LP relaxation's optimum (natural units), the gap
    # of the plan's objective below it, the solver's own proven gap, and the method used.
    lp_bound: float | None = None
    mip_gap: float | None = None
    solver_gap: float | None = None
    mip_method: str = ""
    # A later phase (least disruption, the tie-break) that ended without an optimum, in words; the
    # plan is then the phase before's, optimal for the primary objective but not the one promised.
    unfinished: str = ""


def solve(lp: LinearProgram, solver: str = "cbc", time_limit: float | None = None,
          lexicographic: bool = True, warm: "WarmStart | None" = None, warm_method: str = "primal",
          kept: "KeptHighs | None" = None, tiebreak_warm: bool = False) -> Solution:
    """Solve ``lp`` (see the module docstring).

    ``warm`` (HiGHS only) is a previous optimal basis to start from, and ``warm_method``
    says how the model changed since: ``primal`` when columns were added or rows loosened,
    ``dual`` when only right-hand sides moved (:data:`WARM_SIMPLEX`). ``kept`` (HiGHS only) is
    an instance kept between models that differ in bounds only (:class:`KeptHighs`).
    ``tiebreak_warm``: a primal re-solve anchored to the plan ``warm`` comes from starts its
    fixed-preference tie-break from that plan's tie-break basis (:data:`WARM_SIMPLEX`).
    """
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver '{solver}': choose one of {', '.join(SOLVERS)}")
    if warm_method not in WARM_SIMPLEX:
        raise ValueError(f"warm_method must be one of {', '.join(WARM_SIMPLEX)}")
    t0 = time.perf_counter()
    if lp.n == 0:
        return Solution("optimal", np.zeros(0), 0.0, np.zeros(0), np.zeros(0), solver, 0.0)
    if solver == "highs":
        sol = _solve_highs(lp, time_limit, lexicographic, warm, warm_method, kept, tiebreak_warm)
    else:  # CBC through PuLP cannot take a starting basis for an LP: it always starts cold
        sol = _solve_cbc(lp, time_limit, lexicographic)
    sol.seconds = time.perf_counter() - t0
    return sol


def _nothing_found(time_limit: float | None) -> str:
    return (f"the solver found no allocation within the time limit of {time_limit:g} seconds; "
            "allow more time (--time-limit) or leave the limit off")


# ---- HiGHS -----------------------------------------------------------------------------------
def _highs_available():
    try:
        import highspy
    except ImportError:  # pragma: no cover - depends on the machine
        raise SolverError("the HiGHS solver is not installed: pip install highspy "
                          "(or use the default --solver cbc)") from None
    return highspy


_QUIET_HIGHS: list = []  # the class made by new_highs, once highspy is imported


def _silence(h) -> None:
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)


def new_highs():
    """A ``highspy.Highs`` that prints nothing on standard output, not even its banner.

    HiGHS prints "Running HiGHS … Copyright …" on the first call to an instance that is not
    the setting of an option, unless ``output_flag`` is already off; highspy's constructor
    makes such a call itself (it registers its callbacks through ``enableCallbacks``), so
    setting the option on the constructed object is too late. The subclass turns the output
    off inside that call, before HiGHS is asked anything else. Standard output is for the
    command's results only.
    """
    highspy = _highs_available()
    if not _QUIET_HIGHS:
        class QuietHighs(highspy.Highs):
            def enableCallbacks(self):
                _silence(self)  # before highspy's first real call to HiGHS
                super().enableCallbacks()

        _QUIET_HIGHS.append(QuietHighs)
    h = _QUIET_HIGHS[0]()
    _silence(h)  # a highspy whose constructor does not go through enableCallbacks
    return h


def highs_model(lp: LinearProgram, with_registry: bool = False):
    """A ready ``highspy.Highs`` holding the LP (maximisation) — and the registry if asked."""
    highspy = _highs_available()
    A, lo, up, registry = lp.matrix()
    A = A.tocsc()
    inf = highspy.kHighsInf
    h = new_highs()
    _settings(h)
    model = highspy.HighsLp()
    model.num_col_ = lp.n
    model.num_row_ = A.shape[0]
    model.sense_ = highspy.ObjSense.kMaximize
    model.col_cost_ = lp.objective.astype(float)
    model.col_lower_ = np.zeros(lp.n)
    model.col_upper_ = np.where(np.isinf(lp.upper), inf, lp.upper)
    model.row_lower_ = np.where(np.isinf(lo), -inf, lo)
    model.row_upper_ = np.where(np.isinf(up), inf, up)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr.astype(np.int32)
    model.a_matrix_.index_ = A.indices.astype(np.int32)
    model.a_matrix_.value_ = A.data.astype(float)
    model.a_matrix_.num_col_ = lp.n
    model.a_matrix_.num_row_ = A.shape[0]
    h.passModel(model)
    return (h, registry) if with_registry else h


class KeptHighs:
    """One HiGHS instance kept for the models of a level that differ from the first only in their
    bounds: a sensitivity run's need draws (:func:`optimiser.redraw.redraw` shares every block that
    does not read need; :meth:`same_matrix` checks that the need-reading ones kept their coefficients).

    Handing the matrix over (:func:`highs_model`) took 0.27 s a level at national size, and
    matching the undisturbed basis to it 0.1 s; both are once per level here. :meth:`take` gives the
    instance back ready for ``lp`` — the rows a previous solve added for its held objectives
    deleted, every row's and column's bounds and the costs set from ``lp``, the solver's state and
    options cleared as a new instance has them — or None when ``lp``'s matrix is not the held one
    (the caller then builds a new instance, which this one keeps from then on). The same model in
    the same starting state, so the same path: a draw gives the same figures whichever instance,
    and whichever process, solves it (tested).
    """

    def __init__(self):
        self.lp: LinearProgram | None = None
        self.h = None
        self.registry: pd.DataFrame | None = None
        self.rows = 0
        self._mapped: tuple | None = None  # (the basis, its mapping onto the held model)
        self.fixed = np.zeros(0, dtype=np.int32)  # the columns the last solve fixed off the optimal face

    def keep(self, lp: LinearProgram, h, registry: pd.DataFrame) -> None:
        """Hold ``h``, just made from ``lp``."""
        self.lp, self.h, self.registry, self.rows, self._mapped = lp, h, registry, h.getNumRow(), None
        self.fixed = np.zeros(0, dtype=np.int32)

    def same_matrix(self, lp: LinearProgram) -> bool:
        """Whether ``lp`` has the held model's columns and coefficients, row for row."""
        held = self.lp
        if held is None or lp.is_mip or lp.n != held.n or len(lp.blocks) != len(held.blocks):
            return False
        for a, b in zip(lp.blocks, held.blocks):
            if a is b:
                continue
            if a.family != b.family or len(a.lower) != len(b.lower) or not (
                    np.array_equal(a.rows, b.rows) and np.array_equal(a.cols, b.cols)
                    and np.array_equal(a.coefs, b.coefs)):
                return False
        return True

    def take(self, lp: LinearProgram):
        """``(h, registry)`` ready to solve ``lp``, or None (see the class docstring)."""
        if not self.same_matrix(lp):
            return None
        import highspy

        h, inf = self.h, highspy.kHighsInf
        extra = h.getNumRow() - self.rows
        if extra > 0:
            h.deleteRows(extra, np.arange(self.rows, self.rows + extra, dtype=np.int32))
        lo = np.concatenate([b.lower for b in lp.blocks]) if lp.blocks else np.zeros(0)
        up = np.concatenate([b.upper for b in lp.blocks]) if lp.blocks else np.zeros(0)
        rows, cols = np.arange(self.rows, dtype=np.int32), np.arange(lp.n, dtype=np.int32)
        h.clearSolver()
        h.changeRowsBounds(self.rows, rows, np.where(np.isinf(lo), -inf, lo), np.where(np.isinf(up), inf, up))
        # The column bounds HiGHS holds are the held model's, but for the columns the last solve fixed
        # off the optimal face; set those, and any whose bound this model moves.
        moving = lp.upper != self.lp.upper
        moving[self.fixed] = True
        moved = np.flatnonzero(moving).astype(np.int32)
        if len(moved):
            h.changeColsBounds(len(moved), moved, np.zeros(len(moved)),
                               np.where(np.isinf(lp.upper[moved]), inf, lp.upper[moved]))
        self.fixed = np.zeros(0, dtype=np.int32)
        h.changeColsCost(lp.n, cols, lp.objective.astype(float))
        h.resetOptions()
        _settings(h)
        self.lp = lp
        return h, self.registry

    def mapping(self, warm: "WarmStart", lp: LinearProgram) -> tuple:
        """``warm``'s mapping onto the held model, worked out once."""
        if self._mapped is None or self._mapped[0] is not warm:
            self._mapped = (warm, warm.mapping(lp, self.registry))
        return self._mapped[1]


def _settings(h) -> None:
    """The options every instance starts with (:func:`highs_model`)."""
    h.setOptionValue("random_seed", 0)
    _silence(h)


def _highs_status(h) -> str:
    import highspy

    s = h.getModelStatus()
    M = highspy.HighsModelStatus
    if s == M.kOptimal:
        return "optimal"
    if s == M.kInfeasible:
        return "infeasible"
    if s in (M.kUnbounded, M.kUnboundedOrInfeasible):
        return "unbounded" if s == M.kUnbounded else "infeasible"
    if s in (M.kTimeLimit, M.kIterationLimit, M.kInterrupt):
        return "time_limit"
    return "error"


def _use_ipm(h) -> None:
    """Interior point (:data:`IPM_SOLVER`) with crossover. Before HiGHS 1.12 ``ipx`` is not a
    value of ``solver``, and ``ipm`` can only mean IPX: that is used when ``ipx`` is refused."""
    import highspy

    if h.setOptionValue("solver", IPM_SOLVER) != highspy.HighsStatus.kOk:
        h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "on")


_NO_LIMIT = 2_147_483_647  # HiGHS's default simplex_iteration_limit (kHighsIInf)


def _iteration_limit():
    import highspy

    return highspy.HighsModelStatus.kIterationLimit


def _time_limit():
    import highspy

    return highspy.HighsModelStatus.kTimeLimit


def _later_objectives(lp: LinearProgram) -> list[np.ndarray]:
    """The objectives after the primary, in order: least disruption (when on), then the tie-break."""
    out = []
    if lp.disruption is not None and np.any(lp.disruption):
        out.append(lp.disruption)
    if np.any(lp.tiebreak):
        out.append(lp.tiebreak)
    return out


def _hold_slack(lp: LinearProgram, first: bool) -> float:
    """How far an objective may fall once the next one is optimised: the primary by
    ``near_optimal`` (at least :data:`OPTIMALITY_SLACK`), every later one by the model's
    ``later_slack`` (at least :data:`OPTIMALITY_SLACK`; an ask's anchor, :mod:`optimiser.anchor`)."""
    return max(OPTIMALITY_SLACK, lp.near_optimal) if first else max(OPTIMALITY_SLACK, lp.later_slack)


def _mip_gap(bound: float, value: float) -> float:
    """The relative gap between the LP relaxation's optimum (the bound) and the MIP's."""
    return max(0.0, bound - value) / max(1e-9, abs(bound))


def _solve_highs(lp: LinearProgram, time_limit: float | None, lexicographic: bool,
                 warm: "WarmStart | None" = None, warm_method: str = "primal",
                 kept: "KeptHighs | None" = None, tiebreak_warm: bool = False) -> Solution:

    t0 = time.perf_counter()
    taken = kept.take(lp) if kept is not None else None
    if taken is None:
        h, registry = highs_model(lp, with_registry=True)
        if kept is not None:
            kept.keep(lp, h, registry)
    else:
        h, registry = taken
    if warm is None:
        mapped = None
    else:
        mapped = kept.mapping(warm, lp) if kept is not None else warm.mapping(lp, registry)
    share = warm.apply(lp, registry, h, mapped) if warm is not None else 0.0
    warmed = share >= MIN_WARM_SHARE
    # Every later phase of the old model's optimum starts from its own basis too (see WARM_SIMPLEX).
    phased = warmed and not lp.is_mip and bool(warm.phases)
    if warmed:
        # With solver=ipm HiGHS would ignore the basis; the simplex variant follows the change.
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", WARM_SIMPLEX[warm_method])
    elif lp.n > IPM_ABOVE and not lp.prefer_simplex:
        _use_ipm(h)
    t_build = time.perf_counter() - t0
    if time_limit:
        h.setOptionValue("time_limit", float(time_limit))
    h.run()
    status = _highs_status(h)
    timings = {"transfer": t_build, "phase1": time.perf_counter() - t0 - t_build, "warm_share": share}
    m = h.getNumRow()
    if status not in ("optimal", "time_limit"):
        return Solution(status, np.zeros(lp.n), 0.0, np.zeros(m), np.zeros(m), "highs", 0.0,
                        proven_optimal=False, message=h.modelStatusToString(h.getModelStatus()))
    mip = {}
    if lp.is_mip and status == "optimal":
        mip = _highs_mip(lp, h, timings)
        status = mip.pop("status")
        if status not in ("optimal", "time_limit"):
            return Solution(status, np.zeros(lp.n), 0.0, np.zeros(m), np.zeros(m), "highs", 0.0,
                            proven_optimal=False, message=mip.pop("message", ""), **mip)
    info = h.getSolution()
    x = np.asarray(info.col_value)
    if status == "time_limit" and not info.value_valid:
        # Nothing found is not "the best answer so far": an allocation of zeros would be
        # explained as if it were one (money idle, need "fully served").
        raise SolverError(_nothing_found(time_limit))
    # Through highspy (unlike PuLP's HiGHS adapter) a maximisation's duals already carry
    # the sign of ∂objective/∂bound: a binding ≤ row has a positive shadow price.
    dual = np.asarray(info.row_dual) if info.dual_valid else np.zeros(m)
    activity = np.asarray(info.row_value)
    basis = WarmStart.capture(lp, registry, h) if status == "optimal" else None
    timings["iterations"] = float(h.getInfo().simplex_iteration_count)
    unfinished = ""
    if lexicographic and status == "optimal":
        t1 = time.perf_counter()
        held, slack = lp.objective, _hold_slack(lp, first=True)
        later = _later_objectives(lp)
        phased = phased and len(warm.phases) == len(later)
        off_face = None
        if len(later) > 1 and lp.n > IPM_ABOVE and lp.near_optimal <= OPTIMALITY_SLACK and info.dual_valid:
            fixed = _fix_off_the_face(lp, h, x, np.asarray(info.col_dual))
            timings["fixed_off_face"] = float(len(fixed))
            if kept is not None:
                kept.fixed = fixed.astype(np.int32)
            if SPARSE_HELD_ROWS and len(fixed):
                off_face = np.zeros(lp.n, dtype=bool)
                off_face[fixed] = True
        for k, c in enumerate(later):
            nz = np.flatnonzero(held)
            if len(nz):
                zh = float(held @ x)
                bound = zh - slack * max(1.0, abs(zh))
                if off_face is not None:
                    # A column fixed off the face is a constant: its term moves to the bound.
                    const = nz[off_face[nz]]
                    bound -= float(held[const] @ x[const])
                    nz = nz[~off_face[nz]]
                h.addRow(bound, highspy_inf(), len(nz), nz.astype(np.int32), held[nz].astype(float))
            h.changeColsCost(lp.n, np.arange(lp.n, dtype=np.int32), c.astype(float))
            name = "disruption" if c is lp.disruption else "tiebreak"
            wants_old = phased and (c is lp.disruption or (lp.fixed_preference and (warm_method == "dual"
                                                                                   or tiebreak_warm)))
            # The phase before's basis, kept before the old one replaces it: the cold path starts there.
            before = h.getBasis() if wants_old else None
            from_old = wants_old and warm.apply_phase(k, h, mapped)
            if from_old:
                # This phase of the old model, solved before: with other right-hand sides or fewer
                # rows (dual) its basis stays dual feasible; with fewer columns or tighter rows
                # (primal) only the held objective's row is violated, and the primal simplex
                # repairs it (national ask: least disruption 0.1-2.5 s instead of 20-23 s). The
                # tie-break's objective is the old one whatever changed (see WARM_SIMPLEX).
                h.setOptionValue("solver", "simplex")
                h.setOptionValue("simplex_strategy",
                                 WARM_SIMPLEX["dual" if c is not lp.disruption else warm_method])
            elif c is lp.disruption and lp.n > IPM_ABOVE:
                # Least disruption at scale: the distance objective is far from the primary, so
                # the primal simplex from phase one's basis makes hundreds of thousands of pivots
                # (national: 120-260 s a level). Solved afresh instead, presolve removing the
                # columns fixed off the face, by interior point with crossover (benchmarks/README.md).
                h.clearSolver()
                _use_ipm(h)
            else:
                h.setOptionValue("solver", "simplex")  # each phase starts from the last one's basis
                h.setOptionValue("simplex_strategy", WARM_SIMPLEX["primal"])
            t_phase = time.perf_counter()
            capped = from_old and lp.n > IPM_ABOVE
            if capped:
                h.setOptionValue("simplex_iteration_limit", int(WARM_PHASE_PIVOTS))
            h.run()
            pivots = float(h.getInfo().simplex_iteration_count)
            if capped:
                h.setOptionValue("simplex_iteration_limit", _NO_LIMIT)
            abandoned = capped and h.getModelStatus() == _iteration_limit()
            if abandoned or (from_old and _highs_status(h) != "optimal"):
                # The warm path is longer than the phase's cold path (or ended without an optimum):
                # take the cold path instead (_cold_phase), as a phase not started warm would.
                timings[name + ("_warm_abandoned" if abandoned else "_warm_failed")] = pivots
                timings[name + "_warm_seconds"] = time.perf_counter() - t_phase
                _cold_phase(h, lp, before, disruption=c is lp.disruption)
                h.run()
                pivots += float(h.getInfo().simplex_iteration_count)
            timings[name] = time.perf_counter() - t_phase
            timings[name + "_iterations"] = pivots
            timings[name + "_from_old"] = float(from_old)  # began at the old model's basis of this phase
            if _highs_status(h) != "optimal":
                if time_limit and h.getModelStatus() == _time_limit():
                    # Stopped by the user's time limit: the run's status says so (the best found, not
                    # proven), as when phase one is stopped; not an error.
                    status = "time_limit"
                else:
                    # The plan is optimal for the primary objective but not the one this phase picks
                    # among the optimal ones: said, never handed on as if it were (SolverError upstream).
                    unfinished = f"{PHASE_WORDS[name]} phase ended {_highs_status(h)} " \
                                 f"({h.modelStatusToString(h.getModelStatus())})"
                break
            if basis is not None:
                basis.phases.append(PhaseBasis(h.getBasis()))
            phase_solution = h.getSolution()
            x = np.asarray(phase_solution.col_value)
            activity = np.asarray(phase_solution.row_value)[:m]
            held, slack = c, _hold_slack(lp, first=False)
        timings["phase2"] = time.perf_counter() - t1
    return Solution(status, x, float(lp.objective @ x) * lp.objective_scale, activity, dual, "highs", 0.0,
                    proven_optimal=status == "optimal", timings=timings, warm=basis, warm_started=warmed,
                    unfinished=unfinished, **mip)


PHASE_WORDS = {"disruption": "least-disruption", "tiebreak": "tie-break"}


def finished(sol: Solution, what: str) -> Solution:
    """``sol``, unless one of its later phases ended without an optimum (``sol.unfinished``): then a
    :class:`SolverError` naming ``what`` was solved. Its plan would be optimal for the primary
    objective but not the one the engine promises (least disruption, one plan whatever the
    solver), and nothing downstream could tell."""
    if sol.unfinished:
        other = "cbc" if sol.solver == "highs" else "highs"
        raise SolverError(f"{what}: its {sol.unfinished}, so its plan is optimal but not the one the later "
                          f"phases pick among the optimal ones; try --solver {other}")
    return sol


def _cold_phase(h, lp: LinearProgram, before, disruption: bool) -> None:
    """Set ``h`` to solve the current phase as it is solved when not started from the old model's
    basis: least disruption above :data:`IPM_ABOVE` columns afresh by interior point, anything
    else by the primal simplex from the phase before's basis ``before`` (afresh when there is none)."""
    if disruption and lp.n > IPM_ABOVE:
        h.clearSolver()
        _use_ipm(h)
        return
    if before is not None and before.valid:
        h.setBasis(before)
    else:
        h.clearSolver()
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("simplex_strategy", WARM_SIMPLEX["primal"])


REDUCED_COST_TOL = 1e-7  # a reduced cost this far from zero keeps its column off the optimal face


def _fix_off_the_face(lp: LinearProgram, h, x: np.ndarray, reduced: np.ndarray) -> np.ndarray:
    """Fix every column whose reduced cost is clearly non-zero at the bound it sits on; return which.

    Every optimal plan satisfies complementary slackness with the phase-one dual solution,
    so a column at a bound with a non-zero reduced cost sits at that bound in *every* optimal
    plan: fixing it there leaves the optimal face exactly as it was, while the later phases
    (least disruption, the tie-break) no longer price the columns that cannot move. Measured
    at national size this is what keeps least disruption affordable (benchmarks/README.md).
    Only when the primary is held at its optimum (``near_optimal`` 0): a tolerance widens
    the face beyond what the duals describe. And only above :data:`IPM_ABOVE` columns, where
    the plan is the solver's own among equal ones anyway: reduced costs are known to the
    solver's tolerance, and below that size (where every solver must give one plan) fixing
    on them moved the example's CBC and HiGHS plans £104 apart instead of £10.
    """
    at_lower = (x <= 1e-9) & (reduced < -REDUCED_COST_TOL)
    at_upper = np.isfinite(lp.upper) & (x >= lp.upper - 1e-9) & (reduced > REDUCED_COST_TOL)
    fix = np.flatnonzero(at_lower | at_upper)
    if len(fix):
        value = np.where(at_upper[fix], lp.upper[fix], 0.0)
        h.changeColsBounds(len(fix), fix.astype(np.int32), value, value)
    return fix


def _highs_mip(lp: LinearProgram, h, timings: dict) -> dict:
    """The mixed-integer solve, on ``h`` holding the solved LP relaxation (see :data:`MIP_GAP`).

    The relaxation's optimum is kept as the bound. Above :data:`MIP_FIX_ABOVE` columns, the
    switches the relaxation leaves at 0 or 1 are fixed there first (fixing from the LP
    relaxation) and only the fractional ones are searched. The MIP's switches are then fixed
    and the LP solved again: its duals are the shadow prices reported, for the plan as it stands.
    """
    import highspy

    t0 = time.perf_counter()
    relaxed = np.asarray(h.getSolution().col_value)
    bound = float(lp.objective @ relaxed)
    cols = np.flatnonzero(lp.integer)
    # First the rounding: every switch the relaxation opens at all is turned on, the rest off.
    # When the LP with those switches is within MIP_GAP of the bound, that is proof enough.
    on = (relaxed[cols] > 1e-9).astype(float)
    lo0, up0 = np.zeros(len(cols)), np.ones(len(cols))
    h.changeColsBounds(len(cols), cols.astype(np.int32), on, on)
    h.setOptionValue("solver", "simplex")
    h.run()
    if _highs_status(h) == "optimal":
        value = float(lp.objective @ np.asarray(h.getSolution().col_value))
        if _mip_gap(bound, value) <= MIP_GAP:
            timings["mip"] = time.perf_counter() - t0
            return {"status": "optimal", "lp_bound": bound * lp.objective_scale, "mip_gap": _mip_gap(bound, value),
                    "solver_gap": _mip_gap(bound, value),
                    "mip_method": (f"rounding the LP relaxation (every switch it opens turned on), within "
                                   f"{MIP_GAP:g} of the relaxation's bound")}
    h.changeColsBounds(len(cols), cols.astype(np.int32), lo0, up0)
    method = "branch and bound (HiGHS), to a relative gap of {:g}".format(MIP_GAP)
    if lp.n > MIP_FIX_ABOVE:
        v = relaxed[cols]
        fix = (v <= 1e-9) | (v >= 1 - 1e-9)
        if fix.any():
            at = np.round(v[fix])
            h.changeColsBounds(int(fix.sum()), cols[fix].astype(np.int32), at, at)
        method = (f"fixing from the LP relaxation ({int(fix.sum()):,} of {len(cols):,} switches fixed at the "
                  f"relaxation's 0 or 1), then branch and bound on the rest to a relative gap of {MIP_GAP:g}")
    h.setOptionValue("solver", "choose")
    h.setOptionValue("mip_rel_gap", MIP_GAP)
    h.changeColsIntegrality(len(cols), cols.astype(np.int32),
                            np.array([highspy.HighsVarType.kInteger] * len(cols)))
    h.run()
    status = _highs_status(h)
    timings["mip"] = time.perf_counter() - t0
    if status not in ("optimal", "time_limit") or not h.getSolution().value_valid:
        return {"status": status if status != "optimal" else "error",
                "message": h.modelStatusToString(h.getModelStatus())}
    x = np.asarray(h.getSolution().col_value)
    value = float(lp.objective @ x)
    solver_gap = float(h.getInfo().mip_gap)
    on = np.round(x[cols])
    h.changeColsIntegrality(len(cols), cols.astype(np.int32),
                            np.array([highspy.HighsVarType.kContinuous] * len(cols)))
    h.changeColsBounds(len(cols), cols.astype(np.int32), on, on)
    h.setOptionValue("solver", "simplex")
    h.run()
    fixed = _highs_status(h)
    return {"status": status if fixed == "optimal" else fixed, "lp_bound": bound * lp.objective_scale,
            "mip_gap": _mip_gap(bound, value), "solver_gap": solver_gap, "mip_method": method}


def highspy_inf() -> float:
    """HiGHS's infinity, for a side of a row that has no bound."""
    import highspy

    return highspy.kHighsInf


# ---- CBC through PuLP ------------------------------------------------------------------------
def _pulp():
    import pulp

    try:  # PuLP 3.3 warns on every LpVariable unless told otherwise; it costs seconds at scale
        pulp.v4_migration.set_v4_migration_warnings(False)  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return pulp


def pulp_problem(lp: LinearProgram, objective: np.ndarray | None = None):
    """The LP as a PuLP problem: variables ``x0..``, rows ``r0..`` (ranged rows split in two)."""
    pulp = _pulp()
    A, lo, up, registry = lp.matrix()
    prob = pulp.LpProblem("commissioning", pulp.LpMaximize)
    xs = [pulp.LpVariable(f"x{i}", lowBound=0, upBound=None if np.isinf(lp.upper[i]) else float(lp.upper[i]))
          for i in range(lp.n)]
    c = lp.objective if objective is None else objective
    nz = np.flatnonzero(c)
    prob.setObjective(pulp.LpAffineExpression([(xs[i], float(c[i])) for i in nz]))
    names: list[tuple[str | None, str | None]] = []  # per row: (lower-row name, upper-row name)
    indptr, indices, data = A.indptr, A.indices, A.data
    constraints = []
    for r in range(A.shape[0]):
        expr = pulp.LpAffineExpression([(xs[j], float(v)) for j, v in
                                        zip(indices[indptr[r]:indptr[r + 1]], data[indptr[r]:indptr[r + 1]])])
        lower, upper = lo[r], up[r]
        if np.isfinite(lower) and np.isfinite(upper) and lower == upper:
            constraints.append((f"r{r}e", pulp.LpConstraint(expr, pulp.LpConstraintEQ, rhs=float(lower))))
            names.append((f"r{r}e", f"r{r}e"))
            continue
        ln = un = None
        if np.isfinite(lower):
            ln = f"r{r}l"
            constraints.append((ln, pulp.LpConstraint(expr, pulp.LpConstraintGE, rhs=float(lower))))
        if np.isfinite(upper):
            un = f"r{r}u"
            constraints.append((un, pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=float(upper))))
        names.append((ln, un))
    for name, con in constraints:
        prob.addConstraint(con, name)
    return prob, xs, names


def _cbc_solver(time_limit: float | None):
    pulp = _pulp()
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, options=["dualT 1e-9"])
    if not solver.available():
        raise SolverError("the CBC solver bundled with PuLP cannot be run on this machine; reinstall pulp "
                          "(pip install --force-reinstall pulp) or use --solver highs")
    return solver


def _cbc_run(prob, time_limit: float | None, gap: float | None = None) -> float:
    pulp = _pulp()
    t = time.perf_counter()
    solver = _cbc_solver(time_limit)
    if gap is not None:
        solver.optionsDict["gapRel"] = gap
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as e:
        raise SolverError(f"CBC failed: {e}") from None
    return time.perf_counter() - t


def _solve_cbc(lp: LinearProgram, time_limit: float | None, lexicographic: bool) -> Solution:
    pulp = _pulp()
    t0 = time.perf_counter()
    # An all-zero primary objective (no need anywhere) is optimal at every feasible point,
    # so the tie-break is solved directly. (Re-solving a PuLP problem whose first objective
    # was empty writes PuLP's placeholder variable into a file CBC rejects.)
    primary_empty = not np.any(lp.objective)
    prob, xs, names = pulp_problem(lp, lp.tiebreak if primary_empty and lexicographic else None)
    timings = {"transfer": time.perf_counter() - t0}
    timings["phase1"] = _cbc_run(prob, time_limit)
    m = len(names)
    status = {1: "optimal", -1: "infeasible", -2: "unbounded", 0: "time_limit"}.get(prob.status, "error")
    if status in ("optimal", "time_limit") and time_limit and timings["phase1"] >= time_limit * 0.98:
        status = "time_limit"
    mip: dict = {}
    if status == "optimal" and lp.is_mip:
        # As with HiGHS (_highs_mip): the relaxation's optimum is the bound; branch and bound to
        # MIP_GAP; then the switches fixed and the LP solved again for its duals.
        relaxed = np.array([v.varValue or 0.0 for v in xs])
        bound = float(lp.objective @ relaxed)
        cols = np.flatnonzero(lp.integer)
        # The rounding first, as with HiGHS (_highs_mip): every switch the relaxation opens on.
        for j in cols:
            xs[j].lowBound = xs[j].upBound = float(relaxed[j] > 1e-9)
        timings["mip"] = _cbc_run(prob, time_limit)
        rounded = prob.status == 1 and _mip_gap(
            bound, float(lp.objective @ np.array([v.varValue or 0.0 for v in xs]))) <= MIP_GAP
        if rounded:
            status = "optimal"
            value = float(lp.objective @ np.array([v.varValue or 0.0 for v in xs]))
            mip = {"lp_bound": bound * lp.objective_scale, "mip_gap": _mip_gap(bound, value),
                   "solver_gap": _mip_gap(bound, value),
                   "mip_method": (f"rounding the LP relaxation (every switch it opens turned on), within "
                                  f"{MIP_GAP:g} of the relaxation's bound")}
        else:
            for j in cols:
                xs[j].lowBound, xs[j].upBound = 0.0, 1.0
                xs[j].cat = pulp.LpInteger
            timings["mip"] += _cbc_run(prob, time_limit, gap=MIP_GAP)
            status = {1: "optimal", -1: "infeasible", -2: "unbounded", 0: "time_limit"}.get(prob.status, "error")
        if status == "optimal" and not rounded:
            value = float(lp.objective @ np.array([v.varValue or 0.0 for v in xs]))
            for j in cols:
                on = float(round(xs[j].varValue or 0.0))
                xs[j].cat = pulp.LpContinuous
                xs[j].lowBound = xs[j].upBound = on
            _cbc_run(prob, time_limit)
            mip = {"lp_bound": bound * lp.objective_scale, "mip_gap": _mip_gap(bound, value),
                   "mip_method": f"branch and bound (CBC), to a relative gap of {MIP_GAP:g}"}
    if status not in ("optimal", "time_limit"):
        return Solution(status, np.zeros(lp.n), 0.0, np.zeros(m), np.zeros(m), "cbc", 0.0,
                        proven_optimal=False, message=pulp.LpStatus.get(prob.status, "error"))
    if status == "time_limit" and all(v.varValue is None for v in xs):
        raise SolverError(_nothing_found(time_limit))
    x = np.array([v.varValue or 0.0 for v in xs])
    dual = np.zeros(m)
    cons = prob.constraints
    for r, (ln, un) in enumerate(names):
        # A maximisation's ≤ row has a non-negative shadow price; a ≥ row a non-positive one.
        d = 0.0
        for nm in {ln, un} - {None}:
            pi = cons[nm].pi
            d += pi or 0.0
        dual[r] = d
    if primary_empty:
        dual[:] = 0.0  # nothing can raise an objective that is zero everywhere
    unfinished = ""
    if lexicographic and status == "optimal" and not primary_empty:
        t2 = time.perf_counter()
        held, slack = lp.objective, _hold_slack(lp, first=True)
        holds: list[tuple[int, np.ndarray, np.ndarray, float, float]] = []  # (k, columns, held, zh, slack)

        def hold(k: int, nz: np.ndarray, held: np.ndarray, zh: float, relative: float) -> None:
            prob.constraints.pop(f"held_{k}", None)
            prob.addConstraint(pulp.LpAffineExpression([(xs[i], float(held[i])) for i in nz])
                               >= zh - relative * max(1.0, abs(zh)), f"held_{k}")

        for k, c in enumerate(_later_objectives(lp)):
            name = "disruption" if c is lp.disruption else "tiebreak"
            nz = np.flatnonzero(held)
            if len(nz):
                holds.append((k, nz, held, float(held @ x), slack))
                hold(*holds[-1])
            cz = np.flatnonzero(c)
            prob.setObjective(pulp.LpAffineExpression([(xs[i], float(c[i])) for i in cz]))
            _cbc_run(prob, time_limit)
            # CBC's plan meets each held objective only to its tolerance, and comes back through PuLP
            # rounded: the figure an objective is held at (worked out from that plan) can lie above
            # what any plan reaches, so the holds may not all be met together. The newest is held
            # again at CBC_HOLD_RETRY of its figure (the example's asks: their anchor), then, if that
            # is not enough, every one so far (a random case whose primary was held 2.5e-8 above its
            # true optimum: widening the newest alone, even to 1e-4, did not help).
            for widen in (holds[-1:], holds):
                if prob.status != -1 or not any(s_j < CBC_HOLD_RETRY for *_, s_j in widen):
                    continue
                timings[name + "_hold_widened"] = float(len(widen))  # how many holds were widened
                for j, cols, h_j, z_j, s_j in widen:
                    hold(j, cols, h_j, z_j, max(s_j, CBC_HOLD_RETRY))
                _cbc_run(prob, time_limit)
            if prob.status != 1:
                if prob.status == 0 and time_limit:
                    status = "time_limit"  # stopped by the user's time limit: said as for phase one
                else:
                    unfinished = f"{PHASE_WORDS[name]} phase ended {pulp.LpStatus.get(prob.status, 'error').lower()}"
                break
            x = np.array([v.varValue or 0.0 for v in xs])
            held, slack = c, _hold_slack(lp, first=False)
        timings["phase2"] = time.perf_counter() - t2
    A, _, _, _ = lp.matrix()
    activity = A @ x
    return Solution(status, x, float(lp.objective @ x) * lp.objective_scale, activity, dual, "cbc", 0.0,
                    proven_optimal=status == "optimal", timings=timings, unfinished=unfinished, **mip)


def options_used(solver: str, time_limit: float | None = None) -> dict[str, str]:
    """The options a run's solves used, in words, for the run record (every solve of a run
    uses these; which one a given solve took depends on its size and warm start)."""
    common = {"objective": "lexicographic: the primary objective; then, where least disruption is on, the "
                           "distance to today's provision, with the primary held within near_optimal (at least a "
                           f"relative {OPTIMALITY_SLACK:g}) of its optimum; then, each earlier objective held, the "
                           "expiry tie-break and fixed preference",
              "mixed-integer": f"min_award switches: the LP relaxation kept as the bound; rounding it first, else "
                               f"branch and bound, to a relative gap of {MIP_GAP:g}; above {MIP_FIX_ABOVE:,} "
                               "columns the switches the relaxation settles are fixed first",
              "time limit": "none" if not time_limit else f"{time_limit:g} s"}
    if solver == "cbc":
        return {**common, "cbc": "PuLP's bundled CBC, options 'dualT 1e-9'"}
    return {**common, "random_seed": "0",
            "cold solve": f"HiGHS simplex up to {IPM_ABOVE:,} variables; interior point ({IPM_SOLVER}) with "
                          "crossover above",
            "warm solve": "the primal simplex from the kept basis when it names at least "
                          f"{MIN_WARM_SHARE:.0%} of the model"}
