"""The figures the example's READMEs quote are what the example gives.

``examples/west-yorkshire/scenarios/README.md``: its comparison table, row by row, and the
figures in its bullets for a board, its paragraph on equally good plans and its
sensitivity paragraph, each against a fresh run with HiGHS (the plan is the same with
either solver, so the rounded figures are too). ``examples/west-yorkshire/README.md``: the
money the plans move to the in-work stages, the known hole's gap reasons and the price of
an equity floor.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from commissioning.inputs.scenario import apply_scenario, load_scenario
from commissioning.inputs.validate import load_case
from optimiser.levels import optimise_case

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "west-yorkshire"
SCENARIOS = EXAMPLE / "scenarios"
SOLVER = "highs"
TABLE_ROW = re.compile(r"^\| ([a-z0-9-]+) \| ([\d.]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([^|]+) \| ([\d,]+) "
                       r"\| ([\d.]+) \|$", flags=re.M)
UNEMPLOYED = ("LTU", "SHORT_UNEMP")


def _words(path: Path) -> str:
    """The file's text with every run of white space one space (so sentences match across lines)."""
    return " ".join(path.read_text(encoding="utf-8").split())


@pytest.fixture(scope="module")
def case():
    return load_case(EXAMPLE)


@pytest.fixture(scope="module")
def runs(case):
    """Every scenario, in file order (the first is the reference), by name."""
    out = {}
    for f in sorted(SCENARIOS.glob("*.yaml")):
        c = apply_scenario(case, load_scenario(f, case))
        out[c.scenario] = optimise_case(c, solver=SOLVER)
    return out


def _total(runs, scenario: str, level: str, figure: str = "outcomes") -> float:
    return runs[scenario].levels[level].totals[figure]


def _by(alloc: pd.DataFrame, keys: list[str]) -> pd.Series:
    return alloc.groupby(keys)["amount"].sum()


def test_the_scenario_table_is_the_example_s(runs):
    quoted = {r[0]: r[1:] for r in TABLE_ROW.findall((SCENARIOS / "README.md").read_text(encoding="utf-8"))}
    assert list(quoted) == list(runs)
    reference = next(iter(runs))
    for name, run in runs.items():
        t = {level: lv.totals for level, lv in run.levels.items()}
        delta = t["pooled"]["outcomes"] - _total(runs, reference, "pooled")
        shown = "–" if name == reference else ("0" if round(delta) == 0 else f"{delta:+,.0f}".replace("-", "−"))
        assert quoted[name] == (f"{run.case.total_budget / 1e6:,.1f}", f"{t['baseline']['outcomes']:,.0f}",
                                f"{t['aligned']['outcomes']:,.0f}", f"{t['pooled']['outcomes']:,.0f}", shown,
                                f"{t['pooled']['unmet_people']:,.0f}",
                                f"{t['aligned']['idle_amount'] / 1e6:,.2f}"), name


def test_the_pool_and_the_dwp_cut_bullets(runs):
    text = _words(SCENARIOS / "README.md")
    skills = _total(runs, "pool-skills", "pooled") - _total(runs, "pool-skills", "aligned")
    full = _total(runs, "todays-rules", "pooled") - _total(runs, "todays-rules", "aligned")
    # The scenario's pool, with the settlement's flexible funds (in every pool: commissioning.case.settlement).
    assert set(runs["pool-skills"].pool) == {"ASF", "UKSPF_PS", "MULTIPLY", "IS_ASF", "IS_CTW", "IS_SKILLS_CAP"}
    assert len(runs["todays-rules"].pool) - len(runs["pool-skills"].pool) == 13  # "the other thirteen pots"
    assert (f"A pool of ASF, UKSPF and Multiply adds {skills:,.0f} outcomes over aligned. The full pool of every "
            f"poolable pot adds {full:,.0f}. About {1 - skills / full:.0%} of the devolution dividend comes from "
            "the other thirteen pots in the full pool") in text

    cut = runs["todays-rules"].case.total_budget - runs["dwp-cut-10pc"].case.total_budget
    aligned = _total(runs, "todays-rules", "aligned") - _total(runs, "dwp-cut-10pc", "aligned")
    pooled = _total(runs, "todays-rules", "pooled") - _total(runs, "dwp-cut-10pc", "pooled")
    assert (f"A 10% cut to DWP pots removes £{cut / 1e6:,.2f}m** (since September 2025 DWP owns adult skills, so "
            f"the cut takes in the settlement's funds). That costs {aligned:,.0f} outcomes under "
            f"today's rules (about {aligned / (cut / 1e6):,.0f} for each £1m cut) and {pooled:,.0f} with the pool "
            f"(about {pooled / (cut / 1e6):,.0f} for each £1m).") in text


