"""The run record: deterministic, complete, and in summary.json.

By hand for the tiny agreement case (tests/agreementcase.py: the tiny case, every optional table): the files read are
the eight tables present plus case.yaml, in reading order; each digest is the SHA-256 of
the file's bytes, worked out here with hashlib. A scenario adds its own file last.
"""

from __future__ import annotations

import hashlib
import json

from click.testing import CliRunner

from agreementcase import write_agreement_case
from commissioning.cli import main


def optimise(case, out, *extra):
    res = CliRunner().invoke(main, ["optimise", str(case), "--out", str(out), "--force", *map(str, extra)])
    assert res.exit_code == 0, res.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))["run_record"]


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_runs_give_the_same_record(tmp_path):
    case = write_agreement_case(tmp_path / "case")
    first, second = optimise(case, tmp_path / "a"), optimise(case, tmp_path / "b")
    assert first == second


def test_the_record_names_every_input_with_its_digest(tmp_path):
    case = write_agreement_case(tmp_path / "case")
    rec = optimise(case, tmp_path / "out", "--solver", "highs")
    files = [f["file"] for f in rec["inputs"]]
    assert files[-1] == "case.yaml" and set(files) == {p.name for p in case.iterdir()}
    assert all(f["sha256"] == sha(case / f["file"]) for f in rec["inputs"])
    assert rec["solver"]["name"] == "highs" and rec["solver"]["options"]["random_seed"] == "0"
    assert rec["engine"]["name"] == "commissioning" and rec["software"]["packages"]["highspy"]
    assert rec["case"]["gss_vintage"] is None and rec["case"]["price_base"] is None  # not stated


def test_a_scenario_file_is_recorded_last(tmp_path):
    case = write_agreement_case(tmp_path / "case")
    scenario = tmp_path / "cut.yaml"
    scenario.write_text("name: cut\ndescription: a cut\nbudgets:\n  SKILLS: {multiply: 0.9}\n",
                        encoding="utf-8")
    rec = optimise(case, tmp_path / "out", "--scenario", scenario)
    assert rec["inputs"][-1] == {"file": "cut.yaml", "sha256": sha(scenario)}
    assert rec["case"]["scenario"] == "cut"


def test_a_changed_input_changes_its_digest_and_nothing_else(tmp_path):
    case = write_agreement_case(tmp_path / "case")
    before = optimise(case, tmp_path / "a")
    with (case / "areas.csv").open("a", encoding="utf-8") as f:
        f.write("\n")  # a trailing blank line: the same case, other bytes
    after = optimise(case, tmp_path / "b")
    changed = [a["file"] for a, b in zip(before["inputs"], after["inputs"]) if a != b]
    assert changed == ["areas.csv"]
    assert before["case"]["fingerprint"] == after["case"]["fingerprint"]


def test_every_workbook_ends_with_the_same_run_record(tmp_path):
    """Two runs of optimise and map: the Run record sheets, last in each workbook, are equal cell for cell."""
    import openpyxl

    case = write_agreement_case(tmp_path / "case")

    def sheet(book):
        wb = openpyxl.load_workbook(book)
        assert wb.sheetnames[-1] == "Run record"
        ws = wb["Run record"]
        return [[c.value for c in row] for row in ws.iter_rows()]

    books = []
    for name in ("a", "b"):
        optimise(case, tmp_path / name)
        res = CliRunner().invoke(main, ["map", str(case), "--out", str(tmp_path / f"map-{name}"), "--force"])
        assert res.exit_code == 0, res.output
        books.append((sheet(tmp_path / name / "results.xlsx"), sheet(tmp_path / f"map-{name}" / "map.xlsx")))
    assert books[0] == books[1]
    results, mapped = books[0]
    text = "\n".join(str(v) for row in results for v in row if v is not None)
    assert sha(case / "pots.csv") in text and "highspy" in text
    assert any(row[0] == "Solver" and row[1] == "none (no solve)" for row in mapped)
