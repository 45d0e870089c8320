"""The integrated settlement's level, worked out by hand (commissioning.case.settlement,
optimiser.families.theme_flex, commissioning.analysis.settlement), with both solvers.

Every case: one area A, one year 2026-27, £1,000 a head, cohorts J (out of work) and L
(without Level 2), both with a 50% outcome rate, so £1,000 buys one participant and half an
outcome. SK (theme Adult skills) may fund L only, EM (theme Employment support) J only;
each has £100,000. Need: J 200 people, L 50.

Aligned: SK buys the 50 L (£50,000; £50,000 idle), EM 100 J (£100,000) → 150 participants,
75 outcomes.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from commissioning.analysis.settlement import rule_costs
from commissioning.case.settlement import department_in, department_on, owners
from commissioning.cli import main
from commissioning.inputs.validate import load_case, validate_path
from optimiser.levels import optimise_case
from tablecases import write_tables

SOLVERS = ["highs", "cbc"]
Y = "2026-27"


def pot(code, theme, cohorts, *, budget_type="revenue", ring_fenced="no", settlement="yes", department="DWP",
        start="2026-04-01", end="2027-03-31", poolable="no"):
    return {"pot_code": code, "pot_name": f"{theme} ({code})", "department": department, "geography": "ALL",
            "cohorts": cohorts, "start": start, "end": end, "unit_cost": 1000, "carry_forward": 0,
            "match_rate": 0, "can_match": "no", "poolable": poolable, "basis": "devolved",
            "settlement": settlement, "theme": theme, "budget_type": budget_type, "ring_fenced": ring_fenced}


def write(folder: Path, pots: list[dict], budgets: dict[str, float], need: dict[str, float],
          settings: str = "name: settled", extra: dict[str, list[dict]] | None = None) -> Path:
    tables = {
        "areas": [{"area_code": "A", "area_name": "Anytown"}],
        "cohorts": [{"cohort_code": c, "cohort_name": n, "outcome": o, "outcome_rate": 0.5}
                    for c, n, o in (("J", "Out of work", "job entry"), ("L", "Without Level 2", "Level 2"),
                                    ("M", "Without maths", "maths GCSE"))],
        "pots": pots,
        "budgets": [{"pot_code": p, "year": Y, "amount": a} for p, a in budgets.items()],
        "need": [{"area_code": "A", "cohort_code": c, "year": Y, "people": n} for c, n in need.items()],
        **(extra or {}),
    }
    return write_tables(folder, tables, settings)


def two_themes(tmp_path, **sk) -> Path:
    return write(tmp_path / "case", [pot("SK", "Adult skills", "L", **sk), pot("EM", "Employment support", "J")],
                 {"SK": 100_000, "EM": 100_000}, {"J": 200, "L": 50})


def outcomes(run) -> dict[str, float]:
    return {k: round(v.totals["outcomes"], 6) for k, v in run.levels.items()}


def spend(run, level) -> dict[tuple[str, str, str], float]:
    a = run.levels[level].allocations
    return {(r.pot_code, r.cohort_code, r.programme): round(r.amount, 2) for r in a.itertuples()}


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_cross_theme_limit_binds(tmp_path, solver):
    """10% of Adult skills' £100,000 = £10,000 may move: SK funds 10 more J through EM's programme.
    Settlement: 75 + 10 × 0.5 = 80 outcomes; £40,000 of SK still idle. The row's dual: £1k moved buys
    one participant, half an outcome → 500 outcomes per extra £1m moved. Lifted (theme_flex 1): SK's
    whole idle £50,000 moves → 75 + 25 = 100, so the limit costs 20; at 20%: £20,000 → 85, +5."""
    run = optimise_case(load_case(two_themes(tmp_path)), solver=solver)
    assert run.level_names == ("baseline", "aligned", "settlement", "pooled")
    assert outcomes(run) == {"baseline": 75.0, "aligned": 75.0, "settlement": 80.0, "pooled": 80.0}
    assert spend(run, "settlement") == {("SK", "J", "EM"): 10_000.0, ("SK", "L", "SK"): 50_000.0,
                                        ("EM", "J", "EM"): 100_000.0}
    assert run.dividends()["settlement"]["outcomes"] == pytest.approx(5.0)
    rows = run.levels["settlement"].constraints
    rows = rows[rows["family"] == "theme_flex"].set_index("theme")
    assert rows.loc["Adult skills", "upper"] * 1000 == pytest.approx(10_000)
    assert bool(rows.loc["Adult skills", "binding"]) and not bool(rows.loc["Employment support", "binding"])
    assert rows.loc["Adult skills", "dual"] * 1000 == pytest.approx(500.0)
    costs = {c.rule: c for c in rule_costs(run)}
    assert costs["theme_flex"].without_rule == pytest.approx(100.0) and costs["theme_flex"].cost == pytest.approx(20.0)
    assert costs["theme_flex_ask"].words == "raise the cross-theme limit to 20%"
    assert costs["theme_flex_ask"].cost == pytest.approx(5.0) and costs["theme_flex_ask"].department == "MHCLG"


@pytest.mark.parametrize("solver", SOLVERS)
def test_money_carried_forward_counts_in_the_theme_s_money(tmp_path, solver):
    """Two years. SK carries money forward one year and has £100,000 in 2025-26 only; EM £100,000 a
    year. Need a year: L 25, J 200. The theme's money is what its pots may spend in a year: £100,000
    in 2025-26 and, carried, £100,000 in 2026-27, so £10,000 may move each year. Aligned: 25 + 25 L
    and 100 + 100 J → 250 participants, 125 outcomes. Settlement: 10 + 10 J more → 135. The agreement's
    limits are the optimiser's rows (one per theme and year with moves, £10,000 each)."""
    from commissioning.analysis import limits as L
    from optimiser.levels import settlement_pool

    pots = [dict(pot("SK", "Adult skills", "L", start="2025-04-01"), carry_forward=1),
            pot("EM", "Employment support", "J", start="2025-04-01")]
    tables = {
        "areas": [{"area_code": "A", "area_name": "Anytown"}],
        "cohorts": [{"cohort_code": c, "cohort_name": n, "outcome": "o", "outcome_rate": 0.5}
                    for c, n in (("J", "Out of work"), ("L", "Without Level 2"))],
        "pots": pots,
        "budgets": [{"pot_code": "SK", "year": "2025-26", "amount": 100_000}]
        + [{"pot_code": "EM", "year": y, "amount": 100_000} for y in ("2025-26", Y)],
        "need": [{"area_code": "A", "cohort_code": c, "year": y, "people": n}
                 for y in ("2025-26", Y) for c, n in (("J", 200), ("L", 25))],
    }
    case = load_case(write_tables(tmp_path / "cf", tables, "name: carried"))
    run = optimise_case(case, solver=solver)
    assert outcomes(run)["aligned"] == pytest.approx(125.0) and outcomes(run)["settlement"] == pytest.approx(135.0)
    limits = [m for m in L.case_limits(case, settlement_pool(case)) if m.family == "theme_flex"]
    assert sorted((m.theme, m.year, m.bound) for m in limits) == [
        ("Adult skills", "2025-26", 10_000.0), ("Adult skills", Y, 10_000.0),
        ("Employment support", "2025-26", 10_000.0), ("Employment support", Y, 10_000.0)]
    rows = run.levels["settlement"].constraints
    rows = rows[rows["family"] == "theme_flex"]
    assert sorted(zip(rows["theme"], rows["year"], (rows["upper"] * 1000).round(6))) == \
        sorted((m.theme, m.year, m.bound) for m in limits)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_stated_limit_of_twenty_percent(tmp_path, solver):
    """theme_flex 0.2: £20,000 moves → 75 + 10 = 85 outcomes."""
    folder = two_themes(tmp_path)
    (folder / "case.yaml").write_text("name: settled\nsettlement:\n  theme_flex: 0.2\n")
    run = optimise_case(load_case(folder), solver=solver)
    assert outcomes(run)["settlement"] == pytest.approx(85.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_revenue_never_pays_for_capital(tmp_path, solver):
    """SK is capital, EM revenue: no column lets SK's capital buy EM's revenue programme, so the
    settlement adds nothing (75); lifting the split (every settlement pot revenue) gives 80: it costs 5."""
    run = optimise_case(load_case(two_themes(tmp_path, budget_type="capital")), solver=solver)
    assert outcomes(run) == {"baseline": 75.0, "aligned": 75.0, "settlement": 75.0, "pooled": 75.0}
    v = run.levels["settlement"].lp.variables
    alloc = v[v["kind"] == "alloc"]
    assert set(zip(alloc["pot_code"], alloc["programme"])) == {("SK", "SK"), ("EM", "EM")}
    costs = {c.rule: c for c in rule_costs(run)}
    assert "theme_flex" not in costs  # no two themes of one budget type: nothing can move
    assert costs["revenue_capital"].cost == pytest.approx(5.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_ring_fenced_pot_keeps_its_rule(tmp_path, solver):
    """SK ring-fenced: it funds only L through its own programme, as today (75 at every level).
    Lifting the ring-fence lets its 10% move (80): the ring-fence costs 5, an ask of SK's department."""
    run = optimise_case(load_case(two_themes(tmp_path, ring_fenced="yes", department="DfE")), solver=solver)
    assert outcomes(run)["settlement"] == pytest.approx(75.0)
    assert spend(run, "settlement") == {("SK", "L", "SK"): 50_000.0, ("EM", "J", "EM"): 100_000.0}
    costs = {c.rule: c for c in rule_costs(run)}
    assert costs["ring_fence"].cost == pytest.approx(5.0) and costs["ring_fence"].department == "DfE"


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_theme_pools_freely_within_itself(tmp_path, solver):
    """One theme, two flexible pots: SKA (L only, £100,000) and SKB (M only, £50,000); need L 50,
    M 100. Aligned: SKA 50 L, SKB 50 M → 100 participants, 50 outcomes. In the settlement SKA's
    idle £50,000 buys 50 M through SKB's programme (no limit inside a theme; SKB's programme may
    serve 2 × 50 = 100): 150 participants, 75 outcomes. No cross-theme row exists."""
    folder = write(tmp_path / "case", [pot("SKA", "Adult skills", "L"), pot("SKB", "Adult skills", "M")],
                   {"SKA": 100_000, "SKB": 50_000}, {"L": 50, "M": 100})
    run = optimise_case(load_case(folder), solver=solver)
    assert outcomes(run) == {"baseline": 50.0, "aligned": 50.0, "settlement": 75.0, "pooled": 75.0}
    assert spend(run, "settlement")[("SKA", "M", "SKB")] == 50_000.0
    assert not (run.levels["settlement"].constraints["family"] == "theme_flex").any()


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_pooled_level_adds_pots_outside_the_settlement(tmp_path, solver):
    """Beside SK and EM, two pots outside the settlement, both poolable: a council's LOC (J only,
    £20,000) and a national NAT (L only, £50,000); need J 300, L 100.

    Aligned: L's 100 are served by SK and NAT (£150,000 for £100,000 of need); J: EM 100 + LOC 20 →
    220 participants, 110 outcomes. Settlement: NAT serves 50 L, SK 50 L and moves its 10%
    (£10,000) to J through EM's programme → 230, 115. Pooled: NAT and LOC pool with each other
    (not with the settlement): NAT buys J through LOC's programme, which may serve 2 × 20 = 40, so
    20 more → 250, 125 — and NAT still cannot buy EM's programme."""
    pots = [pot("SK", "Adult skills", "L"), pot("EM", "Employment support", "J"),
            pot("LOC", "Council", "J", settlement="no", poolable="yes"),
            pot("NAT", "National", "L", settlement="no", poolable="yes")]
    folder = write(tmp_path / "case", pots, {"SK": 100_000, "EM": 100_000, "LOC": 20_000, "NAT": 50_000},
                   {"J": 300, "L": 100})
    run = optimise_case(load_case(folder), solver=solver)
    assert outcomes(run)["aligned"] == pytest.approx(110.0)
    assert outcomes(run)["settlement"] == pytest.approx(115.0)
    assert outcomes(run)["pooled"] == pytest.approx(125.0)
    pooled = spend(run, "pooled")
    assert ("NAT", "J", "EM") not in pooled and ("LOC", "J", "EM") not in pooled
    assert sum(a for (p, c, q), a in pooled.items() if q == "LOC") == pytest.approx(40_000)  # its capacity


def test_the_settlement_outputs_from_the_command_line(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["optimise", str(two_themes(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "settlement dividend (settlement - aligned): +5 outcomes" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["levels"]) == ["baseline", "aligned", "settlement", "pooled"]
    assert summary["settlement"]["theme_flex"] == 0.1
    assert summary["settlement"]["dividend"]["outcomes"] == pytest.approx(5.0)
    rules = {r["rule"]: r for r in summary["settlement_rules"]}
    assert rules["theme_flex"]["cost"] == pytest.approx(20.0)
    with open(out / "asks.csv") as fh:
        asks = {r["change"]: r for r in csv.DictReader(fh)}
    assert float(asks["theme_flex"]["gain"]) == pytest.approx(5.0)
    assert asks["theme_flex"]["measured_against"] == "settlement" and asks["theme_flex"]["department"] == "MHCLG"
    with open(out / "flags.csv") as fh:
        flags = [r for r in csv.DictReader(fh) if r["level"] == "settlement"]
    assert {(f["kind"], f["reason"]) for f in flags} == {("gap", "theme_flex"), ("idle", "theme_flex")}
    with open(out / "allocations.csv") as fh:
        assert {r["level"] for r in csv.DictReader(fh)} == {"baseline", "aligned", "settlement", "pooled"}


# ---- owners by date --------------------------------------------------------------------------------
def test_a_department_changes_hands_at_a_year_end_and_mid_year(tmp_path):
    """ASF: DfE until adult skills moved to DWP. With the move on 1 April 2026 (a year's first
    day) 2025-26 is DfE's and 2026-27 DWP's; with a move on 16 September 2025, 2025-26 shows both."""
    pots = [pot("ASF", "Adult skills", "L", department="DfE", start="2025-04-01", end="2028-03-31"),
            pot("EM", "Employment support", "J", start="2025-04-01", end="2028-03-31")]
    extra = {"departments": [{"pot_code": "ASF", "department": "DWP", "from": "2026-04-01",
                              "source": "devolution guidance moved, 1 April 2026"}]}
    case = load_case(write(tmp_path / "a", pots, {"ASF": 100_000, "EM": 100_000}, {"J": 10, "L": 10}, extra=extra))
    assert [department_in(case, "ASF", y) for y in ("2025-26", "2026-27", "2027-28")] == ["DfE", "DWP", "DWP"]
    assert department_on(case, "ASF", date(2026, 3, 31)) == "DfE"
    assert department_in(case, "EM", "2026-27") == "DWP"
    extra["departments"][0]["from"] = "2025-09-16"
    case = load_case(write(tmp_path / "b", pots, {"ASF": 100_000, "EM": 100_000}, {"J": 10, "L": 10}, extra=extra))
    assert department_in(case, "ASF", "2025-26") == "DfE; DWP from 16 Sep 2025"
    assert department_in(case, "ASF", "2026-27") == "DWP"
    assert owners(case, "ASF") == [(None, "DfE"), (date(2025, 9, 16), "DWP")]


def test_a_settlement_case_round_trips_through_a_workbook(tmp_path):
    """convert writes the settlement columns, the departments table and the settlement settings, and
    reads them back as they were."""
    pots = [pot("ASF", "Adult skills", "L", department="DfE", ring_fenced="yes"),
            pot("EM", "Employment support", "J", budget_type="capital")]
    extra = {"departments": [{"pot_code": "ASF", "department": "DWP", "from": "2026-04-01", "source": "DWP"}]}
    folder = write(tmp_path / "a", pots, {"ASF": 100_000, "EM": 100_000}, {"J": 10, "L": 10}, extra=extra,
                   settings="name: settled\nsettlement:\n  theme_flex: 0.15\ngss_vintage: 2026-05-01")
    original = load_case(folder)
    result = CliRunner().invoke(main, ["convert", str(folder), str(tmp_path / "c.xlsx")])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "c.xlsx"), str(tmp_path / "back")])
    assert result.exit_code == 0, result.output
    for again in (load_case(tmp_path / "c.xlsx"), load_case(tmp_path / "back")):
        assert again.departments == original.departments and again.pots == original.pots
        assert again.settings.settlement.theme_flex == 0.15 and again.settings.gss_vintage == date(2026, 5, 1)
        assert again.fingerprint() == original.fingerprint()


def test_departments_name_a_known_pot(tmp_path):
    pots = [pot("SK", "Adult skills", "L"), pot("EM", "Employment support", "J")]
    extra = {"departments": [{"pot_code": "NOPE", "department": "DWP", "from": "2026-04-01"}]}
    v = validate_path(write(tmp_path / "c", pots, {"SK": 1, "EM": 1}, {"J": 1}, extra=extra))
    assert [(p.where, p.row, p.column) for p in v.errors] == [("departments.csv", 2, "pot_code")]


def test_a_settlement_pot_needs_a_theme(tmp_path):
    pots = [pot("SK", "Adult skills", "L"), pot("EM", "Employment support", "J")]
    pots[1]["theme"] = ""
    v = validate_path(write(tmp_path / "c", pots, {"SK": 1, "EM": 1}, {"J": 1}))
    assert [(p.where, p.row, p.column) for p in v.errors] == [("pots.csv", 3, "theme")]
    assert "the settlement's spending theme" in v.errors[0].expected


# ---- GSS vintages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("code, vintage, words", [
    ("E47000011", "2025", "abolished in May 2024"),
    ("E47000015", "2024-06-01", "not in use until February 2025"),
    ("E47000099", "2026-12-01", "not a combined-authority code this engine knows"),
])
def test_a_combined_authority_code_out_of_its_vintage_is_warned(tmp_path, code, vintage, words):
    pots = [pot("SK", "Adult skills", "L"), pot("EM", "Employment support", "J")]
    fp = {"footprints": [{"footprint_code": code, "footprint_name": "The authority", "area_code": "A"}]}
    folder = write(tmp_path / "c", pots, {"SK": 1000, "EM": 1000}, {"J": 1, "L": 1},
                   settings=f"name: settled\ngss_vintage: {vintage}", extra=fp)
    v = validate_path(folder)
    assert v.errors == []
    hits = [w for w in v.warnings if w.where == "footprints.csv"]
    assert len(hits) == 1 and words in hits[0].found and hits[0].column == "footprint_code" and hits[0].row == 2


def test_a_current_code_is_not_warned(tmp_path):
    pots = [pot("SK", "Adult skills", "L"), pot("EM", "Employment support", "J")]
    fp = {"footprints": [{"footprint_code": "E47000003", "footprint_name": "West Yorkshire", "area_code": "A"}]}
    v = validate_path(write(tmp_path / "c", pots, {"SK": 1000, "EM": 1000}, {"J": 1, "L": 1}, extra=fp))
    assert v.errors == [] and [w for w in v.warnings if w.where == "footprints.csv"] == []