def test_the_eligibility_ask_bullet(runs):
    from commissioning.analysis.asks import measured_asks

    asks = measured_asks(runs["todays-rules"])
    top = asks.iloc[0]  # explain's first ask: it ranks above the pool as a whole
    whole_pool = asks[(asks["change"] == "pool") & asks["pot_code"].isna()].iloc[0]
    # DWP's programmes widened to recent entrants, merged into one ask; FSF is one of its parts.
    assert (top["department"], top["change"], top["cohort_code"]) == ("DWP", "add_cohort", "NEW_STARTERS")
    assert "FSF" in top["pot_code"].split(";") and len(top["pot_code"].split(";")) == top["parts"]
    number = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten",
              11: "eleven", 12: "twelve"}[int(top["parts"])]
    aligned = _total(runs, "fsf-new-starters", "aligned") - _total(runs, "todays-rules", "aligned")
    pooled = _total(runs, "fsf-new-starters", "pooled") - _total(runs, "todays-rules", "pooled")
    assert 0 < aligned <= top["gain_outcomes"]
    cut = _total(runs, "todays-rules", "pooled") - _total(runs, "dwp-cut-10pc", "pooled")
    assert 0.4 < pooled / cut < 0.6  # "about half of what the DWP cut costs"
    assert top["gain_outcomes"] > whole_pool["gain_outcomes"]
    assert (f"aligned outcomes would rise by {aligned:,.0f}. It is one part of the ask `commissioning explain` "
            f"ranks first: DWP widening {number} of its programmes to recent entrants, "
            f"+{top['gain_outcomes']:,.0f} together (more than the pool as a whole, "
            f"+{whole_pool['gain_outcomes']:,.0f}). With the pool, the Flexible Support Fund alone would add "
            f"{pooled:,.0f}: about half of what the DWP cut costs.") in _words(SCENARIOS / "README.md")


def test_the_package_figures_in_the_readme(runs):
    """The README's package example: the first two steps' overlap, as the example measures it."""
    from commissioning.analysis.asks import measure_asks
    from commissioning.analysis.package import build_package

    run = runs["todays-rules"]
    asks, cands = measure_asks(run)
    package = build_package(run, asks, cands)
    first = package.overlaps[0]
    assert first["steps"] == [1, 2]
    words = f"steps 1 and 2 together +{first['together']:,.0f}, not +{sum(first['alone']):,.0f}"
    assert words in first["words"]
    assert words in _words(ROOT / "README.md")


def test_the_equity_floor_bullet(case, runs):
    from optimiser.families.equity import reachable_need

    need = reachable_need(case)

    def served(level: str) -> pd.Series:  # each district's share of need served ÷ the overall share
        people = runs["todays-rules"].levels[level].allocations.groupby("area_code")["participants"].sum()
        return ((people / need) / (people.sum() / need.sum())).rename(lambda a: case.area[a].name)

    aligned, pooled, today = served("aligned"), served("pooled"), served("baseline")
    assert aligned.idxmin() == pooled.idxmin()
    text = _words(SCENARIOS / "README.md")
    assert (f"The plans already serve every district at {min(aligned.min(), pooled.min()):.0%} or more of the "
            f"overall rate. {aligned.idxmin()} is lowest: {aligned.min():.0%} under today's rules and "
            f"{pooled.min():.0%} with the pool.") in text
    assert f"Today's provision, by contrast, serves {today.idxmin()} at {today.min():.0%}." in text

    # The same plans with the floor as without it, to within £15 a pot and district.
    for level in ("aligned", "pooled"):
        with_floor = _by(runs["equity-floor-80"].levels[level].allocations, ["pot_code", "area_code"])
        without = _by(runs["todays-rules"].levels[level].allocations, ["pot_code", "area_code"])
        assert with_floor.sub(without, fill_value=0).abs().max() < 15, level
    assert "the plans match the reference pot by pot and district by district to within £15" in text

    # Even a floor of 1.0 gives the same outcomes.
    full = optimise_case(case.with_changes(settings=case.settings.model_copy(update={"equity_floor": 1.0})),
                         solver=SOLVER)
    for level in ("aligned", "pooled"):
        assert f"{full.levels[level].totals['outcomes']:,.0f}" == f"{_total(runs, 'todays-rules', level):,.0f}"
    assert ("Even a floor of 1.0, every district served at exactly the overall rate, gives the same outcomes."
            in text)
    assert ("even `equity_floor: 1.0`, every district served at the overall rate at which need is served, gives "
            "the same outcomes") in _words(EXAMPLE / "README.md")


