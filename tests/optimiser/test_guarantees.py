"""The README's Guarantees, each proved by a test.

* **Nothing half-written** — a run killed (SIGKILL) while it solves and while it writes
  the results workbook leaves the previous results byte for byte and no visible partial
  file; the hidden work folder a kill cannot clean up is swept by the next run; commands
  refuse to write into the case and to replace an output without ``--force``.
* **Inputs are data, never code** — formula-like text (``=``, ``+``, ``-``, ``@``) stays
  text in every workbook the project writes and is escaped in every CSV; YAML tags do
  not run code; ``.xlsm`` and macro-carrying workbooks are refused; a zip bomb is refused
  quickly and in little memory; a CSV that is a workbook and the reverse are named.
* **Deterministic** — the same case gives byte-identical CSV and JSON and workbooks with
  identical cells, with either solver.
* **Explained, not silent** — zero budgets, zero need, a single area, a pot with no
  eligible cell, 2,000 tiny pots, colliding rules: an answer or a diagnosis, never a
  traceback or a silent empty result.
* **Solver trouble is visible** — a time limit marks every summary as not proven
  optimal; a missing solver is exit 4 with how to install it.

The kill tests run the real command line in a subprocess on a pseudo-terminal (so that
its progress messages show) with ``COMMISSIONING_PAUSE`` holding it in the chosen phase.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from casefactory import tiny_rows, write_tiny_case
from commissioning.cli import main
from commissioning.writers.files import output_file, output_folder, sweep_leftovers
from commissioning.inputs.validate import load_case

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "west-yorkshire"
_SCRIPT = Path(sys.executable).with_name("commissioning")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "commissioning"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ---- helpers ---------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _slow_only_when_asked(request):
    """Tests marked ``slow`` run only when selected with ``-m slow``."""
    if request.node.get_closest_marker("slow") and "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def assert_no_traceback(result) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"exception escaped:\n{result.output}") from result.exception
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output


def tiny_case(folder: Path, **tables) -> Path:
    """The tiny case with its optional tables; the min_amount rule (infeasible by design:
    WORK's match money ends before 2026-27) left out so that it optimises."""
    rows = tiny_rows(optional=True)
    tables.setdefault("rules", rows["rules"][:1])
    return write_tiny_case(folder, optional=True, **tables)


def generated_case(folder: Path, areas: int, pots: int, cohorts: int, years: int, seed: int = 1) -> Path:
    """A random but valid case of the given size (every pot funds a few areas and cohorts)."""
    rnd = random.Random(seed)
    ys = [f"{2025 + i}-{(26 + i) % 100:02d}" for i in range(years)]
    A = [f"A{i:02d}" for i in range(areas)]
    C = [f"C{i:02d}" for i in range(cohorts)]
    return write_tiny_case(
        folder, case_yaml={"name": f"Generated {areas}x{pots}x{cohorts}x{years}"},
        areas=[{"area_code": a, "area_name": f"Area {a}", "population": 1000} for a in A],
        cohorts=[{"cohort_code": c, "cohort_name": f"Cohort {c}", "age_min": None, "age_max": None,
                  "journey_stage": 1 + i % 6, "outcome": "job entry", "outcome_rate": round(rnd.uniform(0.1, 0.6), 3),
                  "value_per_outcome": rnd.randint(1000, 9000)} for i, c in enumerate(C)],
        pots=[{"pot_code": f"P{i:03d}", "pot_name": f"Pot {i}", "department": "DWP",
               "geography": ";".join(sorted(rnd.sample(A, rnd.randint(min(2, areas), areas)))),
               "cohorts": ";".join(sorted(rnd.sample(C, rnd.randint(min(2, cohorts), cohorts)))),
               "start": "2025-04-01", "end": f"{2025 + years}-03-31", "unit_cost": rnd.randint(500, 5000),
               "carry_forward": rnd.randint(0, 2), "match_rate": 0, "can_match": "no",
               "poolable": "yes" if i % 2 else "no", "basis": "formula", "source": None} for i in range(pots)],
        budgets=[{"pot_code": f"P{i:03d}", "year": y, "amount": rnd.randint(1, 50) * 10000}
                 for i in range(pots) for y in ys],
        need=[{"area_code": a, "cohort_code": c, "year": y, "people": rnd.randint(0, 300), "source": None,
               "as_of": None} for a in A for c in C for y in ys],
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def visible(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def hidden(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith(".")}


def workbook_cells(path: Path) -> dict[str, list[tuple]]:
    """Every cell of a workbook as (coordinate, value, data type), sheet by sheet."""
    wb = openpyxl.load_workbook(path)
    try:
        return {ws.title: [(c.coordinate, c.value, c.data_type) for row in ws.iter_rows() for c in row
                           if c.value is not None] for ws in wb.worksheets}
    finally:
        wb.close()


_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def run_and_kill(args: list[str], phase: str, cwd: Path, timeout: float = 300) -> str:
    """Run the command line until it announces ``phase`` (held there by COMMISSIONING_PAUSE),
    then SIGKILL it and everything it started. Returns what it printed on its terminal."""
    master, slave = pty.openpty()
    env = dict(os.environ, COMMISSIONING_PAUSE=f"{phase}:600", COLUMNS="400", TERM="xterm")
    proc = subprocess.Popen(CLI + args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while phase.encode() not in _ANSI.sub(b"", seen).replace(b"\r", b"").replace(b"\n", b" "):
            if proc.poll() is not None:
                raise AssertionError(f"the run ended (exit {proc.returncode}) before '{phase}':\n{seen.decode(errors='replace')}")
            if time.monotonic() > deadline:
                raise AssertionError(f"'{phase}' not reached in {timeout} s:\n{seen.decode(errors='replace')}")
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    pass
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its solver, which share its new session
        proc.wait()
        os.close(master)
    assert proc.returncode == -signal.SIGKILL
    return seen.decode(errors="replace")


# ---- nothing half-written --------------------------------------------------------------------
@pytest.fixture
def finished_run(tmp_path):
    """A case and a finished optimise run of it in ``results``, with a snapshot of its bytes."""
    case = tiny_case(tmp_path / "case")
    result = subprocess.run(CLI + ["-q", "optimise", "case", "--out", "results"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    before = snapshot(tmp_path / "results")
    assert {"allocations.csv", "flags.csv", "asks.csv", "summary.json", "results.xlsx"} <= set(before)
    return tmp_path, case, before


@pytest.mark.parametrize("phase", ["solving the aligned model", "writing the results workbook"])
def test_a_killed_run_leaves_the_previous_results_intact(finished_run, phase):
    tmp, case, before = finished_run
    listing = visible(tmp)
    run_and_kill(["optimise", "case", "--out", "results", "--force"], phase, cwd=tmp)
    assert snapshot(tmp / "results") == before, "the previous results changed"
    assert visible(tmp) == listing, "a visible partial file or folder was left"
    leftovers = hidden(tmp)
    if phase == "solving the aligned model":
        assert not leftovers, "nothing is written before the solve ends"
    else:
        # A kill cannot clean up: the work folder stays, hidden and plainly named ...
        assert len(leftovers) == 1 and re.fullmatch(r"\.results\.partial-\d+-\w+", leftovers.pop())
    # ... until the next run that writes the same output sweeps it.
    result = subprocess.run(CLI + ["-q", "optimise", "case", "--out", "results", "--force"], cwd=tmp,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not hidden(tmp)
    assert snapshot(tmp / "results") == before  # and the same case gives the same files


@pytest.mark.slow
def test_killed_at_random_moments_never_leaves_a_partial_result(finished_run):
    """SIGKILL at random moments of a whole run: the results are the old ones or the new ones."""
    tmp, case, before = finished_run
    rnd = random.Random(7)
    t0 = time.monotonic()
    subprocess.run(CLI + ["-q", "optimise", "case", "--out", "results", "--force"], cwd=tmp, capture_output=True)
    duration = time.monotonic() - t0
    for _ in range(8):
        proc = subprocess.Popen(CLI + ["-q", "optimise", "case", "--out", "results", "--force"], cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rnd.uniform(0, duration * 1.1))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert snapshot(tmp / "results") == before  # the same case gives the same bytes: old or new alike
        assert visible(tmp) == {"case", "results"}


def test_a_failed_run_writes_nothing(tmp_path):
    """An infeasible case (exit 3) leaves no output folder and no hidden work folder."""
    write_tiny_case(tmp_path / "case", optional=True)  # its min_amount rule cannot be met
    result = invoke("optimise", tmp_path / "case", "--out", tmp_path / "results")
    assert result.exit_code == 3, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]


def test_the_sweep_removes_only_leftovers_of_finished_processes(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "results").mkdir()
    (tmp_path / f".results.partial-{dead.pid}-abc").mkdir()
    (tmp_path / f".results.partial-{dead.pid}-abc" / "allocations.csv").write_text("half")
    (tmp_path / f".results.partial-{os.getppid()}-live").mkdir()  # a run still going
    (tmp_path / ".results.partial-nopid").mkdir()  # not ours to judge
    (tmp_path / f".other.partial-{dead.pid}-abc").mkdir()  # another output's
    (tmp_path / f".book.xlsx.partial-{dead.pid}-x.xlsx").write_bytes(b"half")
    sweep_leftovers(tmp_path, "results")
    sweep_leftovers(tmp_path, "book.xlsx")
    assert hidden(tmp_path) == {f".results.partial-{os.getppid()}-live", ".results.partial-nopid",
                                f".other.partial-{dead.pid}-abc"}


def test_the_sweep_puts_back_results_killed_between_two_renames(tmp_path):
    """Where a folder cannot be swapped in one step, a kill between moving the old results
    aside and moving the new ones in would leave no results: the next run puts them back."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = tmp_path / f".results.old-{dead.pid}-abc"
    old.mkdir()
    (old / "summary.json").write_text("{}")
    sweep_leftovers(tmp_path, "results")
    assert (tmp_path / "results" / "summary.json").read_text() == "{}"
    assert not hidden(tmp_path)


def test_outputs_are_replaced_whole_and_readable_by_the_team(tmp_path):
    out = tmp_path / "out"
    with output_folder(out) as work:
        (work / "a.csv").write_text("1")
    with pytest.raises(RuntimeError):
        with output_folder(out, force=True) as work:
            (work / "a.csv").write_text("2")
            raise RuntimeError("a writer failed half-way")
    assert (out / "a.csv").read_text() == "1" and not hidden(tmp_path)
    with output_folder(out, force=True) as work:
        (work / "b.csv").write_text("3")
    assert sorted(p.name for p in out.iterdir()) == ["b.csv"] and not hidden(tmp_path)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask  # not the private mode of a temporary folder
    with output_file(tmp_path / "x.xlsx") as tmp:
        tmp.write_bytes(b"x")
    assert (tmp_path / "x.xlsx").stat().st_mode & 0o777 == 0o666 & ~mask


# ---- refusals ----------------------------------------------------------------------------------
def _out_commands(case: Path, out: Path, tmp: Path) -> dict[str, list]:
    """Every command that writes an output folder, with the arguments it needs."""
    sc = tmp / "sc.yaml"
    sc.write_text("name: same\n")
    commands = {
        "map": ["map", case, "--out", out],
        "optimise": ["optimise", case, "--out", out],
    }
    if "agree" in main.commands:
        commands["agree"] = ["agree", case, "--out", out]
    if "compare" in main.commands:
        commands["compare"] = ["compare", case, sc, "--out", out, "--workers", "1"]
    if "sensitivity" in main.commands:
        commands["sensitivity"] = ["sensitivity", case, "--draws", "1", "--out", out]
    return commands


@pytest.mark.parametrize("command", ["map", "optimise", "agree", "compare", "sensitivity"])
def test_commands_refuse_to_write_into_the_case(tmp_path, command):
    case = tiny_case(tmp_path / "case")
    before = snapshot(case)
    for out in (case / "results", case, case / "sub" / "deeper"):
        args = _out_commands(case, out, tmp_path)[command]
        result = invoke(*args)
        assert_no_traceback(result)
        assert result.exit_code == 2, result.output
        assert "refusing" in result.stderr and str(case) in result.stderr
        assert snapshot(case) == before and not hidden(case)


@pytest.mark.parametrize("command", ["map", "optimise", "agree", "compare", "sensitivity"])
def test_commands_refuse_to_replace_an_output_without_force(tmp_path, command):
    case = tiny_case(tmp_path / "case")
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = _out_commands(case, out, tmp_path)[command]
    result = invoke(*args)
    assert_no_traceback(result)
    assert result.exit_code == 2 and "--force" in result.stderr, result.output
    assert (out / "keep.txt").read_text() == "mine"
    # Nor may --force replace a folder that holds the case.
    result = invoke(*_out_commands(case, tmp_path, tmp_path)[command], "--force")
    assert result.exit_code == 2 and "contains the input" in result.stderr, result.output
    assert (case / "pots.csv").exists()
    # With --force the output is replaced as a whole.
    result = invoke(*args, "--force")
    assert result.exit_code == 0, result.output
    assert not (out / "keep.txt").exists()


def test_file_commands_refuse_to_replace_without_force(tmp_path):
    case = tiny_case(tmp_path / "case")
    for args in (["convert", case, tmp_path / "c.xlsx"], ["template", tmp_path / "t.xlsx"]):
        target = Path(args[-1])
        target.write_bytes(b"mine")
        result = invoke(*args)
        assert result.exit_code == 2 and "--force" in result.stderr, result.output
        assert target.read_bytes() == b"mine"
        assert invoke(*args, "--force").exit_code == 0
        assert zipfile.is_zipfile(target) and not hidden(tmp_path)
    result = invoke("convert", case, case / "case.xlsx")
    assert result.exit_code == 2 and not (case / "case.xlsx").exists(), result.output


# ---- inputs are data, never code -----------------------------------------------------------------
# Hostile text in every kind of field, and codes that a spreadsheet would run.
POT = "=SKILLS"
AREA = "+NORTH"
YOUNG = "@YOUNG"
OLDER = "-OLDER"
HOSTILE_TEXT = {
    "pot_name": '=HYPERLINK("http://x","y")',
    "cohort_young": "+cohort of young people",
    "cohort_older": "@cohort of older people",
    "provider": "=cmd|' /C calc'!A0",
    "area_name": "-2+3",
    "department": '=WEBSERVICE("http://x")',
    "source": "@SUM(A1:A9)",
    "note": "=1+1",
    "outcome": "+job entry",
    "footprint": "=FOOTPRINT()",
    "case_name": "=evil()",
}
HOSTILE = set(HOSTILE_TEXT.values()) | {POT, AREA, YOUNG, OLDER}


def hostile_case(folder: Path) -> Path:
    rows = tiny_rows(optional=True)
    codes = {"SKILLS": POT, "A1": AREA, "YOUNG": YOUNG, "OLDER": OLDER}

    def recode(v):
        if isinstance(v, str):
            return ";".join(codes.get(x, x) for x in v.split(";"))
        return v

    for table in rows.values():
        for row in table:
            for k, v in row.items():
                if k.endswith("_code") or k in ("geography", "cohorts"):
                    row[k] = recode(v)
    rows["pots"][0]["pot_name"] = HOSTILE_TEXT["pot_name"]
    rows["pots"][1]["department"] = HOSTILE_TEXT["department"]
    rows["pots"][0]["source"] = HOSTILE_TEXT["source"]
    rows["cohorts"][0]["cohort_name"] = HOSTILE_TEXT["cohort_young"]
    rows["cohorts"][1]["cohort_name"] = HOSTILE_TEXT["cohort_older"]
    rows["cohorts"][0]["outcome"] = HOSTILE_TEXT["outcome"]
    rows["areas"][0]["area_name"] = HOSTILE_TEXT["area_name"]
    rows["provision"][0]["provider"] = HOSTILE_TEXT["provider"]
    for r in rows["footprints"]:
        r["footprint_name"] = HOSTILE_TEXT["footprint"]
    rows["rules"] = rows["rules"][:1]
    rows["rules"][0]["note"] = HOSTILE_TEXT["note"]
    for r in rows["need"]:
        r["source"] = HOSTILE_TEXT["source"]
    return write_tiny_case(folder, case_yaml={"name": HOSTILE_TEXT["case_name"]}, **rows)


def assert_workbook_inert(path: Path) -> set[str]:
    """No input text is a formula or link; return the hostile strings found as text cells."""
    wb = openpyxl.load_workbook(path)
    found: set[str] = set()
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    v = c.value
                    assert c.hyperlink is None, f"{path.name} {ws.title}!{c.coordinate} is a link"
                    if c.data_type == "f":
                        text = str(getattr(v, "text", v))
                        for h in HOSTILE:
                            assert h not in text, f"{path.name} {ws.title}!{c.coordinate}: input in a formula {text!r}"
                    elif isinstance(v, str):
                        assert c.data_type == "s", f"{path.name} {ws.title}!{c.coordinate} {v!r} is {c.data_type}"
                        if v in HOSTILE or any(h in v for h in HOSTILE):
                            found.add(v)
    finally:
        wb.close()
    return found


def assert_csv_escaped(path: Path) -> set[str]:
    """Every field a spreadsheet would run starts with an apostrophe, unless it is a number."""
    found = set()
    with open(path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh)):
            for field in row:
                if field.startswith(FORMULA_START):
                    try:
                        float(field)
                    except ValueError:
                        raise AssertionError(f"{path.name} line {i + 1}: {field!r} is not escaped") from None
                if field.startswith("'") and field[1:] in HOSTILE:
                    found.add(field[1:])
    return found


def test_formula_like_text_is_inert_in_every_output(tmp_path):
    case = hostile_case(tmp_path / "case")
    assert invoke("validate", case).exit_code == 0
    workbooks: dict[str, Path] = {}
    csvs: list[Path] = []

    def ok(*args):
        result = invoke(*args)
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        return result

    ok("map", case, "--out", tmp_path / "map")
    workbooks["map.xlsx"] = tmp_path / "map" / "map.xlsx"
    ok("optimise", case, "--out", tmp_path / "run")
    workbooks["results.xlsx"] = tmp_path / "run" / "results.xlsx"
    ok("convert", case, tmp_path / "case.xlsx")
    workbooks["case.xlsx"] = tmp_path / "case.xlsx"
    ok("template", tmp_path / "template.xlsx")
    workbooks["template.xlsx"] = tmp_path / "template.xlsx"
    if "agree" in main.commands:
        ok("agree", case, "--out", tmp_path / "agreement")
        workbooks["agreement.xlsx"] = tmp_path / "agreement" / "agreement.xlsx"
    if "compare" in main.commands:
        (tmp_path / "s1.yaml").write_text("name: '=scenario()'\n")
        (tmp_path / "s2.yaml").write_text(f"name: '+more'\nbudgets:\n  '{POT}': {{multiply: 1.5}}\n")
        ok("compare", case, tmp_path / "s1.yaml", tmp_path / "s2.yaml", "--out", tmp_path / "compare",
           "--workers", "1")
        workbooks["comparison.xlsx"] = tmp_path / "compare" / "comparison.xlsx"
    if "sensitivity" in main.commands:
        ok("sensitivity", case, "--draws", "2", "--out", tmp_path / "sensitivity")

    # Every workbook: input text is text, never a formula or a link.
    for name, path in workbooks.items():
        assert path.exists(), name
        found = assert_workbook_inert(path)
        if name != "template.xlsx":
            assert found, f"{name} shows none of the case's text: the test proves nothing there"
    assert {POT, AREA, HOSTILE_TEXT["pot_name"], HOSTILE_TEXT["provider"]} <= assert_workbook_inert(workbooks["case.xlsx"])
    assert POT in assert_workbook_inert(workbooks["results.xlsx"])

    # Every CSV written: formula-like text carries an apostrophe.
    for folder in ("map", "run", "agreement", "compare", "sensitivity"):
        csvs += sorted((tmp_path / folder).glob("*.csv")) if (tmp_path / folder).exists() else []
    found = set()
    for path in csvs:
        found |= assert_csv_escaped(path)
    assert POT in found and AREA in found

    # The converted case reads back exactly: the reader takes the apostrophes off again.
    ok("convert", tmp_path / "case.xlsx", tmp_path / "back")
    assert "'" + POT in (tmp_path / "back" / "pots.csv").read_text(encoding="utf-8")
    original, back = load_case(case), load_case(tmp_path / "back")
    # The files differ (that is the point), so where the case came from does too.
    assert back.model_dump(exclude={"rules", "sources"}) == original.model_dump(exclude={"rules", "sources"})
    assert back.pots[0].name == HOSTILE_TEXT["pot_name"] and back.provision[0].provider == HOSTILE_TEXT["provider"]


def test_formulas_in_an_input_workbook_are_never_evaluated(tmp_path):
    """A formula cell is read as the value the spreadsheet saved with it, or as empty."""
    import xlsxwriter

    case = load_case(tiny_case(tmp_path / "folder"))
    from commissioning.writers.casewriter import write_case

    write_case(case, tmp_path / "case.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "case.xlsx")
    ws = wb["budgets"]
    ws["C2"] = "=100000*2"  # openpyxl saves no cached value: the reader must not compute 200000
    wb.save(tmp_path / "formula.xlsx")
    result = invoke("validate", tmp_path / "formula.xlsx")
    assert result.exit_code == 2
    assert "sheet 'budgets', row 2, column 'amount': an empty cell" in result.stderr

    book = xlsxwriter.Workbook(tmp_path / "cached.xlsx")
    sheets = {name: book.add_worksheet(name) for name in ("areas", "cohorts", "pots", "budgets", "need")}
    wb = openpyxl.load_workbook(tmp_path / "case.xlsx")
    for name, out in sheets.items():
        for r, row in enumerate(wb[name].iter_rows(values_only=True)):
            for c, v in enumerate(row):
                if isinstance(v, str) or hasattr(v, "isoformat"):
                    out.write_string(r, c, v if isinstance(v, str) else v.date().isoformat())
                elif v is not None:
                    out.write_number(r, c, v)
    sheets["budgets"].write_formula(1, 2, "=1+1", None, 100000)  # a cached value unlike the formula's
    book.close()
    from commissioning.inputs.validate import validate_path

    v = validate_path(tmp_path / "cached.xlsx")
    assert v.ok, v.errors
    assert v.case.budgets[0].amount == 100000


def test_yaml_tags_never_run_code(tmp_path):
    marker = tmp_path / "pwned"
    case = tiny_case(tmp_path / "case")
    payloads = [
        f"name: !!python/object/apply:os.system ['touch {marker}']\n",
        f"!!python/object/apply:subprocess.check_call [['touch', '{marker}']]\n",
        "name: !!python/name:os.system\n",
        "name: !!python/object/new:type ['x', [], {}]\n",
    ]
    for text in payloads:
        (case / "case.yaml").write_text(text)
        result = invoke("validate", case)
        assert_no_traceback(result)
        assert result.exit_code == 2 and "case.yaml" in result.stderr, result.output
        (tmp_path / "sc.yaml").write_text(text.replace("name:", "name: x\ndescription:", 1))
        (case / "case.yaml").write_text("name: fine\n")
        result = invoke("validate", case, "--scenario", tmp_path / "sc.yaml")
        assert_no_traceback(result)
        assert result.exit_code == 2 and "sc.yaml" in result.stderr, result.output
    assert not marker.exists()


@pytest.mark.parametrize("text", ["a: &a [*a]\nname: *a\n", "a: &a {b: *a}\nobjective: *a\n"])
def test_recursive_yaml_aliases_are_refused(tmp_path, text):
    case = tiny_case(tmp_path / "case")
    (case / "case.yaml").write_text(text)
    result = invoke("validate", case)
    assert_no_traceback(result)
    assert result.exit_code == 2 and "case.yaml: uses YAML aliases" in result.stderr, result.output


def test_billion_laughs_is_refused_quickly(tmp_path):
    case = tiny_case(tmp_path / "case")
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    lines.append("name: *j")
    (case / "case.yaml").write_text("\n".join(lines) + "\n")
    result = invoke("validate", case)
    assert_no_traceback(result)
    assert result.exit_code == 2 and "case.yaml: uses YAML aliases" in result.stderr, result.output


def test_macro_workbooks_are_refused(tmp_path):
    case = load_case(tiny_case(tmp_path / "folder"))
    from commissioning.writers.casewriter import write_case

    write_case(case, tmp_path / "case.xlsx")
    shutil.copy(tmp_path / "case.xlsx", tmp_path / "case.xlsm")
    result = invoke("validate", tmp_path / "case.xlsm")
    assert result.exit_code == 2 and "case.xlsm: a macro-enabled workbook (.xlsm) is refused" in result.stderr
    # Macros smuggled into a file named .xlsx.
    with zipfile.ZipFile(tmp_path / "case.xlsx", "a") as z:
        z.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 60)
    result = invoke("validate", tmp_path / "case.xlsx")
    assert result.exit_code == 2 and "case.xlsx: contains macros" in result.stderr, result.output


_SKELETON = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
        '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
        'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets><sheet name="need" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}


def zip_bomb(path: Path, megabytes: int, dimension: str | None = None, level: int = 1) -> Path:
    """A workbook whose one sheet unpacks to ``megabytes`` of cells, written as a stream
    (the test never holds more than a megabyte of it)."""
    row = b"".join(b"<c><v>0</v></c>" for _ in range(16384))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, text in _SKELETON.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                     b'2006/main">')
            if dimension:
                fh.write(f'<dimension ref="{dimension}"/>'.encode())
            fh.write(b"<sheetData>")
            written, r = 0, 0
            while written < megabytes * 2**20:
                r += 1
                fh.write(b'<row r="%d">' % r + row + b"</row>")
                written += len(row)
            fh.write(b"</sheetData></worksheet>")
    return path


def _cli_memory(args: list[str]) -> tuple[int, str, float, int]:
    """Exit code, stderr, seconds and peak memory (kB) of one command-line run."""
    probe = ("import resource, subprocess, sys, time; t = time.monotonic(); "
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(r.returncode, time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "print(r.stderr, end='')")
    out = subprocess.run([sys.executable, "-c", probe, *CLI, *args], capture_output=True, text=True).stdout
    head, _, stderr = out.partition("\n")
    code, seconds, rss = head.split()
    return int(code), stderr, float(seconds), int(rss)


@pytest.mark.parametrize("kind", ["huge", "dense", "declared"])
def test_zip_bombs_are_refused_before_they_are_opened(tmp_path, kind):
    """500 MB of cells in 3 MB; 380 MB of 26 million cells with no dimension (under the
    size and ratio limits); a sheet that declares 17 billion cells."""
    path = tmp_path / "bomb.xlsx"
    if kind == "huge":
        zip_bomb(path, 500)
        expected = "would unpack to"
    elif kind == "dense":
        zip_bomb(path, 380)
        expected = "cells"
    else:
        zip_bomb(path, 1, dimension="A1:XFD1048576")
        expected = "declares 17,179,869,184 cells"
    assert path.stat().st_size < 4 * 2**20
    code, stderr, seconds, rss_kb = _cli_memory(["validate", str(path)])
    assert code == 2 and "bomb.xlsx: " in stderr and expected in stderr, stderr
    assert rss_kb < 400 * 1024, f"peak memory {rss_kb / 1024:.0f} MB"


def test_a_csv_that_is_a_workbook_and_a_workbook_that_is_csv(tmp_path):
    case = tiny_case(tmp_path / "case")
    from commissioning.writers.casewriter import write_case

    write_case(load_case(case), tmp_path / "case.xlsx")
    shutil.copy(tmp_path / "case.xlsx", case / "pots.csv")
    result = invoke("validate", case)
    assert result.exit_code == 2
    assert "pots.csv: is an Excel workbook (or another zip file) named .csv" in result.stderr
    (tmp_path / "text.xlsx").write_text((EXAMPLE / "pots.csv").read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke("validate", tmp_path / "text.xlsx")
    assert result.exit_code == 2 and "text.xlsx: is a CSV or text file named .xlsx" in result.stderr


@pytest.mark.parametrize("form", ["folder", "workbook"])
def test_bad_cells_name_their_place_in_both_forms(tmp_path, form):
    rows = tiny_rows()
    rows["budgets"][1]["amount"] = "#REF!"
    rows["pots"][2]["unit_cost"] = "=A1*2"
    rows["need"][3]["people"] = "lots"
    case = write_tiny_case(tmp_path / "case", **rows)
    target = case
    if form == "workbook":
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for name in ("areas", "cohorts", "pots", "budgets", "need"):
            ws = wb.create_sheet(name)
            for line in csv.reader(io.StringIO((case / f"{name}.csv").read_text(encoding="utf-8"))):
                ws.append([float(x) if re.fullmatch(r"-?\d+(\.\d+)?", x) else (x or None) for x in line])
        wb["pots"]["H4"] = "=A1*2"  # a real formula, with no saved value
        wb["budgets"]["C3"].value = "#REF!"
        target = tmp_path / "case.xlsx"
        wb.save(target)
    result = invoke("validate", target)
    assert_no_traceback(result)
    assert result.exit_code == 2
    where = {"folder": ("pots.csv", "budgets.csv", "need.csv"),
             "workbook": ("sheet 'pots'", "sheet 'budgets'", "sheet 'need'")}[form]
    assert f"{where[0]}, row 4, column 'unit_cost'" in result.stderr
    assert f"{where[1]}, row 3, column 'amount': the spreadsheet error value #REF!" in result.stderr
    assert f"{where[2]}, row 5, column 'people': 'lots' is not a number" in result.stderr


# ---- deterministic ----------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_repeated_runs_are_identical(tmp_path, solver):
    case = generated_case(tmp_path / "case", areas=4, pots=8, cohorts=5, years=3)
    outs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        result = invoke("optimise", case, "--out", out, "--solver", solver)
        assert result.exit_code == 0, result.output
        outs.append(out)
    for name in ("allocations.csv", "flags.csv", "asks.csv", "summary.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert workbook_cells(outs[0] / "results.xlsx") == workbook_cells(outs[1] / "results.xlsx")
    assert json.loads((outs[0] / "summary.json").read_text())["status"] == "optimal"


def test_repeated_maps_and_conversions_are_identical(tmp_path):
    case = tiny_case(tmp_path / "case")
    for i in range(2):
        assert invoke("map", case, "--out", tmp_path / f"map{i}").exit_code == 0
        assert invoke("convert", case, tmp_path / f"case{i}.xlsx").exit_code == 0
    for name in ("coverage.csv", "flags.csv", "map.json"):
        assert (tmp_path / "map0" / name).read_bytes() == (tmp_path / "map1" / name).read_bytes(), name
    assert workbook_cells(tmp_path / "map0" / "map.xlsx") == workbook_cells(tmp_path / "map1" / "map.xlsx")
    assert workbook_cells(tmp_path / "case0.xlsx") == workbook_cells(tmp_path / "case1.xlsx")


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_the_example_runs_identically(tmp_path, solver):
    for i in range(2):
        result = invoke("optimise", EXAMPLE, "--out", tmp_path / f"run{i}", "--solver", solver)
        assert result.exit_code == 0, result.output
    for name in ("allocations.csv", "flags.csv", "asks.csv", "summary.json"):
        assert (tmp_path / "run0" / name).read_bytes() == (tmp_path / "run1" / name).read_bytes(), name
    assert workbook_cells(tmp_path / "run0" / "results.xlsx") == workbook_cells(tmp_path / "run1" / "results.xlsx")


# ---- explained, not silent ------------------------------------------------------------------------------
def _optimise(case: Path, out: Path, *extra: str):
    result = invoke("optimise", case, "--out", out, *extra)
    assert_no_traceback(result)
    return result


def _flags(out: Path) -> list[dict]:
    with open(out / "flags.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_zero_budgets_are_explained(tmp_path, solver):
    rows = tiny_rows()
    case = write_tiny_case(tmp_path / "case", budgets=[dict(b, amount=0) for b in rows["budgets"]])
    result = _optimise(case, tmp_path / "out", "--solver", solver)
    assert result.exit_code == 0, result.output
    assert "pots.csv, row 2, column 'pot_code': pot SKILLS can fund nothing" in result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["budget"] == 0 and summary["levels"]["aligned"]["allocated"] == 0
    gaps = [f for f in _flags(tmp_path / "out") if f["kind"] == "gap" and f["stage"] == "optimise"]
    assert sum(float(f["people"]) for f in gaps if f["level"] == "aligned") == 310  # all need unmet, each with a reason
    assert all(f["reason"] for f in gaps)


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_zero_need_is_explained(tmp_path, solver):
    rows = tiny_rows()
    case = write_tiny_case(tmp_path / "case", need=[dict(n, people=0) for n in rows["need"]])
    result = _optimise(case, tmp_path / "out", "--solver", solver)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["levels"]["aligned"]["allocated"] == 0 and summary["levels"]["aligned"]["idle_amount"] == 332345.25
    idle = [f for f in _flags(tmp_path / "out") if f["kind"] == "idle" and f["level"] == "aligned"]
    assert sum(float(f["amount"]) for f in idle) == pytest.approx(332345.25)
    assert all(f["reason"] and f["detail"] for f in idle)


def test_a_single_area(tmp_path):
    rows = tiny_rows()
    case = write_tiny_case(
        tmp_path / "case", areas=rows["areas"][:1],
        pots=[dict(p, geography="A1") for p in rows["pots"]],
        need=[n for n in rows["need"] if n["area_code"] == "A1"])
    result = _optimise(case, tmp_path / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["levels"]["aligned"]["outcomes"] > 0 and summary["status"] == "optimal"


def test_a_pot_with_no_eligible_cell(tmp_path):
    rows = tiny_rows()
    rows["pots"][1]["cohorts"] = "YOUNG"  # WORK funds only A2 ... and now only YOUNG, whose need ...
    rows["need"] = [n for n in rows["need"] if not (n["area_code"] == "A2" and n["cohort_code"] == "YOUNG")]
    case = write_tiny_case(tmp_path / "case", **rows)
    result = _optimise(case, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "pots.csv, row 3, column 'pot_code': pot WORK can fund nothing with need" in result.stderr
    idle = [f for f in _flags(tmp_path / "out") if f["kind"] == "idle" and f["pot_code"] == "WORK"
            and f["level"] == "aligned"]
    assert sum(float(f["amount"]) for f in idle) == 100000 and {f["reason"] for f in idle} == {"eligibility"}


def _many_tiny_pots(folder: Path, n: int) -> tuple[Path, float]:
    rows = tiny_rows()
    pots, budgets = [], []
    for i in range(n):
        code = f"T{i:04d}"
        pots.append(dict(rows["pots"][0], pot_code=code, pot_name=f"Tiny pot {i}",
                         geography="A1" if i % 2 else "A2", cohorts="YOUNG" if i % 3 else "OLDER",
                         poolable="yes" if i % 5 == 0 else "no", unit_cost=100 + i % 7))
        budgets.append({"pot_code": code, "year": "2025-26" if i % 4 else "2026-27", "amount": 10 + i % 13})
    return write_tiny_case(folder, pots=pots, budgets=budgets), float(sum(b["amount"] for b in budgets))


@pytest.mark.parametrize("n", [300, pytest.param(2000, marks=pytest.mark.slow)])
def test_thousands_of_tiny_pots(tmp_path, n):
    """Many pots of £10-£22 each: an answer, with every pound allocated or explained idle."""
    case, money = _many_tiny_pots(tmp_path / "case", n)
    result = _optimise(case, tmp_path / "out", "--solver", "highs")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["case"]["pots"] == n and summary["budget"] == money
    aligned = summary["levels"]["aligned"]
    assert aligned["allocated"] > 0 and aligned["allocated"] + aligned["idle_amount"] == pytest.approx(money)
    idle = [f for f in _flags(tmp_path / "out") if f["kind"] == "idle" and f["level"] == "aligned"]
    assert sum(float(f["amount"]) for f in idle) == pytest.approx(aligned["idle_amount"], abs=0.01 * n)


@pytest.mark.parametrize("years", [10**9, 10**300])
def test_an_absurd_carry_forward_is_refused_not_run(tmp_path, years):
    """Money is followed year by year through the carry-forward window: a typo of a
    billion years must be an error naming the cell, not hours of work."""
    rows = tiny_rows()
    rows["pots"][0]["carry_forward"] = years
    case = write_tiny_case(tmp_path / "case", **rows)
    result = invoke("validate", case)
    assert result.exit_code == 2, result.output
    assert "pots.csv, row 2, column 'carry_forward'" in result.stderr
    (tmp_path / "sc.yaml").write_text(f"name: s\neligibility:\n  WORK: {{carry_forward: {years}}}\n")
    result = invoke("validate", write_tiny_case(tmp_path / "ok"), "--scenario", tmp_path / "sc.yaml")
    assert result.exit_code == 2 and "sc.yaml, line 3, key 'eligibility.WORK.carry_forward'" in result.stderr


def test_colliding_rules_are_named(tmp_path):
    # Two floors on SKILLS' £100,000 in 2025-26: £70,000 on YOUNG and £70,000 on OLDER = £140,000.
    # (Two minimum *shares* of 70% would only stop SKILLS spending: a share is of what it spends.)
    rules = [
        {"rule": "min_amount", "pot_code": "SKILLS", "area_code": "ALL", "cohort_code": "YOUNG", "year": "2025-26",
         "value": 70000, "note": "youth first"},
        {"rule": "min_amount", "pot_code": "SKILLS", "area_code": "ALL", "cohort_code": "OLDER", "year": "2025-26",
         "value": 70000, "note": "adults first"},
    ]
    case = write_tiny_case(tmp_path / "case", optional=True, rules=rules)
    result = _optimise(case, tmp_path / "out")
    assert result.exit_code == 3, result.output
    assert "infeasible" in result.stderr and "youth first" in result.stderr and "adults first" in result.stderr
    assert not (tmp_path / "out").exists() and not hidden(tmp_path)


def test_a_rule_with_nothing_in_scope_is_named(tmp_path):
    # WORK funds A2 only: a rule naming WORK in A1 can never apply, an error at its row and column.
    rules = [{"rule": "min_amount", "pot_code": "WORK", "area_code": "A1", "cohort_code": "ALL", "year": "ALL",
              "value": 1000, "note": "north must get WORK money"}]
    case = write_tiny_case(tmp_path / "case", rules=rules)
    result = _optimise(case, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "rules.csv, row 2, column 'area_code': pot WORK can never fund area A1" in result.stderr
    assert not (tmp_path / "out").exists() and not hidden(tmp_path)


# ---- solver trouble is visible ------------------------------------------------------------------------------
def test_a_time_limit_is_marked_not_proven_optimal(tmp_path, monkeypatch):
    """The marking itself, on a solver stopped at its limit whatever the machine's speed."""
    import optimiser.levels as levels

    real = levels.solve

    def stopped(*args, **kwargs):
        sol = real(*args, **kwargs)
        sol.status, sol.proven_optimal = "time_limit", False
        return sol

    monkeypatch.setattr(levels, "solve", stopped)
    case = tiny_case(tmp_path / "case")
    result = _optimise(case, tmp_path / "out", "--time-limit", "5")
    assert result.exit_code == 0, result.output
    assert "time_limit" in result.stdout and "NOT PROVEN OPTIMAL" in result.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "time_limit" and summary["proven_optimal"] is False
    assert "not proven optimal" in summary["note"]
    cells = [v for sheet in workbook_cells(tmp_path / "out" / "results.xlsx").values() for _, v, _ in sheet]
    assert any(isinstance(v, str) and v.startswith("time_limit") and "NOT PROVEN OPTIMAL" in v for v in cells)
    # Every CSV row says so too, so a figure copied out of the run keeps its caveat.
    for name in ("allocations.csv", "flags.csv", "asks.csv"):
        rows = list(csv.DictReader(open(tmp_path / "out" / name, encoding="utf-8")))
        assert all(r["status"] == "time_limit" for r in rows), name


@pytest.mark.parametrize("size", [(5, 10, 6, 3), pytest.param((10, 30, 12, 5), marks=pytest.mark.slow)],
                         ids=["5x10x6x3", "10x30x12x5"])
@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_an_impossible_time_limit_on_a_larger_case(tmp_path, solver, size):
    """0.001 s: either the best allocation found, marked, or — when the solver found none —
    solver trouble (exit 4) saying so; never a silent or unmarked answer."""
    case = generated_case(tmp_path / "case", *size)
    result = _optimise(case, tmp_path / "out", "--solver", solver, "--time-limit", "0.001")
    if result.exit_code == 4:
        assert "no allocation within the time limit" in result.stderr and "--time-limit" in result.stderr
        assert not (tmp_path / "out").exists()
        return
    assert result.exit_code == 0, result.output
    assert "NOT PROVEN OPTIMAL" in result.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "time_limit" and summary["proven_optimal"] is False and summary["note"]


def test_a_missing_cbc_is_solver_trouble_with_an_install_hint(tmp_path, monkeypatch):
    import pulp

    monkeypatch.setattr(pulp.PULP_CBC_CMD, "available", lambda self: False)
    case = tiny_case(tmp_path / "case")
    result = _optimise(case, tmp_path / "out", "--solver", "cbc")
    assert result.exit_code == 4, result.output
    assert "CBC" in result.stderr and "pip install" in result.stderr
    assert not (tmp_path / "out").exists()


def test_auto_is_highs_and_falls_back_to_cbc_without_highspy(monkeypatch):
    from optimiser.solve import choose_solver

    assert choose_solver("auto", 14)[0] == "highs" and choose_solver("auto", 500_000)[0] == "highs"
    monkeypatch.setitem(sys.modules, "highspy", None)  # import highspy now raises ImportError
    solver, why = choose_solver("auto", 14)
    assert solver == "cbc" and "pip install highspy" in why


def test_a_missing_highs_is_solver_trouble_with_an_install_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "highspy", None)  # import highspy now raises ImportError
    case = tiny_case(tmp_path / "case")
    result = _optimise(case, tmp_path / "out", "--solver", "highs")
    assert result.exit_code == 4, result.output
    assert "pip install highspy" in result.stderr
    assert not (tmp_path / "out").exists()
