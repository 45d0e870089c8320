"""``commissioning frontier`` and ``optimise --alternatives`` as a user runs them.

The frontier case is the first of tests/analysis/test_frontier.py: today £10,000 on cohort
C1 (rate 0.2), C2 (rate 0.6, need 5) unreached; the optimum moves £5,000 and lifts
outcomes from 2 to 4.
"""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from lpcases import Y1, pot, write_case
from commissioning.analysis.frontier import FRONTIER_COLUMNS
from commissioning.cli import main
from optimiser.alternatives import ALTERNATIVE_COLUMNS
from test_docs import read, section, spans


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _frontier_case(tmp_path, budget=10_000, provision=True):
    return write_case(tmp_path / "case", areas=["A1"], cohorts={"C1": 0.2, "C2": 0.6}, pots=[pot("P")],
                      budgets={("P", Y1): budget}, need={("A1", "C1", Y1): 10, ("A1", "C2", Y1): 5},
                      provision={("P", "A1", "C1", Y1): 10_000} if provision else None)


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_frontier_writes_the_table_the_chart_and_the_workbook(tmp_path, solver):
    # --steps 2: shares 0, 25%, 50% of today's £10,000 → £0, £2,500, £5,000 moved →
    # 2, 3, 4 outcomes (2 + 0.4 per £1,000 moved); shares of the dividend 0, 0.5, 1.
    out = tmp_path / "fr"
    res = _invoke("--quiet", "frontier", _frontier_case(tmp_path), "--out", out, "--steps", 2, "--solver", solver)
    assert res.exit_code == 0, res.output
    assert "moves £5,000 (50.0% of today's money)" in res.output
    assert "Wrote" in res.output
    rows = _rows(out / "frontier.csv")
    assert list(rows[0]) == FRONTIER_COLUMNS
    assert [(r["level"], r["step"]) for r in rows] == [("baseline", ""), ("aligned", "0"), ("aligned", "1"),
                                                      ("aligned", "2"), ("pooled", "0"), ("pooled", "1"),
                                                      ("pooled", "2")]
    aligned = rows[1:4]
    assert [float(r["money_moved"]) for r in aligned] == pytest.approx([0, 2500, 5000], abs=0.02)
    assert [float(r["objective_value"]) for r in aligned] == pytest.approx([2, 3, 4], abs=1e-5)
    assert [float(r["share_of_dividend"]) for r in aligned] == pytest.approx([0, 0.5, 1], abs=1e-5)
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from openpyxl import load_workbook

    wb = load_workbook(out / "frontier.xlsx")
    assert wb.sheetnames == ["Frontier", "Run record"]
    ws = wb["Frontier"]
    assert len(ws._charts) == 1  # the native chart
    assert ws.page_setup.paperSize == 9  # A4, as every workbook
    headers = [c.value for row in ws.iter_rows() for c in row if c.value == "Money moved (£)"]
    assert headers == ["Money moved (£)"]
    assert [p.name for p in out.iterdir()] and not list(tmp_path.glob(".fr.partial-*"))


def test_frontier_refuses_bad_input_and_writes_nothing(tmp_path):
    case = _frontier_case(tmp_path)
    out = tmp_path / "fr"
    out.mkdir()
    (out / "keep.txt").write_text("previous results")
    res = _invoke("--quiet", "frontier", case, "--out", out, "--steps", 1)
    assert res.exit_code == 2 and "already exists" in res.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    res = _invoke("--quiet", "frontier", case, "--out", tmp_path / "other", "--steps", 0)
    assert res.exit_code == 2 and not (tmp_path / "other").exists()
    res = _invoke("--quiet", "frontier", tmp_path / "no-such-case", "--out", tmp_path / "other")
    assert res.exit_code == 2 and not (tmp_path / "other").exists()
    # No provision and no money: today spends nothing, so nothing can move.
    empty = tmp_path / "empty"
    _frontier_case(empty, budget=0, provision=False)
    res = _invoke("--quiet", "frontier", empty / "case", "--out", tmp_path / "other")
    assert res.exit_code == 2 and "spends nothing" in res.output
    assert not (tmp_path / "other").exists()


def test_optimise_with_alternatives_writes_alternatives_csv(tmp_path):
    # Two identical districts, 10 people each (rate 0.5), £10,000: the optimum funds one,
    # alternative 1 the other (tests/optimiser/test_alternatives.py), 5 outcomes each.
    case = write_case(tmp_path / "case", areas=["A1", "A2"], cohorts={"C": 0.5}, pots=[pot("P")],
                      budgets={("P", Y1): 10_000}, need={("A1", "C", Y1): 10, ("A2", "C", Y1): 10})
    res = _invoke("--quiet", "optimise", case, "--out", tmp_path / "run", "--alternatives", 1, "--solver", "highs")
    assert res.exit_code == 0, res.output
    assert "aligned 1: 5 outcomes (100.00% of the optimum); 100% of the money in another pot-area pair" in res.output
    rows = _rows(tmp_path / "run" / "alternatives.csv")
    assert list(rows[0]) == ALTERNATIVE_COLUMNS
    assert [(r["level"], r["alternative"]) for r in rows] == [("aligned", "1"), ("pooled", "1")]
    optimum = {r["area_code"] for r in _rows(tmp_path / "run" / "allocations.csv") if r["level"] == "aligned"}
    assert {rows[0]["area_code"]} == {"A1", "A2"} - optimum
    assert float(rows[0]["amount"]) == pytest.approx(10_000) and float(rows[0]["outcomes"]) == pytest.approx(5)
    assert float(rows[0]["share_outside_optimum"]) == pytest.approx(1.0)
    res = _invoke("--quiet", "optimise", case, "--out", tmp_path / "plain", "--solver", "highs")
    assert res.exit_code == 0 and not (tmp_path / "plain" / "alternatives.csv").exists()
    res = _invoke("--quiet", "optimise", case, "--out", tmp_path / "bad", "--alternatives", -1)
    assert res.exit_code == 2 and not (tmp_path / "bad").exists()


@pytest.mark.parametrize("heading, columns", [("## The frontier", FRONTIER_COLUMNS),
                                              ("## `alternatives.csv`", ALTERNATIVE_COLUMNS)])
def test_outputs_md_states_every_column(heading, columns):
    text = section(read("outputs.md"), heading)
    assert [c for c in columns if c not in spans(text)] == []
