"""The command line as people type it: ``--quiet`` and ``--debug`` before or after the command.

Every test runs the real CLI in a subprocess (``python -m commissioning`` with this Python),
so that what is checked is what a user's terminal receives: standard output holds only the
command's results (never a solver's banner or log), and with ``--quiet`` standard error
holds nothing at all.

The small runs use the tiny case of ``casefactory`` with one need cell no pot can reach,
so that every command that reads the case has a warning to print (or, quiet, not to).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from commands import start

from casefactory import tiny_rows, write_tiny_case
from commissioning.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "west-yorkshire"
COMMANDS = sorted(main.commands)
# What solvers print when they are let: none of it may reach standard output.
SOLVER_NOISE = ("Running HiGHS", "Copyright", "HiGHS run time", "Model status", "Welcome to the CBC", "Coin0",
                "Clp0", "Cbc0", "Presolving model")


def _finish(p: subprocess.Popen) -> subprocess.CompletedProcess:
    try:
        out, err = p.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def cli(*args) -> subprocess.CompletedProcess:
    """Run ``commissioning ARGS`` in a subprocess; its exit code, standard output and error."""
    return _finish(start(*args))


def cli_both(*runs) -> list[subprocess.CompletedProcess]:
    """Run several command lines at once (they must not write to the same place)."""
    return [_finish(p) for p in [start(*args) for args in runs]]


def assert_clean(r: subprocess.CompletedProcess, quiet: bool = True) -> None:
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    if quiet:
        assert r.stderr == "", r.stderr
    for noise in SOLVER_NOISE:
        assert noise not in r.stdout, f"solver output {noise!r} on standard output:\n{r.stdout}"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny case (with a warning), two scenarios, a results folder and an agreement workbook."""
    base = tmp_path_factory.mktemp("flags")
    t = tiny_rows()
    t["cohorts"].append(dict(t["cohorts"][1], cohort_code="CARERS", cohort_name="Carers returning to work"))
    t["need"].append({"area_code": "A1", "cohort_code": "CARERS", "year": "2026-27", "people": 5,
                      "source": "survey", "as_of": "2025-03-31"})
    case = write_tiny_case(base / "case", cohorts=t["cohorts"], need=t["need"])
    (base / "base.yaml").write_text("name: base\ndescription: Today's rules\n", encoding="utf-8")
    (base / "nopool.yaml").write_text("name: no-pool\ndescription: No pool\npool: none\n", encoding="utf-8")
    r = cli("--quiet", "optimise", case, "--out", base / "results", "--solver", "highs")
    assert r.returncode == 0, r.stderr
    r = cli("--quiet", "agree", case, "--out", base / "agreement", "--from", base / "results")
    assert r.returncode == 0, r.stderr
    return SimpleNamespace(case=case, base=base / "base.yaml", nopool=base / "nopool.yaml",
                           results=base / "results", workbook=base / "agreement" / "agreement.xlsx")


# Each command's arguments on the tiny case; ``out`` is a folder of the run's own.
ARGS = {
    "validate": lambda f, out: [f.case],
    "convert": lambda f, out: [f.case, out / "case.xlsx", "--force"],
    "template": lambda f, out: [out / "template.xlsx", "--force"],
    "map": lambda f, out: [f.case, "--out", out / "map", "--force"],
    "optimise": lambda f, out: [f.case, "--out", out / "results", "--solver", "highs", "--force"],
    "explain": lambda f, out: [f.results],
    "compare": lambda f, out: [f.case, f.base, f.nopool, "--out", out / "compare", "--solver", "highs", "--force"],
    "frontier": lambda f, out: [f.case, "--out", out / "frontier", "--steps", "2", "--solver", "highs", "--force"],
    "sensitivity": lambda f, out: [f.case, "--draws", "2", "--out", out / "sensitivity", "--solver", "highs",
                                   "--force"],
    "robust": lambda f, out: [f.case, "--draws", "3", "--test-draws", "3", "--out", out / "robust", "--solver",
                              "highs", "--force"],
    "agree": lambda f, out: [f.case, "--out", out / "agreement", "--from", f.results, "--force"],
    "check": lambda f, out: [f.workbook, "--case", f.case],
    "export": lambda f, out: [f.results, "--case", f.case, "--force"],
}


