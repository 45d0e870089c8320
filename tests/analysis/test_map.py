"""The ``map`` command: coverage of need by today's provision, and the flags it raises.

Tiny hand-made cases with the arithmetic in comments; exact people, money and reasons.
Cases are written as CSV folders by a local helper (no shared factory).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from commissioning.cli import main
from commissioning.analysis.flags import FLAG_COLUMNS, Flag, flags_frame
from commissioning.analysis.mapping import COVERAGE_COLUMNS, PROVISION_NOT_SUPPLIED, provision_map
from commissioning.inputs.validate import load_case

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
HYPERLINK = '=HYPERLINK("http://x","y")'


# ---- a tiny case writer ------------------------------------------------------------------
def _write(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def area(code: str, name: str) -> dict:
    return {"area_code": code, "area_name": name, "population": 1000}


def cohort(code: str, name: str, stage: int = 3) -> dict:
    return {"cohort_code": code, "cohort_name": name, "journey_stage": stage, "outcome": "job entry",
            "outcome_rate": 0.5}


def pot(code: str, unit_cost: float, geography: str = "ALL", cohorts: str = "ALL", start: str = "2024-04-01",
        end: str = "2028-03-31", name: str | None = None, carry_forward: int = 0) -> dict:
    return {"pot_code": code, "pot_name": name or f"Pot {code}", "department": "DWP", "geography": geography,
            "cohorts": cohorts, "start": start, "end": end, "unit_cost": unit_cost,
            "carry_forward": carry_forward, "match_rate": 0, "can_match": "no", "poolable": "yes",
            "basis": "formula"}


def budget(pot_code: str, year: str, amount: float) -> dict:
    return {"pot_code": pot_code, "year": year, "amount": amount}


def need(area_code: str, cohort_code: str, year: str, people: int) -> dict:
    return {"area_code": area_code, "cohort_code": cohort_code, "year": year, "people": people}


def provision(pot_code: str, area_code: str, cohort_code: str, year: str, amount: float, provider: str) -> dict:
    return {"pot_code": pot_code, "area_code": area_code, "cohort_code": cohort_code, "year": year,
            "amount": amount, "provider": provider}


def write_case(folder: Path, *, areas, cohorts, pots, budgets, need_rows, provision_rows=None, rates=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "areas.csv", areas)
    _write(folder / "cohorts.csv", cohorts)
    _write(folder / "pots.csv", pots)
    _write(folder / "budgets.csv", budgets)
    _write(folder / "need.csv", need_rows)
    if provision_rows is not None:
        _write(folder / "provision.csv", provision_rows)
    if rates is not None:
        _write(folder / "rates.csv", rates)
    (folder / "case.yaml").write_text("name: tiny\n", encoding="utf-8")
    return folder


def only(flags, **match) -> Flag:
    chosen = [f for f in flags if all(getattr(f, k) == v for k, v in match.items())]
    assert len(chosen) == 1, f"expected one flag matching {match}, found {chosen}"
    return chosen[0]


# ---- cases -----------------------------------------------------------------------------------
def stacked_case(tmp_path: Path, pot_name: str | None = None) -> Path:
    """Two pots stacked on one cell beyond its need, plus a cohort no pot may fund.

    A1/C1/2025-26: need 10. P1 £6,000 at £500 = 12 people; P2 £2,000 at £1,000 = 2 people;
    14 people, 4 beyond need; excess cost £8,000 × 4/14 = £2,285.71.
    P1 carries money forward one year: available 2025-26 = £4,000 (2024-25) + £10,000 = £14,000;
    P2 £5,000 → eligible money £19,000.
    A1/C2/2025-26: need 7, and no pot lists C2 → gap no_eligible_pot, 7 people.
    """
    return write_case(
        tmp_path / "stacked",
        areas=[area("A1", "Alpha")],
        cohorts=[cohort("C1", "Looking for work", 3), cohort("C2", "In work, ill health", 6)],
        pots=[pot("P1", 500, cohorts="C1", name=pot_name, carry_forward=1), pot("P2", 1000, cohorts="C1")],
        budgets=[budget("P1", "2024-25", 4000), budget("P1", "2025-26", 10000), budget("P2", "2025-26", 5000)],
        need_rows=[need("A1", "C1", "2025-26", 10), need("A1", "C2", "2025-26", 7)],
        provision_rows=[provision("P1", "A1", "C1", "2025-26", 6000, "Alpha Training"),
                        provision("P2", "A1", "C1", "2025-26", 2000, "Beta Works")],
    )


def test_two_pots_stacked_beyond_need_is_one_duplication(tmp_path):
    pm = provision_map(load_case(stacked_case(tmp_path)))
    dup = only(pm.flags, kind="duplication")
    assert (dup.stage, dup.level, dup.reason) == ("map", None, None)
    assert (dup.area_code, dup.cohort_code, dup.year) == ("A1", "C1", "2025-26")
    assert dup.pot_code is None  # two pots involved
    assert dup.people == pytest.approx(4.0)
    assert dup.amount == pytest.approx(8000 * 4 / 14)  # £2,285.71
    assert dup.detail == ("2 pots stack on this cell: P1 £6,000 (Alpha Training), P2 £2,000 (Beta Works); "
                          "14 people provided against a need of 10, 4 people beyond need")
    # The stacked cell has no gap; the only other flag is the unfunded cohort.
    assert [(f.kind, f.cohort_code) for f in pm.flags] == [("duplication", "C1"), ("gap", "C2")]


def test_a_cohort_no_pot_may_fund_is_a_no_eligible_pot_gap(tmp_path):
    pm = provision_map(load_case(stacked_case(tmp_path)))
    gap = only(pm.flags, kind="gap")
    # C2 is in no pot's cohorts: the whole need of 7 is unmet, and no cost can be named.
    assert (gap.reason, gap.area_code, gap.cohort_code, gap.year) == ("no_eligible_pot", "A1", "C2", "2025-26")
    assert gap.people == 7
    assert gap.amount is None and gap.pot_code is None
    assert "no pot in the case funds In work, ill health" in gap.detail


def test_coverage_row_for_one_cell(tmp_path):
    pm = provision_map(load_case(stacked_case(tmp_path)))
    cov = pm.coverage
    assert list(cov.columns) == COVERAGE_COLUMNS
    assert list(zip(cov["cohort_code"], cov["year"])) == [("C1", "2025-26"), ("C2", "2025-26")]
    row = cov.iloc[0].to_dict()
    assert row["journey_stage"] == 3
    assert row["need_people"] == 10
    assert row["eligible_pots"] == 2
    assert row["eligible_money"] == 19000  # P1 £4,000 carried + £10,000, P2 £5,000
    assert row["provision_amount"] == 8000
    assert row["provision_people"] == pytest.approx(14.0)
    assert row["coverage"] == pytest.approx(1.4)
    c2 = cov.iloc[1].to_dict()
    assert (c2["eligible_pots"], c2["eligible_money"], c2["provision_people"], c2["coverage"]) == (0, 0.0, 0.0, 0.0)


def test_a_pot_that_would_fit_but_for_its_geography(tmp_path):
    # A2 (Calderdale)/C1/2025-26: need 20, no pot may fund it.
    #   ASF covers A1 only (fails geography alone), £100,000 available in 2025-26;
    #   NARROW covers everywhere but funds only C9 (fails cohort alone), £5,000 available;
    #   FAR covers A1 and funds C9 (fails two rules) — not a candidate.
    # Nearest = most money: ASF. Amount = 20 × £1,500 = £30,000.
    # A1/C1: need 10, ASF provision £15,000 / £1,500 = 10 people → met exactly, no flag.
    folder = write_case(
        tmp_path / "geo",
        areas=[area("A1", "Alpha"), area("A2", "Calderdale")],
        cohorts=[cohort("C1", "Looking for work"), cohort("C9", "Other")],
        pots=[pot("NARROW", 800, cohorts="C9"), pot("ASF", 1500, geography="A1", cohorts="C1"),
              pot("FAR", 700, geography="A1", cohorts="C9")],
        budgets=[budget("NARROW", "2025-26", 5000), budget("ASF", "2025-26", 100000), budget("FAR", "2025-26", 9e6)],
        need_rows=[need("A1", "C1", "2025-26", 10), need("A2", "C1", "2025-26", 20)],
        provision_rows=[provision("ASF", "A1", "C1", "2025-26", 15000, "College")],
    )
    pm = provision_map(load_case(folder))
    gap = only(pm.flags, kind="gap")
    assert (gap.reason, gap.pot_code, gap.area_code, gap.cohort_code, gap.year) == (
        "geography", "ASF", "A2", "C1", "2025-26")
    assert gap.people == 20
    assert gap.amount == 30000
    assert "ASF would fit but for its geography (its geography does not cover Calderdale)" in gap.detail
    assert len(pm.flags) == 1


def test_a_pot_that_would_fit_but_for_its_timing(tmp_path):
    # OLD funds everyone everywhere but ends 31 March 2025; need is in 2025-26: 5 people.
    # It fails timing alone → reason timing, amount = 5 × £1,000 = £5,000.
    folder = write_case(
        tmp_path / "timing",
        areas=[area("A1", "Alpha")],
        cohorts=[cohort("C1", "Looking for work")],
        pots=[pot("OLD", 1000, start="2024-04-01", end="2025-03-31")],
        budgets=[budget("OLD", "2024-25", 50000)],
        need_rows=[need("A1", "C1", "2025-26", 5)],
        provision_rows=[provision("OLD", "A1", "C1", "2024-25", 1000, "Old provider")],
    )
    pm = provision_map(load_case(folder))
    gap = only(pm.flags, kind="gap")
    assert (gap.reason, gap.pot_code, gap.year, gap.people, gap.amount) == ("timing", "OLD", "2025-26", 5, 5000)
    assert "2025-26 is outside its life, 2024-04-01 to 2025-03-31" in gap.detail
    # Provision in 2024-25 where no need is evidenced: 1 person, all beyond need.
    dup = only(pm.flags, kind="duplication")
    assert (dup.pot_code, dup.year, dup.people, dup.amount) == ("OLD", "2024-25", 1, 1000)
    assert "where no need is evidenced" in dup.detail


def test_a_funding_gap_names_the_eligible_pots_and_their_uncommitted_money(tmp_path):
    # A1/C1/2025-26: need 30.
    #   P1 £4,000 at £500 = 8 people; P2 £1,000 at £800 (rates override of £1,000) = 1.25 people.
    #   Provision 9.25 people → gap 20.75 people; cheapest eligible unit cost £500 (P1)
    #   → amount 20.75 × £500 = £10,375.
    #   P1 also funds A1/C2 (£5,000 = 10 people, need 10, met): committed £9,000 of £10,000 → £1,000 left.
    #   P2 committed £1,000 of £5,000 → £4,000 left.
    #   The gap sits next to uncommitted eligible money: reason "uncommitted", naming the pot
    #   with the most of it (P2's £4,000 > P1's £1,000).
    folder = write_case(
        tmp_path / "funding",
        areas=[area("A1", "Alpha")],
        cohorts=[cohort("C1", "Looking for work"), cohort("C2", "Self-able", 4)],
        pots=[pot("P1", 500), pot("P2", 1000, cohorts="C1")],
        budgets=[budget("P1", "2025-26", 10000), budget("P2", "2025-26", 5000)],
        need_rows=[need("A1", "C1", "2025-26", 30), need("A1", "C2", "2025-26", 10)],
        provision_rows=[provision("P1", "A1", "C1", "2025-26", 4000, "Alpha Training"),
                        provision("P2", "A1", "C1", "2025-26", 1000, "Beta Works"),
                        provision("P1", "A1", "C2", "2025-26", 5000, "Alpha Training")],
        rates=[{"pot_code": "P2", "cohort_code": "C1", "unit_cost": 800, "outcome_rate": ""}],
    )
    pm = provision_map(load_case(folder))
    gap = only(pm.flags, kind="gap")
    assert (gap.reason, gap.pot_code, gap.cohort_code) == ("uncommitted", "P2", "C1")
    assert gap.people == pytest.approx(20.75)
    assert gap.amount == pytest.approx(10375)
    assert "P1 £1,000 of £10,000 uncommitted" in gap.detail
    assert "P2 £4,000 of £5,000 uncommitted" in gap.detail
    assert "closing it costs £10,375 at P1's £500 a head" in gap.detail
    assert len(pm.flags) == 1
    c1 = pm.coverage.iloc[0]
    assert c1["provision_people"] == pytest.approx(9.25)


def idle_case(tmp_path: Path, with_provision: bool = True) -> Path:
    """LOCAL funds A1/C1 only, with money in 2024-25 only (life to March 2027).

    Provision:
      LOCAL → A2 (Calderdale)/C2 2024-25 £3,000 (Gamma): breaks geography and cohort → idle
        reason geography, 3 people at £1,000.
      LOCAL → A1/C1 2025-26 £2,000 (Delta): no money available in 2025-26 → idle timing, 2 people.
      LOCAL → A1/C1 2024-25 £1,000 (Epsilon): eligible, 1 person against need 5.
    Need:
      A1/C1 2024-25: 5 → gap 4 people × £1,000 = £4,000 next to LOCAL's £9,000 that no eligible
        provision uses (£10,000 − £1,000) → reason uncommitted, pot LOCAL.
      A1/C1 2025-26: 2 → the idle money does not count; LOCAL fails timing alone → gap timing,
        2 people, £2,000.
      A2/C2 2024-25: 3 → no pot lists C2 → no_eligible_pot.
    """
    return write_case(
        tmp_path / ("idle" if with_provision else "idle-noprov"),
        areas=[area("A1", "Alpha"), area("A2", "Calderdale")],
        cohorts=[cohort("C1", "Looking for work"), cohort("C2", "Care leavers", 2)],
        pots=[pot("LOCAL", 1000, geography="A1", cohorts="C1", start="2024-04-01", end="2027-03-31")],
        budgets=[budget("LOCAL", "2024-25", 10000)],
        need_rows=[need("A1", "C1", "2024-25", 5), need("A1", "C1", "2025-26", 2), need("A2", "C2", "2024-25", 3)],
        provision_rows=[provision("LOCAL", "A2", "C2", "2024-25", 3000, "Gamma"),
                        provision("LOCAL", "A1", "C1", "2025-26", 2000, "Delta"),
                        provision("LOCAL", "A1", "C1", "2024-25", 1000, "Epsilon")] if with_provision else None,
    )


def test_provision_the_pot_may_not_fund_is_idle(tmp_path):
    pm = provision_map(load_case(idle_case(tmp_path)))
    idle = [f for f in pm.flags if f.kind == "idle"]
    assert [(f.reason, f.pot_code, f.area_code, f.cohort_code, f.year, f.people, f.amount) for f in idle] == [
        ("geography", "LOCAL", "A2", "C2", "2024-25", 3, 3000),
        ("timing", "LOCAL", "A1", "C1", "2025-26", 2, 2000),
    ]
    assert "(Gamma)" in idle[0].detail
    assert "geography: its geography does not cover Calderdale" in idle[0].detail
    assert "cohort: its cohorts do not include Care leavers" in idle[0].detail
    assert "(Delta)" in idle[1].detail and "no money available in 2025-26" in idle[1].detail

    gaps = {(f.cohort_code, f.year): f for f in pm.flags if f.kind == "gap"}
    assert (gaps[("C1", "2024-25")].reason, gaps[("C1", "2024-25")].pot_code,
            gaps[("C1", "2024-25")].people, gaps[("C1", "2024-25")].amount) == ("uncommitted", "LOCAL", 4, 4000)
    assert (gaps[("C1", "2025-26")].reason, gaps[("C1", "2025-26")].people,
            gaps[("C1", "2025-26")].amount) == ("timing", 2, 2000)
    assert gaps[("C2", "2024-25")].reason == "no_eligible_pot"
    assert [f.kind for f in pm.flags] == ["gap", "gap", "gap", "idle", "idle"]
    # Coverage counts only the eligible £1,000 (1 person) in A1/C1 2024-25, nothing in 2025-26.
    cov = pm.coverage.set_index(["area_code", "cohort_code", "year"])
    assert cov.loc[("A1", "C1", "2024-25"), "provision_people"] == 1
    assert cov.loc[("A1", "C1", "2025-26"), "provision_amount"] == 0


def test_without_provision_only_cells_no_pot_may_fund_are_flagged(tmp_path):
    folder = idle_case(tmp_path, with_provision=False)
    pm = provision_map(load_case(folder))
    assert not pm.provision_supplied and pm.note == PROVISION_NOT_SUPPLIED
    # No funding gap for A1/C1 2024-25 (provision is unknown), no duplication, no idle.
    assert [(f.kind, f.reason, f.cohort_code, f.year, f.people, f.amount) for f in pm.flags] == [
        ("gap", "timing", "C1", "2025-26", 2, 2000),
        ("gap", "no_eligible_pot", "C2", "2024-25", 3, None),
    ]
    assert pm.coverage[["provision_amount", "provision_people", "coverage"]].isna().all().all()

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["map", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert PROVISION_NOT_SUPPLIED in result.output
    summary = json.loads((out / "map.json").read_text(encoding="utf-8"))
    assert summary["provision_supplied"] is False
    assert summary["note"] == PROVISION_NOT_SUPPLIED
    with open(out / "coverage.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["provision_amount"] == r["provision_people"] == r["coverage"] == "" for r in rows)
    wb = openpyxl.load_workbook(out / "map.xlsx")
    assert wb["Flags"]["A1"].value == PROVISION_NOT_SUPPLIED
    assert PROVISION_NOT_SUPPLIED in wb["Coverage"]["A2"].value


def test_flags_csv_has_the_contract_columns_and_empty_cells(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["map", str(stacked_case(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out / "flags.csv", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == FLAG_COLUMNS
        rows = list(reader)
    dup, gap = rows
    assert dup["stage"] == "map" and dup["level"] == "" and dup["kind"] == "duplication" and dup["pot_code"] == ""
    assert float(dup["people"]) == 4 and float(dup["amount"]) == pytest.approx(2285.714286)
    assert gap["reason"] == "no_eligible_pot" and gap["amount"] == "" and float(gap["people"]) == 7
    for name in ("coverage.csv", "flags.csv", "map.json", "map.xlsx"):
        assert (out / name).is_file()
    assert "duplication: 1 cell, 4 people beyond need, £2,286" in result.output


def test_map_workbook_sheets_formats_and_text_that_stays_text(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["map", str(stacked_case(tmp_path, pot_name=HYPERLINK)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out / "map.xlsx")
    assert wb.sheetnames == ["Coverage", "By journey stage", "Eligibility", "Flags", "Coverage data", "Run record"]
    for name in ("Coverage", "By journey stage"):
        ws = wb[name]
        rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
        kinds = sorted(rules, key=lambda r: r.priority)
        assert [r.type for r in kinds] == ["expression", "colorScale"]
        assert kinds[0].stopIfTrue  # over-provision is styled apart and keeps out of the scale
        assert ws.freeze_panes == "C5"
    # The coverage cell of A1/C1 2025-26 is 140%, a number formatted as a percentage.
    cov = wb["Coverage"]
    found = [c for row in cov.iter_rows() for c in row if c.value == pytest.approx(1.4)]
    assert found and found[0].number_format == "0%"
    # A pot name that looks like a formula stays those exact characters, as a string.
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == HYPERLINK]
    assert cells and all(c.data_type == "s" for c in cells)
    flags = wb["Flags"]
    assert "Flags" in flags.tables
    table = flags.tables["Flags"]
    assert table.autoFilter is not None
    # The table's header row is in words (flags.csv keeps its columns), below the map's figures in words.
    head = next(r for r in range(1, 30) if flags.cell(row=r, column=1).value == "Stage")
    assert [flags.cell(row=head, column=j + 1).value for j in range(len(FLAG_COLUMNS))][:5] == [
        "Stage", "Level", "Kind", "Reason", "Pot code"]
    amount_col = FLAG_COLUMNS.index("amount") + 1
    assert flags.cell(row=head, column=amount_col).value == "Amount (£)"
    assert flags.cell(row=head + 1, column=amount_col).number_format == "£#,##0"
    assert flags.cell(row=head + 1, column=amount_col).value == pytest.approx(8000 * 4 / 14)
    assert any(str(flags.cell(row=r, column=1).value).startswith("duplication: 1 cell") for r in range(3, head))
    elig = wb["Eligibility"]
    ticks = sum(1 for row in elig.iter_rows() for c in row if c.value == "✓")
    assert ticks == 2 + 2  # P1 and P2 each fund C1 (not C2), and each covers A1


def test_map_refuses_the_case_folder_and_an_existing_out_without_force(tmp_path):
    folder = stacked_case(tmp_path)
    runner = CliRunner()
    inside = runner.invoke(main, ["map", str(folder), "--out", str(folder / "map")])
    assert inside.exit_code == 2 and "refusing" in inside.output
    assert not (folder / "map").exists()
    out = tmp_path / "out"
    assert runner.invoke(main, ["map", str(folder), "--out", str(out)]).exit_code == 0
    again = runner.invoke(main, ["map", str(folder), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    assert runner.invoke(main, ["map", str(folder), "--out", str(out), "--force"]).exit_code == 0


def test_flag_records_keep_the_vocabulary():
    with pytest.raises(ValueError):
        Flag(stage="map", kind="gap", reason="money")
    with pytest.raises(ValueError):
        Flag(stage="map", kind="surplus")
    with pytest.raises(ValueError):
        Flag(stage="optimise", kind="idle", reason="match")  # an optimise flag names its level
    frame = flags_frame([Flag(stage="optimise", level="aligned", kind="idle", reason="match", pot_code="P",
                              amount=10.0)])
    assert list(frame.columns) == FLAG_COLUMNS
    assert frame.loc[0, "people"] != frame.loc[0, "people"]  # NaN: does not apply
    assert frame.loc[0, "area_code"] is None


def test_the_example_map_shows_the_early_stage_pile_up_and_the_in_work_taper(tmp_path):
    out = tmp_path / "wy-map"
    result = CliRunner().invoke(main, ["map", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("coverage.csv", "flags.csv", "map.json", "map.xlsx"):
        assert (out / name).is_file()
    cov = pd.read_csv(out / "coverage.csv")
    by_stage = cov.groupby("journey_stage")[["provision_people", "need_people"]].sum()

    def coverage(stages):
        s = by_stage.loc[list(stages)].sum()
        return s["provision_people"] / s["need_people"]

    assert coverage([3, 4]) > coverage([5, 6])
    flags = pd.read_csv(out / "flags.csv")
    assert set(flags["stage"]) == {"map"}
    assert set(flags["kind"]) <= {"duplication", "gap", "idle"}
    summary = json.loads((out / "map.json").read_text(encoding="utf-8"))
    assert summary["provision_supplied"] is True
    assert summary["cells_with_need"] == len(cov)
    openpyxl.load_workbook(out / "map.xlsx")