def test_the_downturn_bullet(runs):
    from optimiser.families.protect import floors

    ref, down = runs["todays-rules"], runs["unemployment-up-20pc"]
    more_need = down.case.need_frame["people"].sum() - ref.case.need_frame["people"].sum()

    def people(run, level: str, unemployed: bool) -> float:
        a = run.levels[level].allocations
        return float(a.loc[a["cohort_code"].isin(UNEMPLOYED) == unemployed, "participants"].sum())

    said = []
    for level in ("aligned", "pooled"):
        said.append((round(people(down, level, True) - people(ref, level, True), -2),
                     round(people(ref, level, False) - people(down, level, False), -2),
                     round(_total(runs, "unemployment-up-20pc", level, "unmet_people")
                           - _total(runs, "todays-rules", level, "unmet_people"), -3)))
        # No other cohort falls below its floor: half of today's participants, each year.
        got = down.levels[level].allocations.groupby(["cohort_code", "year"])["participants"].sum()
        for kind, code, year, share, floor in floors(down.case):
            assert kind == "cohorts" and share == 0.5
            assert got.get((code, year), 0.0) >= floor - 0.01, (level, code, year)
    # The two plans shift the same people to within a hundred (the README quotes the aligned plan's).
    assert all(abs(a - b) <= 100 for a, b in zip(said[0], said[1]))
    served, fewer, unmet = said[0]
    assert (f"A downturn adds about {round(more_need, -3):,.0f} people to need** (long-term and short-term "
            f"unemployed). Nearly all the money is already spent, so the plans serve about {served:,.0f} more "
            f"unemployed people only by serving about {fewer:,.0f} fewer in the other cohorts, none of which falls "
            f"below half of today's participants. Unmet need rises by about {unmet:,.0f} people: almost the whole "
            "rise.") in _words(SCENARIOS / "README.md")
    assert _total(runs, "unemployment-up-20pc", "aligned", "idle_amount") < 0.002 * down.case.total_budget


def test_the_restart_lock_bullet(runs):
    ref, lock = runs["todays-rules"], runs["lock-restart"]
    case = lock.case
    restart = [p for p in case.provision if p.pot_code == "RESTART"]
    assert {str(p.contract_end) for p in restart} == {"2026-06-30"}  # "until June 2026"
    # Restart can fund nothing else: every cell it may fund is locked.
    cells = case.eligibility.cells(with_need_only=True)
    cells = cells[cells["pot_code"] == "RESTART"]
    assert set(zip(cells["area_code"], cells["cohort_code"], cells["year"])) == \
        {(p.area_code, p.cohort_code, p.year) for p in restart}
    idle = _total(runs, "lock-restart", "aligned", "idle_amount") - _total(runs, "todays-rules", "aligned",
                                                                            "idle_amount")

    def restart_money(run) -> float:
        a = run.levels["aligned"].allocations
        return float(a.loc[a["pot_code"] == "RESTART", "amount"].sum())

    assert restart_money(ref) - restart_money(lock) == pytest.approx(idle, abs=1.0)  # the idle money is Restart's
    costs = {f"{_total(runs, 'todays-rules', lv) - _total(runs, 'lock-restart', lv):,.0f}" for lv in ("aligned",
                                                                                                       "pooled")}
    assert len(costs) == 1
    assert (f"so £{idle / 1e6:.1f}m more of its money goes unspent. That costs {costs.pop()} outcomes, under "
            "today's rules and with the pool.") in _words(SCENARIOS / "README.md")


def test_the_equally_good_plans_paragraph(runs):
    from optimiser.alternatives import run_alternatives

    run = runs["todays-rules"]
    alts = run_alternatives(run, 2)
    found = [(level, a) for level, got in alts.items() for a in got]
    assert len(found) == 4
    for level, a in found:
        assert f"{a.objective_value:,.0f}" == f"{run.levels[level].totals['outcomes']:,.0f}"
    shares = [a.share_reallocated for _, a in found]
    assert (f"`commissioning optimise examples/west-yorkshire --alternatives 2` finds two more plans at each level "
            f"with exactly the same outcomes, and each puts about a third of the money ({100 * min(shares):.0f}–"
            f"{max(shares):.0%}) in a different pot–area pairing.") in _words(SCENARIOS / "README.md")
    assert 0.25 <= min(shares) and max(shares) <= 0.4  # "about a third"


