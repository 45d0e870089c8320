"""Explaining an optimised run: idle money, unmet need with its reason, binding rules in words,
shadow prices, and the ``explain`` command.

Every case is a tiny CSV folder written by the local helper below, run through the real
``commissioning optimise`` command (Click's ``CliRunner``), and judged on the files it writes
(``flags.csv``, ``summary.json``, ``asks.csv``) with the arithmetic worked by hand in comments.
Unless said otherwise: one area A1 "Northtown", one year 2025-26, every pot spends only in
2025-26, £1,000 a head, no carry-forward, no match, not poolable; objective outcomes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from commissioning.cli import main

from explaincases import SOLVERS, UNLIMITED_PROGRAMMES, Y1, Y2, pot, rule, write_case


class Run:
    """The files one ``optimise`` run wrote."""

    def __init__(self, out: Path, result):
        self.out, self.result = out, result
        self.summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        self.flags = pd.read_csv(out / "flags.csv", dtype={"year": str})
        self.asks = pd.read_csv(out / "asks.csv", dtype={"year": str})

    def opt(self, level: str, kind: str) -> pd.DataFrame:
        f = self.flags
        return f[(f["stage"] == "optimise") & (f["level"] == level) & (f["kind"] == kind)]

    def idle(self, level: str = "aligned") -> dict:
        return {(r.pot_code, r.year): (r.reason, r.amount) for r in self.opt(level, "idle").itertuples()}

    def gaps(self, level: str = "aligned") -> dict:
        return {(r.area_code, r.cohort_code, r.year): (r.reason, r.people) for r in self.opt(level, "gap").itertuples()}


def optimise(case: Path, out: Path, solver: str) -> Run:
    result = CliRunner().invoke(main, ["--quiet", "optimise", str(case), "--out", str(out), "--solver", solver])
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return Run(out, result)


# ---- cases ---------------------------------------------------------------------------------------
def idle_case(folder: Path) -> Path:
    """Five pots, one reason each for stranding money (cohorts C, D, E, F all with rate 0.5).

    * P funds C: £10,000 at £1,000 a head, need 4 → spends £4,000; **£6,000 idle, need_met**.
    * Q funds D, which has no need anywhere → **£5,000 idle, eligibility** (the whole budget).
    * M funds E and needs £0.50 of match per £1; L (can_match) funds E with £2,000. E's need
      of 100 dwarfs both, so L spends all £2,000 (2 people), M may spend at most
      £2,000 / 0.5 = £4,000 (4 people) → **M idle = 10,000 − 2 × 2,000 = £6,000, match**.
      E is served 6 of 100 → **gap of 94, match** (M could fund it; its match is used up).
    * R funds F (need 100) under ``max_amount`` £3,000 → spends £3,000 (3 people);
      **£7,000 idle, rule**; F served 3 of 100 → **gap of 97, rule**.

    Budget £37,000; spent 4,000 + 4,000 + 2,000 + 3,000 = £13,000; idle £24,000
    = 6,000 + 5,000 + 6,000 + 7,000.
    """
    return write_case(
        folder, cohorts={"C": 0.5, "D": 0.5, "E": 0.5, "F": 0.5},
        pots=[pot("P", "C"), pot("Q", "D"), pot("M", "E", match_rate=0.5), pot("L", "E", can_match=True),
              pot("R", "F")],
        budgets={("P", Y1): 10000, ("Q", Y1): 5000, ("M", Y1): 10000, ("L", Y1): 2000, ("R", Y1): 10000},
        need={("A1", "C", Y1): 4, ("A1", "E", Y1): 100, ("A1", "F", Y1): 100},
        rules=[rule("max_amount", 3000, "R capped at three thousand pounds", pot="R")])


def gaps_case(folder: Path) -> Path:
    """One unmet cell per reason, each arranged so that exactly one pot fails exactly one rule.

    Areas A1..A5, years 2025-26 (Y1) and 2026-27 (Y2), every cohort's rate 0.5.

    ===  =========  ======  =====  =======  ===================================================
    pot  geography  cohort  life   budget   role
    ===  =========  ======  =====  =======  ===================================================
    F    A1         C       Y1     £20,000  £2,000 a head; need A1/C/Y1 = 30
    GEO  A2         G       Y1     £10,000  need A2/G/Y1 = 1; A3/G/Y1 = 7 is out of its area
    TIM  A4         T       Y1     £10,000  need A4/T/Y1 = 1; A4/T/Y2 = 6 is out of its dates
    COH  A5         X       Y1–Y2  £10,000  (Y2) need A5/X/Y2 = 1; A5/K/Y2 = 9 is not its cohort
    KK   A1         K       Y1     £10,000  funds K elsewhere (A1/K/Y1 = 1), so K is a funded cohort
    S    A1         S;D     Y1     £10,000  max_share 20% on S; need A1/S/Y1 = 50, A1/D/Y1 = 3
    ===  =========  ======  =====  =======  ===================================================

    Aligned gaps, by hand:

    * A1/C/Y1 **funding**: F buys 20,000 / 2,000 = 10 people → 30 − 10 = 20 unmet
      (closing it costs 20 × £2,000 = £40,000);
    * A3/G/Y1 **geography** 7 (GEO fits but for its area; every other pot fails ≥ 2 rules);
    * A4/T/Y2 **timing** 6 (TIM fits but for its dates);
    * A5/K/Y2 **cohort** 9 (COH funds A5 in Y2, not K; KK funds K, but in A1 and Y1 only);
    * A1/Z/Y1 **no_eligible_pot** 5 (no pot funds Z anywhere);
    * A1/S/Y1 **rule** 49.25: a share is of what S *spends* that year. S serves D's 3
      people (£3,000, all D's need) and may put on S at most 0.2 × what it spends:
      s ≤ 0.2 (s + 3,000) → s ≤ £750 → 0.75 served of 50. £10,000 − £750 − £3,000 =
      £6,250 is left idle, held by the rule (removing it serves S: measured).
    """
    return write_case(
        folder, areas=("A1", "A2", "A3", "A4", "A5"),
        cohorts={c: 0.5 for c in ("C", "G", "T", "K", "X", "Z", "S", "D")},
        pots=[pot("F", "C", geography="A1", unit_cost=2000), pot("GEO", "G", geography="A2"),
              pot("TIM", "T", geography="A4"), pot("COH", "X", geography="A5", last=Y2),
              pot("KK", "K", geography="A1"), pot("S", "S;D", geography="A1")],
        budgets={("F", Y1): 20000, ("GEO", Y1): 10000, ("TIM", Y1): 10000, ("COH", Y2): 10000,
                 ("KK", Y1): 10000, ("S", Y1): 10000},
        need={("A1", "C", Y1): 30, ("A2", "G", Y1): 1, ("A3", "G", Y1): 7, ("A4", "T", Y1): 1,
              ("A4", "T", Y2): 6, ("A5", "X", Y2): 1, ("A5", "K", Y2): 9, ("A1", "K", Y1): 1,
              ("A1", "Z", Y1): 5, ("A1", "S", Y1): 50, ("A1", "D", Y1): 3},
        rules=[rule("max_share", 0.2, "S cohort capped at a fifth of the pot", pot="S", cohort="S")])


def pooled_case(folder: Path) -> Path:
    """Two poolable pots (C, D rate 0.5, £1,000 a head) and a cohort Z no pot funds.

    * P1 funds C: £20,000, need C 4 → aligned spends £4,000, **£16,000 idle (need_met)**.
    * P2 funds D: £2,000, need D 10 → 2 served, **gap of 8 (funding)** at aligned.
    * Z: need 5, **no_eligible_pot** at both levels.

    Pooled: P1 may fund D too (through P2's programme, £1,000, rate 0.5), so D's 10 are met
    (P2's 2 + 8 from P1): spend 4,000 + 10,000 = £14,000 of £22,000, £8,000 idle.
    Aligned outcomes (4 + 2) × 0.5 = 3; pooled (4 + 10) × 0.5 = 7; devolution dividend **4**.
    """
    return write_case(
        folder, cohorts={"C": 0.5, "D": 0.5, "Z": 0.5},
        pots=[pot("P1", "C", poolable=True), pot("P2", "D", poolable=True)],
        budgets={("P1", Y1): 20000, ("P2", Y1): 2000},
        need={("A1", "C", Y1): 4, ("A1", "D", Y1): 10, ("A1", "Z", Y1): 5}, settings=UNLIMITED_PROGRAMMES)


def binding_case(folder: Path) -> Path:
    """A budget that binds and a need that binds.

    * B "Budget pot" funds C (rate 0.25) at £2,000 a head with £20,000; need 100 →
      10 people, budget exhausted. One more £1m buys 1,000,000 / 2,000 = 500 people
      × 0.25 = **125 outcomes per £1m**.
    * N "Spare pot" funds D (rate 0.5) at £1,000 a head with £10,000; need 3 → £3,000 spent,
      **need fully met**, £7,000 idle. One more person of need is worth **0.5 outcomes**;
      N's budget has slack, so its shadow price is **0**.
    """
    return write_case(
        folder, cohorts={"C": 0.25, "D": 0.5},
        pots=[pot("B", "C", name="Budget pot", unit_cost=2000), pot("N", "D", name="Spare pot")],
        budgets={("B", Y1): 20000, ("N", Y1): 10000},
        need={("A1", "C", Y1): 100, ("A1", "D", Y1): 3})


def story_case(folder: Path) -> Path:
    """A case for the ``explain`` story: a binding budget, stranded money, gaps, four asks.

    Areas A1 Northtown and A2 Southvale; cohorts C (rate 0.25), X (0.5), Y (0.5).

    * B "Budget pot" (A1 only, C) at £2,000 a head with £200,000; need A1/C 1,000 →
      100 served, budget exhausted (125 outcomes per £1m), **gap of 900 (funding)**.
    * P "Idle pot" (A1 only, X) at £1,000 a head with £100,000; need A1/X 40 →
      **£60,000 idle (need_met)**.
    * Y has need 100 in A1 and no pot → **gap of 100 (no_eligible_pot)**; A2/X has need 20
      outside P's area → **gap of 20 (geography)**.

    Asks, each measured by hand against aligned (25 + 20 = 45 outcomes):

    1. add_cohort P/Y: P's idle £60,000 buys 60 of Y → **+30**;
    2. add_cohort B/Y: B moves £200,000 from C (0.25 per £2,000) to Y (0.5 per £2,000):
       100 × 0.5 − 100 × 0.25 = **+25**;
    3. add_cohort P/C: 60 of C at £1,000 → 60 × 0.25 = **+15**;
    4. add_area P/A2: 20 of X in Southvale → **+10**.

    B is kept to Northtown too, so that for A2/X only P fails a single rule (its geography).
    B is DWP's and P DfE's: the asks go to two departments, and B/Y is not merged with P/Y.

    **The package**, by hand (Y's need is 100; a Y place is worth 0.5 from either pot, B's
    alternative is C at 0.25, P's idle money has none):

    1. P/Y, +30 (its gain alone is the largest);
    2. B/Y given P/Y: Y has 40 places left; B moves 40 from C: 40 × (0.5 − 0.25) = **+10**
       (alone +25: steps 1 and 2 together +40, not +55);
    3. P/A2 given both: P moves 20 from Y to A2/X (20 × 0.5 − 20 × 0.5 = 0) and B refills
       those 20 Y places from C (20 × 0.25) = **+5** (alone +10), ≥ 5% of 40;
    then P/C adds nothing (every place P or B could fund is worth no more on C) → stop.
    Total +45, measured by one solve; the gains alone add to 65. Step 3 shares pot P with
    step 1: P/Y and P/A2 together spend P's idle £60,000 on Y and A2/X at 0.5 → **+30**, not +40.
    """
    return write_case(
        folder, areas=("A1", "A2"), cohorts={"C": 0.25, "X": 0.5, "Y": 0.5},
        pots=[pot("B", "C", name="Budget pot", geography="A1", unit_cost=2000, department="DWP"),
              pot("P", "X", name="Idle pot", geography="A1")],
        budgets={("B", Y1): 200000, ("P", Y1): 100000},
        need={("A1", "C", Y1): 1000, ("A1", "X", Y1): 40, ("A1", "Y", Y1): 100, ("A2", "X", Y1): 20})


@pytest.fixture(scope="module", params=SOLVERS)
def solver(request):
    return request.param


def _run(tmp_path_factory, make, solver: str) -> Run:
    base = tmp_path_factory.mktemp(f"{make.__name__}-{solver}")
    return optimise(make(base / "case"), base / "out", solver)


@pytest.fixture(scope="module")
def idle_run(tmp_path_factory, solver):
    return _run(tmp_path_factory, idle_case, solver)


@pytest.fixture(scope="module")
def gaps_run(tmp_path_factory):
    # One solver: this case measures eight asks, and the solver parity of gap reasons is
    # already covered by idle_run and pooled_case on both.
    return _run(tmp_path_factory, gaps_case, "highs")


@pytest.fixture(scope="module")
def binding_run(tmp_path_factory, solver):
    return _run(tmp_path_factory, binding_case, solver)


# ---- 1. idle money ---------------------------------------------------------------------------------
def test_idle_money_names_pot_year_reason_and_amount(idle_run):
    # See idle_case: P need_met £6,000; Q eligibility £5,000 (whole budget);
    # M match £10,000 − 2 × £2,000 = £6,000; R rule (max_amount £3,000 of £10,000) £7,000.
    assert idle_run.idle("aligned") == {
        ("P", Y1): ("need_met", 6000.0),
        ("Q", Y1): ("eligibility", 5000.0),
        ("M", Y1): ("match", 6000.0),
        ("R", Y1): ("rule", 7000.0),
    }
    # L's £2,000 is all spent as match: it is not idle.
    idle = idle_run.opt("aligned", "idle")
    assert "L" not in set(idle["pot_code"])
    # Idle cells that do not apply are empty; the idle rows add up to the level's idle_amount.
    assert idle["area_code"].isna().all() and idle["cohort_code"].isna().all() and idle["people"].isna().all()
    assert idle["amount"].sum() == pytest.approx(24000.0)
    assert idle_run.summary["levels"]["aligned"]["idle_amount"] == pytest.approx(24000.0)


def test_idle_detail_names_the_pot_and_the_rule(idle_run):
    idle = idle_run.opt("aligned", "idle").set_index("pot_code")
    assert "£6,000 of P's 2025-26 money" in idle.loc["P", "detail"]
    assert "R capped at three thousand pounds" in idle.loc["R", "detail"]


def test_idle_money_of_a_carry_forward_pot(tmp_path):
    # CF may carry money one year (life 2025-26 to 2026-27) and has only 2025-26's £10,000.
    # Need 2 in 2025-26 and 3 in 2026-27 → £2,000 + £3,000 spent, all of it 2025-26 money:
    # £5,000 of CF's 2025-26 money is idle (need_met), as summary.json's idle_amount says.
    case = write_case(tmp_path / "case", cohorts={"C": 0.5}, pots=[pot("CF", "C", last=Y2, carry_forward=1)],
                      budgets={("CF", Y1): 10000}, need={("A1", "C", Y1): 2, ("A1", "C", Y2): 3})
    run = optimise(case, tmp_path / "out", "highs")
    assert run.summary["levels"]["aligned"]["idle_amount"] == pytest.approx(5000.0)
    assert run.idle("aligned") == {("CF", Y1): ("need_met", 5000.0)}


def test_unmet_need_for_match_and_a_max_amount_rule(idle_run):
    # E: 100 − (2 by L + 4 by M) = 94 unmet, match; F: 100 − 3 = 97 unmet, rule.
    assert idle_run.gaps("aligned") == {("A1", "E", Y1): ("match", 94.0), ("A1", "F", Y1): ("rule", 97.0)}
    gaps = idle_run.opt("aligned", "gap").set_index("cohort_code")
    assert "R capped at three thousand pounds" in gaps.loc["F", "detail"]


# ---- 2. unmet need with its reasons ----------------------------------------------------------------
def test_unmet_need_reasons_at_aligned(gaps_run):
    assert gaps_run.gaps("aligned") == {
        ("A1", "C", Y1): ("funding", 20.0),  # 30 − 20,000 / 2,000
        ("A3", "G", Y1): ("geography", 7.0),
        ("A4", "T", Y2): ("timing", 6.0),
        ("A5", "K", Y2): ("cohort", 9.0),
        ("A1", "Z", Y1): ("no_eligible_pot", 5.0),
        ("A1", "S", Y1): ("rule", 49.25),  # s ≤ 0.2 (s + 3,000) → s = £750 → 50 − 0.75
    }


def test_unmet_need_names_the_near_miss_pot_and_its_cost(gaps_run):
    g = gaps_run.opt("aligned", "gap").set_index("reason")
    # The single-rule reasons name the pot that would fit; closing costs people × its unit cost.
    assert g.loc["geography", "pot_code"] == "GEO" and g.loc["geography", "amount"] == 7000.0
    assert g.loc["timing", "pot_code"] == "TIM" and g.loc["timing", "amount"] == 6000.0
    assert g.loc["cohort", "pot_code"] == "COH" and g.loc["cohort", "amount"] == 9000.0
    # Funding: 20 people at F's £2,000.
    assert g.loc["funding", "amount"] == 40000.0
    # The max_share rule strands S's money too: £10,000 − £750 on S − £3,000 on D.
    assert gaps_run.idle("aligned")[("S", Y1)] == ("rule", 6250.0)


def test_pooled_rows_exist_and_a_cell_met_by_pooling_is_only_a_gap_when_aligned(tmp_path, solver):
    run = optimise(pooled_case(tmp_path / "case"), tmp_path / "out", solver)
    assert run.gaps("aligned") == {("A1", "D", Y1): ("funding", 8.0), ("A1", "Z", Y1): ("no_eligible_pot", 5.0)}
    assert run.gaps("pooled") == {("A1", "Z", Y1): ("no_eligible_pot", 5.0)}
    assert run.idle("aligned") == {("P1", Y1): ("need_met", 16000.0)}
    assert run.opt("pooled", "idle")["amount"].sum() == pytest.approx(8000.0)
    levels = set(run.flags.loc[run.flags["stage"] == "optimise", "level"])
    assert levels == {"aligned", "pooled"}
    assert run.summary["dividends"]["devolution"]["outcomes"] == pytest.approx(4.0)


# ---- 3. binding constraints in words, shadow prices ------------------------------------------------
def test_binding_budget_and_need_in_words_with_shadow_prices(binding_run):
    run = binding_run
    binding = [b for b in run.summary["binding"] if b["level"] == "aligned"]
    words = {b["words"]: b for b in binding}
    budget = words["the Budget pot (B) 2025-26 budget is exhausted"]
    assert budget["family"] == "pot_budget" and budget["pot_code"] == "B" and budget["year"] == Y1
    assert budget["shadow_price"] == pytest.approx(125.0)  # 1e6 / 2,000 × 0.25
    need = words["Northtown Cohort D 2025-26 need is fully met"]
    assert need["family"] == "need_cap" and need["shadow_price"] == pytest.approx(0.5)  # per extra person
    # N's budget has £7,000 left: it does not bind.
    assert not any(b["family"] == "pot_budget" and b["pot_code"] == "N" for b in binding)
    sp = {(s["level"], s["pot_code"], s["year"]): s["per_million"] for s in run.summary["shadow_prices"]}
    assert sp[("aligned", "B", Y1)] == pytest.approx(125.0)


def test_every_pot_year_budget_has_a_shadow_price(binding_run):
    # The issue asks for "the shadow price of each pot-year budget": a budget with slack is
    # worth 0 outcomes per extra £1m, and the reader needs that row too (N 2025-26 → 0).
    # Today summary.json's shadow_prices lists only the binding budgets (B), so N is missing.
    sp = {(s["level"], s["pot_code"], s["year"]): s["per_million"] for s in binding_run.summary["shadow_prices"]}
    assert sp.get(("aligned", "N", Y1)) == 0.0, sp


# ---- 6. the explain command -----------------------------------------------------------------------
def test_explain_tells_the_story_of_a_finished_run(tmp_path, solver):
    run = optimise(story_case(tmp_path / "case"), tmp_path / "out", solver)
    # The asks, as measured (see story_case).
    asks = run.asks
    assert list(zip(asks["change"], asks["pot_code"], asks["gain_outcomes"].round(6))) == [
        ("add_cohort", "P", 30.0), ("add_cohort", "B", 25.0), ("add_cohort", "P", 15.0), ("add_area", "P", 10.0)]
    assert list(asks["rank"]) == [1, 2, 3, 4]
    assert list(asks["cohort_code"].fillna("")) == ["Y", "Y", "C", ""] and asks["area_code"].iloc[3] == "A2"

    result = CliRunner().invoke(main, ["explain", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = result.stdout
    # What binds, with its price: 1e6 / 2,000 × 0.25 = 125 outcomes per £1m.
    assert "the Budget pot (B) 2025-26 budget is exhausted: each extra £1m would buy 125 outcomes" in text
    # Where need goes unmet and why: 900 + 100 + 20 = 1,020 people in 3 cells.
    assert "Where need goes unmet (aligned): 1,020 people in 3 cells." in text
    assert "900 people in 1 cells because the eligible pots' money is spent" in text
    assert "100 people in 1 cells because no pot may fund them at all" in text
    assert "20 people in 1 cells because a pot would fit but for its geography" in text
    # Stranded money and its pot.
    assert "Money stranded (aligned): £60,000." in text
    assert "£60,000 of P 2025-26: everything the pot may fund is already served" in text
    # The asks by the department that would grant them, each with its measured gain alone.
    lines = text.splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("Asks, by the department that would grant them."))
    # (Only the asks' own lines; an ask whose plan moves money has a "Receives less" line under it.)
    # Per £1m moved: P/Y +30 for P's idle £60,000 → 500; P/C 15 / 0.06 = 250; P/A2 10 / 0.02 =
    # 500; B/Y 25 for £200,000 moved from C → 125. Only B/Y takes from anyone (each ask's plan
    # is the optimal one taking the fewest people from the aligned plan: optimiser.anchor):
    # B's exhausted budget leaves C, 100 fewer people (25 fewer outcomes).
    assert lines[head + 1:head + 8] == [
        "  DfE — Department for Education:",
        "    1. Widen Idle pot eligibility to cohort Y — +30 outcomes, 500 per £1m moved.",
        "    3. Widen Idle pot eligibility to cohort C — +15 outcomes, 250 per £1m moved.",
        "    4. Let Idle pot be spent on residents of Southvale — +10 outcomes, 500 per £1m moved.",
        "  DWP — Department for Work and Pensions:",
        "    2. Widen Budget pot eligibility to cohort Y — +25 outcomes, 125 per £1m moved.",
        "       Receives less: Cohort C: 100 fewer people (25 fewer outcomes)."]
    # The package (see story_case): +30, +10, +5; together +45, not 65; the overlaps.
    pkg = run.summary["package"]
    steps = [(s["pot_code"], s["change"], s["area_code"], s["cohort_code"], round(s["marginal_gain"], 6),
              round(s["cumulative_gain"], 6), round(s["alone_gain"], 6)) for s in pkg["steps"]]
    assert steps == [("P", "add_cohort", None, "Y", 30.0, 30.0, 30.0), ("B", "add_cohort", None, "Y", 10.0, 40.0, 25.0),
                     ("P", "add_area", "A2", None, 5.0, 45.0, 10.0)]
    assert pkg["total"]["gain"] == pytest.approx(45.0) and pkg["sum_of_gains_alone"] == pytest.approx(65.0)
    assert sum(s["marginal_gain"] for s in pkg["steps"]) == pytest.approx(pkg["total"]["gain"], abs=1e-6)
    assert [(o["steps"], round(o["together"], 6)) for o in pkg["overlaps"]] == [([1, 2], 40.0), ([1, 3], 30.0)]
    package = pd.read_csv(tmp_path / "out" / "package.csv")
    assert package["marginal_gain"].round(6).tolist() == [30.0, 10.0, 5.0]
    assert "  Together +45 outcomes, measured by one solve with every step at once — not +65, their gains " \
           "alone added up." in lines
    assert "  Overlap: steps 1 and 2 together +40, not +55 (+30 and +25 alone): they reach the same people " \
           "or money." in lines


def test_explain_without_summary_is_a_user_error_naming_the_place(tmp_path):
    folder = tmp_path / "not-a-run"
    folder.mkdir()
    (folder / "flags.csv").write_text("stage\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(folder)])
    assert result.exit_code == 2
    assert str(folder / "summary.json") in result.stderr and "is missing" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_explain_on_a_missing_folder_is_a_user_error(tmp_path):
    result = CliRunner().invoke(main, ["explain", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert str(tmp_path / "nowhere") in result.stderr


def test_explain_keeps_a_pot_name_with_a_colon_whole(tmp_path):
    # Pot names with a colon are real ("UK Shared Prosperity Fund: People and Skills" in the
    # example). P has £10,000 for X (need 4): add_cohort P/Y buys 6 of Y → +3 outcomes.
    case = write_case(tmp_path / "case", cohorts={"X": 0.5, "Y": 0.5},
                      pots=[pot("P", "X", name="Shared Prosperity: People and Skills")],
                      budgets={("P", Y1): 10000}, need={("A1", "X", Y1): 4, ("A1", "Y", Y1): 10})
    optimise(case, tmp_path / "out", "highs")
    result = CliRunner().invoke(main, ["explain", str(tmp_path / "out")])
    assert result.exit_code == 0
    assert ("    1. Widen Shared Prosperity: People and Skills eligibility to cohort Y — +3 outcomes"
            in result.stdout), result.stdout