def test_every_command_is_exercised_here():
    assert set(ARGS) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_quiet_after_the_command_means_what_it_means_before(tiny, tmp_path, command):
    after_dir, before_dir = tmp_path / "after", tmp_path / "before"
    after_dir.mkdir()
    before_dir.mkdir()
    after, before = cli_both([command, *ARGS[command](tiny, after_dir), "--quiet"],
                             ["--quiet", command, *ARGS[command](tiny, before_dir)])
    assert_clean(after)
    assert_clean(before)
    assert after.stdout.strip(), "the results are still printed"
    assert after.stdout.replace(str(after_dir), "OUT") == before.stdout.replace(str(before_dir), "OUT")


def test_the_short_form_after_the_command(tiny):
    r = cli("validate", tiny.case, "-q")
    assert_clean(r)
    assert r.stdout.splitlines()[-1] == "Valid, with 1 warning(s)."


def test_warnings_go_to_standard_error_and_quiet_silences_them(tiny):
    loud, quiet = cli_both(["validate", tiny.case], ["validate", tiny.case, "--quiet"])
    assert_clean(loud, quiet=False)
    assert "1 warning:" in loud.stderr and "CARERS" in loud.stderr
    assert "CARERS" not in loud.stdout  # the warning itself is not a result
    assert_clean(quiet)
    assert quiet.stdout == loud.stdout


# ---- the example, through both solvers --------------------------------------------------------
def _results_only(r: subprocess.CompletedProcess, out: Path, solver: str) -> None:
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Case 'West Yorkshire (illustrative example)': optimal (solver "), lines[0]
    assert f"solver {solver}" in lines[0]
    assert lines[1].split() == ["level", "allocated", "participants", "outcomes", "value"]
    # the example has an integrated settlement from 2026-27: four levels
    assert [ln.split()[0] for ln in lines[2:6]] == ["baseline", "aligned", "settlement", "pooled"]
    assert lines[6].lstrip().startswith("alignment dividend:")
    assert lines[7].lstrip().startswith("settlement dividend (settlement - aligned):")
    assert lines[-1] == f"Wrote {out}"


def test_example_with_highs_quiet_in_either_position(tmp_path):
    after, before = cli_both(
        ["optimise", EXAMPLE, "--out", tmp_path / "after", "--solver", "highs", "--quiet"],
        ["--quiet", "optimise", EXAMPLE, "--out", tmp_path / "before", "--solver", "highs"])
    for r, out in ((after, tmp_path / "after"), (before, tmp_path / "before")):
        assert_clean(r)
        _results_only(r, out, "highs")
    assert after.stdout.replace("after", "OUT") == before.stdout.replace("before", "OUT")


def test_example_with_cbc_prints_no_solver_output(tmp_path):
    r = cli("optimise", EXAMPLE, "--out", tmp_path / "r", "--solver", "cbc", "--quiet")
    assert_clean(r)
    _results_only(r, tmp_path / "r", "cbc")


def test_example_without_quiet_keeps_its_warning_off_standard_output(tmp_path):
    r = cli("optimise", EXAMPLE, "--out", tmp_path / "r", "--solver", "highs")
    assert_clean(r, quiet=False)
    _results_only(r, tmp_path / "r", "highs")
    assert "warning" in r.stderr and "WORKLESS_FAMILIES" in r.stderr
    assert "WORKLESS_FAMILIES" not in r.stdout


# ---- --debug ------------------------------------------------------------------------------------
def test_debug_in_either_position_shows_the_traceback(tmp_path):
    missing = tmp_path / "no-such-case"
    plain, after, before = cli_both(["validate", missing], ["validate", missing, "--debug"],
                                    ["--debug", "validate", missing])
    assert plain.returncode == 2 and "error:" in plain.stderr and "Traceback" not in plain.stderr
    for r in (after, before):
        assert r.returncode == 2, r.stderr
        assert "Traceback" in r.stderr and "error:" in r.stderr
        assert r.stdout == ""
    assert after.stderr == before.stderr


def test_debug_and_quiet_together_in_any_position(tiny):
    runs = cli_both(["validate", tiny.case, "--debug", "--quiet"], ["--debug", "validate", tiny.case, "-q"],
                    ["-q", "validate", tiny.case, "--debug"])
    for r in runs:
        assert_clean(r)
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout


# ---- --help -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_lists_quiet_and_debug(command):
    r = cli(command, "--help")
    assert r.returncode == 0, r.stderr
    assert "--quiet" in r.stdout and "-q" in r.stdout and "--debug" in r.stdout


def test_the_group_help_still_lists_them():
    r = cli("--help")
    assert r.returncode == 0
    assert "--quiet" in r.stdout and "--debug" in r.stdout