def test_the_sensitivity_paragraph(case):
    from commissioning.analysis.sensitivity import run_sensitivity, sensitivity_frame, sensitivity_summary

    result = run_sensitivity(case, 0.1, 20, seed=0, solver=SOLVER)
    s = sensitivity_summary(result, sensitivity_frame(result, case))["levels"]
    o, base = s["pooled"]["outcomes"], s["pooled"]["base"]["outcomes"]
    within = max(o["p95"] - base, base - o["p5"]) / base
    text = _words(SCENARIOS / "README.md")
    assert (f"pooled outcomes have a mean of {o['mean']:,.0f}. The 5th to 95th percentile range is "
            f"{o['p5']:,.0f}–{o['p95']:,.0f}, so the headline figure holds to within about ±{within:.1%}.") in text
    for level in ("aligned", "pooled"):
        assert s[level]["pairings_sometimes_used"] == 0 and s[level]["pairings_always_used"] == s[level]["pairings"]
    assert (f"the plans fund the same {s['aligned']['pairings']} pairings (aligned) and {s['pooled']['pairings']} "
            "(pooled) in every draw.") in text


def test_the_example_readme_s_in_work_stages_and_known_hole(case, runs):
    from commissioning.analysis.explain import explain_run

    run = runs["todays-rules"]
    stage = {c.code: c.journey_stage for c in case.cohorts}

    def in_work(level: str, pot: str | None = None) -> float:
        a = run.levels[level].allocations
        a = a[a["cohort_code"].map(stage).isin([5, 6])]
        return float((a if pot is None else a[a["pot_code"] == pot])["amount"].sum()) / 1e6

    text = _words(EXAMPLE / "README.md")
    assert (f"over the five years they get £{in_work('baseline'):.1f}m today, £{in_work('aligned'):.1f}m in the "
            f"aligned plan and £{in_work('pooled'):.1f}m in the pooled plan.") in text
    atw = sum(b.amount for b in case.budgets if b.pot_code == "ATW") / 1e6
    assert in_work("aligned", "ATW") == pytest.approx(atw, abs=1e-6) == in_work("pooled", "ATW")
    nhs = {f"{in_work(lv, 'NHS_ACCEL'):.1f}" for lv in ("aligned", "pooled")}
    assert len(nhs) == 1
    assert (f"In both plans Access to Work spends its whole £{atw:.1f}m there (£{in_work('baseline', 'ATW'):.1f}m "
            f"today), and the NHS accelerator £{nhs.pop()}m (£{in_work('baseline', 'NHS_ACCEL'):.1f}m today).") in text

    flags = explain_run(run, asks=False).flags
    hole = flags[(flags["kind"] == "gap") & (flags["cohort_code"] == "WORKLESS_FAMILIES")
                 & flags["year"].isin(["2026-27", "2027-28", "2028-29"])]
    reasons = {(stage_, level or None): set(zip(g["reason"], g["pot_code"].fillna("")))
               for (stage_, level), g in hole.groupby(["stage", hole["level"].fillna("")])}
    assert len(hole) == 4 * 15  # the map, and the aligned, settlement and pooled levels
    # From 2026-27 the nearest pot is the Adult Skills Fund inside the settlement.
    assert reasons[("map", None)] == reasons[("optimise", "aligned")] == reasons[("optimise", "settlement")] == \
        {("cohort", "IS_ASF")}
    assert reasons[("optimise", "pooled")] == {("funding", "")}
    assert ("In `map` and at the aligned and settlement levels the reason reads `cohort`: the nearest pot, the "
            "Adult Skills Fund in the settlement, would fit them but for its cohorts (the settlement pools it only "
            "with its theme's funds, none of which reach them). In the pool, pooled money may reach them, so there "
            "they are `funding` gaps") in text


def test_the_readme_s_value_for_money_paragraph(case):
    from commissioning.analysis.value import value_frame, value_record

    run = optimise_case(case, solver=SOLVER)
    record = value_record(case, value_frame(case, {n: lv.allocations for n, lv in run.levels.items()}))
    text = _words(ROOT / "README.md")
    a_year = record["levels"]["alignment"]["a_year"]
    by_type = a_year["net_outcomes"]
    tens = {o: f"{round(by_type[o], -1):,.0f}" for o in ("Level 2 achieved", "Level 3 achieved", "job entry",
                                                          "sustained job")}
    assert (f"about {tens['Level 2 achieved']} more people achieving Level 2, {tens['Level 3 achieved']} more "
            f"achieving Level 3, {tens['job entry']} more job entries and {tens['sustained job']} more sustained "
            f"jobs, with £{a_year['fiscal'] / 1e6:.1f}m a year of fiscal and £{a_year['economic'] / 1e6:.1f}m a year "
            "of economic benefit") in text
    pooled = record["levels"]["pooled"]["term"]
    assert f"benefit–cost ratio is {pooled['bcr']:.2f} (NPSV £{pooled['npsv'] / 1e6:.1f}m over the term" in text
    assert record["additionality"] == "net" and record["price_base"] == "2024-25"
