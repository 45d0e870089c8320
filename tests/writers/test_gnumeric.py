"""The agreement in a second spreadsheet engine: Gnumeric's ``ssconvert --recalc``.

LibreOffice is one engine (tests/writers/test_libreoffice.py); a formula that only one
engine understands is still a defect, so the agreements of the West Yorkshire example and
of the tiny case are recalculated by Gnumeric too and read back with openpyxl:

* every check on the Checks sheet and the overall "all checks hold" cell read TRUE, and no
  cell of any sheet holds an error value (#VALUE!, #NAME? …);
* edited by openpyxl — which drops every cached value, so whatever comes back Gnumeric
  worked out — to overspend SKILLS's 2025-26 budget of £100,000 by £100,000 (tiny case):
  that check and the overall cell read FALSE.

Gnumeric (the Debian package ``gnumeric``) is installed by .ci/run; where ``CI`` is set its
absence fails these tests instead of skipping them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from engines import need
from agreementcase import allocation_rows, defined_cell, write_agreement_case
from commissioning.analysis.agreement import AgreementInputs
from commissioning.inputs.validate import load_case
from commissioning.writers.agreementbook import write_agreement
from optimiser.levels import optimise_case

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
SSCONVERT = shutil.which("ssconvert")
ERRORS = ("#VALUE!", "#NAME?", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!")

pytestmark = pytest.mark.gnumeric


@pytest.fixture(scope="module", autouse=True)
def ssconvert():
    need(SSCONVERT, "Gnumeric (ssconvert)")


def recalculated(book: Path) -> openpyxl.Workbook:
    out = book.with_name(book.stem + "-gnumeric.xlsx")
    proc = subprocess.run([SSCONVERT, "--recalc", str(book), str(out)], capture_output=True, text=True, timeout=300)
    assert out.exists(), f"Gnumeric did not convert {book.name}: {proc.stdout}\n{proc.stderr}"
    return openpyxl.load_workbook(out, data_only=True)


def agreement(case_path: Path, book: Path) -> Path:
    run = optimise_case(load_case(case_path))
    write_agreement(AgreementInputs.from_run(run), book)
    return book


def holds(wb) -> list:
    """The Checks sheet's ``holds`` column, as recalculated."""
    ws = wb["Checks"]
    head = next(r for r in range(1, 40) if any(ws.cell(r, c).value == "holds" for c in range(1, ws.max_column + 1)))
    col = next(c for c in range(1, ws.max_column + 1) if ws.cell(head, c).value == "holds")
    return [ws.cell(r, col).value for r in range(head + 1, ws.max_row + 1) if ws.cell(r, 1).value is not None]


def error_cells(wb) -> list[str]:
    return [f"{ws.title}!{c.coordinate}={c.value}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith(ERRORS)]


@pytest.mark.parametrize("which", ["example", "tiny"])
def test_gnumeric_recalculates_every_check_true(tmp_path, which):
    case = EXAMPLE if which == "example" else write_agreement_case(tmp_path / "tiny")
    wb = recalculated(agreement(case, tmp_path / "agreement.xlsx"))
    assert not error_cells(wb)[:10]
    checks = holds(wb)
    assert checks and all(v is True for v in checks), [i for i, v in enumerate(checks) if v is not True][:10]
    assert defined_cell(wb, "all_checks_hold").value is True


def test_gnumeric_finds_an_overspend_a_finance_team_typed_in(tmp_path):
    book = agreement(write_agreement_case(tmp_path / "tiny"), tmp_path / "agreement.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["Allocations"]
    row = next(r for r in allocation_rows(ws) if r["pot_code"] == "SKILLS" and r["year"] == "2025-26")
    ws[row["_amount_cell"]].value = row["amount"] + 100_000  # SKILLS 2025-26: £100,000 over its budget
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    back = recalculated(edited)
    assert defined_cell(back, "all_checks_hold").value is False
    assert not error_cells(back)[:10]
    assert holds(back).count(False) >= 1
