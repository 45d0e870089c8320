"""compare: every scenario's figures equal a separate ``optimise --scenario`` run of it, exactly."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner
from scenariocases import write_case, write_scenario

from commissioning.cli import main
from commissioning.analysis.compare import COMPARISON_COLUMNS, EXTRA_COLUMNS
from commissioning.writers.printing import heading
from commissioning.inputs.validate import load_case
from optimiser.levels import LEVELS, METRICS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"


def read_comparison(folder: Path) -> list[dict[str, str]]:
    with open(folder / "comparison.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def figures_of_summary(summary: dict) -> dict[str, float]:
    """The comparison.csv columns, read from a summary.json."""
    out = {"budget": summary["budget"], "need_people": summary["need_people"]}
    for level in LEVELS:
        for m in METRICS:
            out[f"{level}_{m}"] = summary["levels"][level][m]
    for d in ("alignment", "devolution"):
        for k in ("participants", "outcomes", "value"):
            out[f"{d}_{k}"] = summary["dividends"][d][k]
    return out


def assert_row_equals_summary(row: dict[str, str], summary: dict) -> None:
    assert row["scenario"] == summary["scenario"]
    for col, value in figures_of_summary(summary).items():
        assert float(row[col]) == value, (summary["scenario"], col, row[col], value)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    case = write_case(root / "case")
    s = root / "scenarios"
    files = [
        write_scenario(s, "base.yaml", "name: base\ndescription: Today's rules\n"),
        write_scenario(s, "cut.yaml", "name: skills-cut\ndescription: SKILLS cut by a fifth\n"
                                      "budgets:\n  SKILLS: {multiply: 0.8}\n"),
        write_scenario(s, "nopool.yaml", "name: no-pool\ndescription: No pool, more older people\npool: none\n"
                                         "need:\n  - {cohort: OLDER, multiply: 1.5}\n"),
    ]
    out = root / "out"
    result = CliRunner().invoke(main, ["compare", str(case), *map(str, files), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    return case, files, out, result


def test_comparison_csv_has_the_contract_columns_in_order(tiny):
    _, files, out, _ = tiny
    with open(out / "comparison.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == COMPARISON_COLUMNS + EXTRA_COLUMNS
    assert header[:3] == ["scenario", "budget", "need_people"]
    assert header[3:9] == ["baseline_allocated", "baseline_participants", "baseline_outcomes", "baseline_value",
                           "baseline_unmet_people", "baseline_idle_amount"]
    assert [r["scenario"] for r in read_comparison(out)] == ["base", "skills-cut", "no-pool"]


def test_comparison_equals_separate_optimise_runs(tiny, tmp_path):
    case, files, out, _ = tiny
    rows = read_comparison(out)
    for f, row in zip(files, rows):
        run_out = tmp_path / f.stem
        result = CliRunner().invoke(main, ["--quiet", "optimise", str(case), "--scenario", str(f), "--out",
                                           str(run_out)])
        assert result.exit_code == 0, result.output
        summary = json.loads((run_out / "summary.json").read_text(encoding="utf-8"))
        assert_row_equals_summary(row, summary)
        # comparison.json holds the same summary figures.
        comp = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
        mine = next(s for s in comp["scenarios"] if s["scenario"] == summary["scenario"])["summary"]
        assert mine["levels"] == summary["levels"] and mine["dividends"] == summary["dividends"]


def test_tiny_figures_by_hand(tiny):
    # base: aligned 85 and pooled 95 outcomes (scenariocases). skills-cut: SKILLS has £48,000 a
    # year, all on YOUNG (20 in A1 after LOCAL's 20, 28 of 30 in A2): 10+10+14+5 = 39 a year, 78.
    rows = {r["scenario"]: r for r in read_comparison(tiny[2])}
    assert float(rows["base"]["aligned_outcomes"]) == pytest.approx(85, abs=1e-6)
    assert float(rows["base"]["pooled_outcomes"]) == pytest.approx(95, abs=1e-6)
    assert float(rows["skills-cut"]["aligned_outcomes"]) == pytest.approx(78, abs=1e-6)
    assert float(rows["skills-cut"]["budget"]) == 196000
    assert float(rows["no-pool"]["pooled_outcomes"]) == float(rows["no-pool"]["aligned_outcomes"])
    assert rows["no-pool"]["pool"] == ""
    assert rows["base"]["pool"] == "SKILLS;WORK"


def test_allocations_csv_holds_every_scenario(tiny):
    with open(tiny[2] / "allocations.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["scenario"] for r in rows} == {"base", "skills-cut", "no-pool"}
    assert {r["level"] for r in rows} == set(LEVELS)


def test_workbook_has_the_sheets_formulas_and_a_chart(tiny):
    out = tiny[2]
    wb = openpyxl.load_workbook(out / "comparison.xlsx")
    assert wb.sheetnames == ["Board summary", "Comparison", "Allocation differences", "Aligned differences",
                             "Scenarios", "Run record"]
    comp = wb["Comparison"]
    header = [c.value for c in comp[1]]  # the csv's columns, in words
    assert header == [heading(c) for c in COMPARISON_COLUMNS + EXTRA_COLUMNS]
    assert header[:3] == ["Scenario", "Budget (£)", "Need (people)"]
    assert heading("pooled_outcomes") == "Pooled: outcomes"
    rows = read_comparison(out)
    # The figures are the csv's.
    for i, row in enumerate(rows, start=2):
        assert comp.cell(i, 1).value == row["scenario"]
        j = header.index("Pooled: outcomes") + 1
        assert comp.cell(i, j).value == pytest.approx(float(row["pooled_outcomes"]), abs=1e-6)
    # Below them, the changes against the first scenario are live formulas.
    deltas = [r for r in comp.iter_rows(min_row=len(rows) + 3) if isinstance(r[1].value, str)
              and r[1].value.startswith("=")]
    assert len(deltas) == len(rows)
    assert deltas[1][header.index("Pooled: outcomes")].value.startswith("=IF(")
    assert "$2" in deltas[1][header.index("Pooled: outcomes")].value
    diff = wb["Allocation differences"]
    formulas = [c.value for r in diff.iter_rows() for c in r if isinstance(c.value, str) and c.value.startswith("=")]
    assert any(f.startswith("=IF(OR(") for f in formulas) and any(f.startswith("=SUM(") for f in formulas)
    heads = [c.value for c in diff[4]]
    assert heads[:4] == ["Pot code", "Pot", "Area code", "Area"]
    assert heads[4:7] == ["base", "skills-cut", "no-pool"] and heads[7:9] == ["Change: skills-cut", "Change: no-pool"]
    board = wb["Board summary"]
    assert all(str(board.cell(5, 2 + i).value).startswith("=") for i in range(len(rows)))
    with zipfile.ZipFile(out / "comparison.xlsx") as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_pooled_differences_by_pot_and_area_add_up(tiny):
    wb = openpyxl.load_workbook(tiny[2] / "comparison.xlsx")
    diff = wb["Allocation differences"]
    with open(tiny[2] / "allocations.csv", encoding="utf-8") as fh:
        alloc = [r for r in csv.DictReader(fh) if r["level"] == "pooled" and r["scenario"] == "skills-cut"]
    expected: dict[tuple[str, str], float] = {}
    for r in alloc:
        key = (r["pot_code"], r["area_code"])
        expected[key] = expected.get(key, 0.0) + float(r["amount"])
    got = {(r[0].value, r[2].value): r[5].value for r in diff.iter_rows(min_row=5) if r[0].value not in (None, "total")
           and r[5].value}
    assert got == pytest.approx(expected)


def test_infeasible_scenario_is_a_row_not_a_failure(tmp_path):
    case = write_case(tmp_path / "case")
    ok = write_scenario(tmp_path, "ok.yaml", "name: ok\n")
    bad = write_scenario(tmp_path, "bad.yaml", "name: impossible\nlock:\n  - {pot_code: WORK}\n"
                                               "eligibility:\n  WORK: {remove_cohorts: [OLDER], add_cohorts: [YOUNG]}\n")
    result = CliRunner().invoke(main, ["compare", str(case), str(ok), str(bad), "--out", str(tmp_path / "out"),
                                       "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = read_comparison(tmp_path / "out")
    assert rows[1]["status"] == "infeasible" and rows[1]["pooled_outcomes"] == ""
    assert "lock: WORK keeps £20,000" in rows[1]["detail"]
    assert "impossible" in result.output and "infeasible" in result.output
    openpyxl.load_workbook(tmp_path / "out" / "comparison.xlsx")


def test_bad_scenarios_are_all_named_before_anything_is_solved(tmp_path):
    case = write_case(tmp_path / "case")
    a = write_scenario(tmp_path, "a.yaml", "name: a\nbudgets:\n  NOPE: {multiply: 2}\n")
    b = write_scenario(tmp_path, "b.yaml", "name: b\nequity_floor: 2\n")
    result = CliRunner().invoke(main, ["compare", str(case), str(a), str(b), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "a.yaml, line 3, key 'budgets.NOPE'" in result.output
    assert "b.yaml, line 2, key 'equity_floor'" in result.output
    assert not (tmp_path / "out").exists()


def test_two_scenarios_with_one_name_are_refused(tmp_path):
    case = write_case(tmp_path / "case")
    a = write_scenario(tmp_path, "a.yaml", "name: same\n")
    b = write_scenario(tmp_path, "b.yaml", "description: another\nname: same\n")
    result = CliRunner().invoke(main, ["compare", str(case), str(a), str(b), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "b.yaml, line 2, key 'name'" in result.output and "already used by a.yaml" in result.output


def test_existing_output_needs_force(tiny):
    case, files, out, _ = tiny
    result = CliRunner().invoke(main, ["compare", str(case), str(files[0]), "--out", str(out)])
    assert result.exit_code == 2 and "--force" in result.output


# ---- the example --------------------------------------------------------------------------------
def test_example_comparison_equals_separate_optimise_runs(tmp_path):
    """Every example scenario: the comparison row equals that scenario's own optimise run."""
    scenarios = sorted((EXAMPLE / "scenarios").glob("*.yaml"))
    out = tmp_path / "cmp"
    exe = [sys.executable, "-m", "commissioning"]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    commands = [exe + ["compare", str(EXAMPLE), *map(str, scenarios), "--out", str(out), "--workers", "2"]]
    commands += [exe + ["--quiet", "optimise", str(EXAMPLE), "--scenario", str(f), "--out", str(tmp_path / f.stem)]
                 for f in scenarios]

    def run(cmd):
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)

    # The comparison and the separate runs (each its own process) side by side, a few at a time.
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = list(pool.map(run, commands))
    for proc in done:
        assert proc.returncode == 0, proc.stderr
    assert "extra" not in done[0].stderr.lower()
    rows = read_comparison(out)
    assert len(rows) == len(scenarios)
    runs = {f.stem: json.loads((tmp_path / f.stem / "summary.json").read_text(encoding="utf-8")) for f in scenarios}
    for f, row in zip(scenarios, rows):
        assert_row_equals_summary(row, runs[f.stem])
    by_name = {r["scenario"]: r for r in rows}
    # The scenarios do what their purpose says. The DWP cut removes 10% of every DWP pot's money:
    case = load_case(EXAMPLE)
    dwp = sum(b.amount for b in case.budgets if case.pot[b.pot_code].department == "DWP")
    cut = float(by_name["todays-rules"]["budget"]) - float(by_name["dwp-cut-10pc"]["budget"])
    assert cut == pytest.approx(0.1 * dwp, abs=0.01)
    assert float(by_name["pool-skills"]["pooled_outcomes"]) < float(by_name["todays-rules"]["pooled_outcomes"])
    # The relaxed eligibility is one part (FSF) of the top-ranked eligibility ask of today's
    # rules (DWP's pots widened to one cohort, merged into one ask): alone it gains something,
    # and no more than the whole ask measured.
    with open(tmp_path / "01-todays-rules" / "asks.csv", encoding="utf-8") as fh:
        top = next(a for a in csv.DictReader(fh) if a["change"] in ("add_cohort", "add_area"))
    relax = yaml.safe_load((EXAMPLE / "scenarios" / "04-relax-eligibility.yaml").read_text(encoding="utf-8"))
    assert relax["eligibility"] == {"FSF": {"add_cohorts": [top["cohort_code"]]}}
    assert "FSF" in top["pot_code"].split(";") and top["department"] == "DWP"
    gain = float(by_name["fsf-new-starters"]["aligned_outcomes"]) - float(by_name["todays-rules"]["aligned_outcomes"])
    assert 0 < gain <= float(top["gain_outcomes"]) + 1e-6
    wb = openpyxl.load_workbook(out / "comparison.xlsx")
    assert "Allocation differences" in wb.sheetnames
