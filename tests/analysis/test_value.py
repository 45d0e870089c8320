"""Value for money the Green Book's way (commissioning.case.value, commissioning.analysis.value),
on cases small enough to work out by hand, with both solvers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from commissioning.analysis.value import value_frame, value_record
from commissioning.cli import main
from commissioning.inputs.validate import load_case, validate_path
from optimiser.levels import optimise_case
from tablecases import write_tables

SOLVERS = ["highs", "cbc"]

POT = {"pot_code": "P", "pot_name": "Programme", "department": "DWP", "geography": "ALL", "cohorts": "ALL",
       "start": "2025-04-01", "end": "2026-03-31", "unit_cost": 1000, "carry_forward": 0, "match_rate": 0,
       "can_match": "no", "poolable": "yes", "basis": "national"}


def write(folder: Path, tables: dict[str, list[dict]], settings: str = "name: hand") -> Path:
    return write_tables(folder, tables, settings)


def one_year(outcomes: list[dict], **extra) -> dict[str, list[dict]]:
    """One area, cohorts X (headline rate 0.5) and Y (0.6), one pot: £10,000 at £1,000 a head
    buys 10 participants; 10 people in need in each cohort, so the money serves one cohort."""
    tables = {
        "areas": [{"area_code": "A", "area_name": "Anytown"}],
        "cohorts": [{"cohort_code": "X", "cohort_name": "Long-term unemployed", "outcome": "job entry",
                     "outcome_rate": 0.5},
                    {"cohort_code": "Y", "cohort_name": "Little English", "outcome": "ESOL passed",
                     "outcome_rate": 0.6}],
        "pots": [POT],
        "budgets": [{"pot_code": "P", "year": "2025-26", "amount": 10000}],
        "need": [{"area_code": "A", "cohort_code": c, "year": "2025-26", "people": 10} for c in ("X", "Y")],
        "outcomes": outcomes,
    }
    tables.update(extra)
    return tables


TWO_TYPES = [
    {"cohort_code": "X", "outcome": "job entry", "rate": 0.5, "fiscal_value": 2000, "source": "hand-made"},
    {"cohort_code": "Y", "outcome": "ESOL passed", "rate": 0.6, "social_value": 500, "source": "hand-made"},
    {"cohort_code": "Y", "outcome": "Level 2", "rate": 0.2, "economic_value": 1000, "source": "hand-made"},
]


def funded(case, solver: str, level: str = "aligned") -> dict[str, float]:
    run = optimise_case(case, solver=solver)
    a = run.levels[level].allocations
    return a.groupby("cohort_code")["amount"].sum().round(2).to_dict(), run


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_outcome_types_with_values_fund_the_other_cohort(tmp_path, solver):
    # Per participant: X reaches 0.5 job entries (£2,000 fiscal each) = £1,000; Y reaches 0.6 ESOL
    # passes (£500 social) + 0.2 Level 2 (£1,000 economic) = £300 + £200 = £500. Counting outcomes
    # (the headline rates 0.5 against 0.6) funds Y; valuing them funds X: 10 × £1,000 = £10,000.
    folder = write(tmp_path / "c", one_year(TWO_TYPES), "name: hand\nobjective: outcomes")
    by_cohort, _ = funded(load_case(folder), solver)
    assert by_cohort == {"Y": 10000.0}
    folder = write(tmp_path / "v", one_year(TWO_TYPES))  # no objective stated: value, the default
    case = load_case(folder)
    assert case.settings.objective == "value" and "values its outcomes" in case.settings.objective_why
    by_cohort, run = funded(case, solver)
    assert by_cohort == {"X": 10000.0}
    assert run.levels["aligned"].totals["value"] == pytest.approx(10000.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_fiscal_and_economic_objectives_choose_differently(tmp_path, solver):
    # fiscal: X £1,000 a head, Y £0 → X. economic: X £0, Y 0.2 × £1,000 = £200 a head → Y.
    fiscal, _ = funded(load_case(write(tmp_path / "f", one_year(TWO_TYPES), "name: f\nobjective: fiscal")), solver)
    economic, run = funded(load_case(write(tmp_path / "e", one_year(TWO_TYPES), "name: e\nobjective: economic")),
                           solver)
    assert fiscal == {"X": 10000.0} and economic == {"Y": 10000.0}
    # the economic objective's value: 10 participants × £200 = £2,000 (the objective in £)
    assert run.levels["aligned"].solution.objective == pytest.approx(2000.0, abs=0.01)


@pytest.mark.parametrize("solver", SOLVERS)
def test_deadweight_and_displacement_make_the_net_figure(tmp_path, solver):
    # X's job entries: deadweight 0.5, displacement 0.2 → net share 0.5 × 0.8 = 0.4, so £1,000 a
    # head gross is £400 net, below Y's £500: the money moves to Y. Y's figures, 10 participants:
    # ESOL 6 gross = 6 net (no additionality stated for it), Level 2 2; PV 6 × 500 + 2 × 1,000 = £5,000.
    rows = [dict(TWO_TYPES[0], deadweight=0.5, displacement=0.2), TWO_TYPES[1], TWO_TYPES[2]]
    case = load_case(write(tmp_path / "d", one_year(rows)))
    by_cohort, run = funded(case, solver)
    assert by_cohort == {"Y": 10000.0}
    record = value_record(case, value_frame(case, {n: lv.allocations for n, lv in run.levels.items()}))
    assert record["additionality"] == "net"
    aligned = record["levels"]["aligned"]
    assert aligned["net_outcomes"] == {"ESOL passed": 6.0, "Level 2": 2.0}
    assert aligned["term"]["pv_benefits"] == 5000.0 and aligned["term"]["bcr"] == 0.5
    # Had the plan funded X instead: 5 gross job entries, 5 × 0.4 = 2 net, 2 × £2,000 = £4,000.
    forced = load_case(write(tmp_path / "x", one_year(rows, need=[
        {"area_code": "A", "cohort_code": "X", "year": "2025-26", "people": 10},
        {"area_code": "A", "cohort_code": "Y", "year": "2025-26", "people": 0}])))
    _, run = funded(forced, solver)
    rec = value_record(forced, value_frame(forced, {n: lv.allocations for n, lv in run.levels.items()}))
    term = rec["levels"]["aligned"]
    assert term["net_outcomes"] == {"job entry": 2.0} and term["term"]["gross_outcomes"] == 5.0
    assert term["term"]["fiscal"] == 4000.0


def two_years(tmp_path: Path, settings: str) -> Path:
    """Two years, £10,000 each; X only (need 10 a year); one outcome worth £1,000 fiscal a year in
    2020-21 prices, lasting 2 years. Deflators 2020-21 80, 2025-26 100."""
    tables = {
        "areas": [{"area_code": "A", "area_name": "Anytown"}],
        "cohorts": [{"cohort_code": "X", "cohort_name": "Long-term unemployed", "outcome": "job entry",
                     "outcome_rate": 0.5}],
        "pots": [dict(POT, end="2027-03-31")],
        "budgets": [{"pot_code": "P", "year": y, "amount": 10000} for y in ("2025-26", "2026-27")],
        "need": [{"area_code": "A", "cohort_code": "X", "year": y, "people": 10} for y in ("2025-26", "2026-27")],
        "outcomes": [{"cohort_code": "X", "outcome": "job entry", "rate": 0.5, "fiscal_value": 1000,
                      "persistence_years": 2, "price_year": "2020-21", "source": "hand-made"}],
        "deflators": [{"year": "2020-21", "index": 80}, {"year": "2025-26", "index": 100}],
    }
    return write(tmp_path, tables, settings)


@pytest.mark.parametrize("solver", SOLVERS)
def test_uprated_discounted_present_value_on_a_calculator(tmp_path, solver):
    # £1,000 in 2020-21 prices × 100/80 = £1,250 a year in 2025-26 prices. 5 job entries a year.
    # Achieved 2025-26 (t = 0), lasting 2 years: 5 × 1,250 × (1 + 1/1.035) = 6,250 × 1.966183575 = 12,288.65
    # Achieved 2026-27 (t = 1):                 5 × 1,250 × (1/1.035 + 1/1.035²) = 6,250 × 1.899694 = 11,873.09
    # PV of benefits 24,161.74. Costs: 10,000 + 10,000/1.035 = 19,661.84, × 1.1 optimism bias = 21,628.02.
    # NPSV 2,533.72; BCR 24,161.74 / 21,628.02 = 1.117150.
    case = load_case(two_years(tmp_path / "c", "name: pv\noptimism_bias: 0.1"))
    run = optimise_case(case, solver=solver)
    frame = value_frame(case, {n: lv.allocations for n, lv in run.levels.items()})
    record = value_record(case, frame)
    term = record["levels"]["aligned"]["term"]
    assert term["pv_benefits"] == 24161.74
    assert term["pv_costs"] == 21628.02
    assert term["npsv"] == 2533.72
    assert term["bcr"] == pytest.approx(1.117150, abs=1e-6)
    # Yearly amounts are undiscounted, in the price base: 6,250 in 2025-26; 6,250 + 6,250 in 2026-27;
    # 6,250 in 2027-28, after the term (no costs there, so no ratio).
    years = record["levels"]["aligned"]["years"]
    assert {y: v["fiscal"] for y, v in years.items()} == {"2025-26": 6250.0, "2026-27": 12500.0, "2027-28": 6250.0}
    assert years["2027-28"]["bcr"] is None and years["2027-28"]["net_outcomes"] == 0.0
    assert term["fiscal"] == 25000.0 and term["net_outcomes"] == 10.0
    # The LP's objective is the same present value.
    assert run.levels["aligned"].solution.objective == pytest.approx(24161.74, abs=0.01)


def test_a_value_whose_year_has_no_deflator_is_an_error_at_its_row(tmp_path):
    folder = two_years(tmp_path / "c", "name: pv")
    (folder / "deflators.csv").write_text("year,index\n2025-26,100\n")
    v = validate_path(folder)
    assert not v.ok
    p = next(e for e in v.errors if e.column == "price_year")
    assert (p.where, p.row) == ("outcomes.csv", 2) and "2020-21 has no deflator" in p.found
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2 and "outcomes.csv" in result.output and "price_year" in result.output


def test_a_fiscal_objective_needs_an_outcomes_table(tmp_path):
    tables = one_year([])
    del tables["outcomes"]
    v = validate_path(write(tmp_path / "c", tables, "name: n\nobjective: fiscal"))
    assert not v.ok and any(e.column == "objective" and "outcomes table" in e.expected for e in v.errors)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_rates_row_overrides_one_outcome_for_one_pot(tmp_path, solver):
    # P's participants in X reach job entry at 0.1, not 0.5: £200 a head, below Y's £500.
    tables = one_year(TWO_TYPES, rates=[{"pot_code": "P", "cohort_code": "X", "outcome": "job entry",
                                         "outcome_rate": 0.1}])
    by_cohort, _ = funded(load_case(write(tmp_path / "c", tables)), solver)
    assert by_cohort == {"Y": 10000.0}


def test_the_cli_writes_value_csv_and_the_summary_figures(tmp_path):
    folder = two_years(tmp_path / "c", "name: pv\noptimism_bias: 0.1")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["optimise", str(folder), "--out", str(out), "--solver", "highs"])
    assert result.exit_code == 0, result.output
    assert "coordination alone" in result.output and "gross" in result.output
    assert "alignment dividend: +£0 of public value" in result.output  # no provision: the baseline is the plan
    rows = list(csv.DictReader(open(out / "value.csv")))
    whole = next(r for r in rows if r["level"] == "aligned" and r["pot_code"] == "" and r["year"] == ""
                 and r["outcome"] == "")
    assert float(whole["pv_benefits"]) == pytest.approx(24161.74, abs=0.005)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["value"]["levels"]["aligned"]["term"]["npsv"] == 2533.72
    assert summary["objective"] == "value" and summary["objective_why"]


# ---- the agreement's Value for money sheet, and `check` ----------------------------------------------------
def agreed(tmp_path: Path) -> Path:
    folder = two_years(tmp_path / "case", "name: pv\noptimism_bias: 0.1")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["agree", str(folder), "--out", str(out), "--solver", "highs"])
    assert result.exit_code == 0, result.output
    return out


def named(wb, name: str):
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][ref.replace("$", "")]


@pytest.mark.libreoffice
def test_the_value_for_money_sheet_recalculated_equals_the_summary_to_the_penny(tmp_path):
    import shutil

    from engines import need
    from writers.test_transition_sheet import recalculated

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    need(soffice, "LibreOffice (soffice)")
    out = agreed(tmp_path)
    import writers.test_transition_sheet as T

    T.SOFFICE = soffice
    wb = recalculated([out / "agreement.xlsx"], tmp_path)[0]
    summary = json.loads((out / "summary.json").read_text())["value"]["levels"]["pooled"]["term"]
    for name, key in (("vfm_pv_benefits", "pv_benefits"), ("vfm_pv_costs", "pv_costs"), ("vfm_npsv", "npsv")):
        assert round(named(wb, name).value, 2) == summary[key], name  # 24,161.74; 21,628.02; 2,533.72
    assert named(wb, "vfm_bcr").value == pytest.approx(summary["bcr"], abs=1e-6)


def test_check_recomputes_the_value_for_money_with_the_sheets_discount_rate(tmp_path):
    import openpyxl

    out = agreed(tmp_path)
    result = CliRunner().invoke(main, ["check", str(out / "agreement.xlsx"), "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "PV of benefits £24,161.74, PV of costs £21,628.02, NPSV +£2,533.72" in result.output
    # A finance team sets the discount rate to 0 (openpyxl drops the saved results, so only the
    # recomputation speaks): benefits 5 × 1,250 × 2 × 2 = £25,000; costs 20,000 × 1.1 = £22,000.
    wb = openpyxl.load_workbook(out / "agreement.xlsx")
    named(wb, "vfm_rate").value = 0
    wb.save(tmp_path / "edited.xlsx")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "edited.xlsx"), "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "the discount rate is 0.00% where the case states 3.50%" in result.output
    assert "PV of benefits £25,000.00, PV of costs £22,000.00, NPSV +£3,000.00" in result.output
    # A result overwritten by hand no longer follows from the sheet: said (no rule is broken, so not a breach).
    named(wb, "vfm_npsv").value = 99999
    wb.save(tmp_path / "tampered.xlsx")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "tampered.xlsx"), "--case", str(tmp_path / "case")])
    assert result.exit_code == 0 and "the NPSV it shows, £99,999.00, differs from £3,000.00 recomputed" in result.output
    # A rate the check cannot use is said and the case's used.
    named(wb, "vfm_rate").value = -1
    wb.save(tmp_path / "negative.xlsx")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "negative.xlsx"), "--case", str(tmp_path / "case")])
    assert result.exit_code == 0 and "the discount rate -1 is not a rate the check can use" in result.output


def test_checks_net_effect_counts_public_value_as_the_case_does(tmp_path):
    import openpyxl

    from agreementcase import allocation_rows

    out = agreed(tmp_path)
    wb = openpyxl.load_workbook(out / "agreement.xlsx")
    ws = wb["Allocations"]
    row = next(r for r in allocation_rows(ws) if r["year"] == "2026-27")
    ws[row["_amount_cell"]] = 5000
    wb.save(tmp_path / "cut.xlsx")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "cut.xlsx"), "--case", str(tmp_path / "case")])
    # 5 fewer participants in 2026-27, each worth 0.5 × £1,250 × (1/1.035 + 1/1.035²) = £1,187.308392
    # of present value: −£5,936.54.
    assert "-£5,936.54 public value" in result.output, result.output
    # and the value for money is recomputed on the cut: 24,161.736563 − 5,936.541961 = 18,225.194602
    assert "PV of benefits £18,225.19" in result.output


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_rates_row_naming_an_outcome_leaves_the_headline_rate_alone(tmp_path, solver):
    # P's Level 2 rate for Y is 0.9 (not 0.2), and P's unit cost for Y £500 (a headline rates row).
    # Counting outcomes, Y's headline rate stays 0.6: £10,000 at £500 buys 20 participants, but only 10
    # are in need, so £5,000 buys 10 participants and 10 × 0.6 = 6 headline outcomes; X gets the other
    # £5,000: 5 participants × 0.5 = 2.5. Total 8.5 outcomes (the Level 2 row changes none of them).
    tables = one_year(TWO_TYPES, rates=[{"pot_code": "P", "cohort_code": "Y", "outcome": "Level 2", "outcome_rate": 0.9},
                                        {"pot_code": "P", "cohort_code": "Y", "unit_cost": 500}])
    case = load_case(write(tmp_path / "c", tables, "name: r\nobjective: outcomes"))
    run = optimise_case(case, solver=solver)
    assert run.levels["aligned"].totals["outcomes"] == pytest.approx(8.5)
    assert len(run.levels["aligned"].lp.variables.query("kind == 'alloc'")) == 2  # one column per cell
    # Valued, Y's Level 2 is worth 0.9 × £1,000 a head through P.
    assert case.valuation.per_head("P", "Y", "2025-26") == pytest.approx(0.6 * 500 + 0.9 * 1000)


@pytest.mark.parametrize("objective, words", [("economic", "+£1,000 of economic benefit"),
                                              ("fiscal", "+£5,000 of fiscal benefit")])
def test_optimise_runs_end_to_end_for_one_audience(tmp_path, objective, words):
    # With no provision the baseline spreads the money over both cohorts (5 each): economic 5 × £200 = £1,000,
    # fiscal 5 × £1,000 = £5,000; the plan puts all 10 in one cohort: economic £2,000 (Y), fiscal £10,000 (X).
    folder = write(tmp_path / "c", one_year(TWO_TYPES), f"name: a\nobjective: {objective}")
    result = CliRunner().invoke(main, ["optimise", str(folder), "--out", str(tmp_path / "out"), "--solver", "cbc"])
    assert result.exit_code == 0, result.output
    assert f"alignment dividend: {words} (present value)" in result.output
