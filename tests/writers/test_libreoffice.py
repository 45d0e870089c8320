"""The agreement in a real spreadsheet engine: LibreOffice recalculates it from scratch.

A formula that only xlsxwriter believes in is a defect, so the West Yorkshire agreement is
opened in LibreOffice (headless), recalculated, saved, and read back with openpyxl:

* as written: every Checks cell and the overall cell read TRUE, and the Allocations total
  equals the pooled sum of allocations.csv to the penny;
* with its cached results falsified (every cached TRUE turned FALSE and the cached total
  zeroed): the same answers come back — proof that LibreOffice recalculated rather than
  echoed the cache;
* edited by openpyxl (which drops every cached value) to overspend a pot-year by £100,000
  (the tiny agreement case, for speed): that pot-year's check and the overall cell read
  FALSE, and the total moves by exactly £100,000;
* with a footprint rule matched against the footprint table (the form for large footprints);
* exported to PDF, the example's and the tiny case's agreements, without LibreOffice aborting
  (it did, issue 15: see ``test_no_boolean_with_a_conditional_format_has_text_to_its_right``),
  in a number of pages within a stated bound.

LibreOffice keeps cached results of .xlsx files unless told otherwise, so each run uses a
fresh user profile whose settings say "always recalculate on load" (OOXMLRecalcMode 0).
In CI (the ``CI`` environment variable set, where .ci/run installs LibreOffice) a missing
``soffice`` fails these tests instead of skipping them.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from openpyxl.utils import get_column_letter

from engines import SOFFICE, TIMEOUT, need, recalculate
from agreementcase import allocation_rows, defined_cell, header, write_agreement_case
from commissioning.writers import agreementbook
from commissioning.analysis.agreement import AgreementInputs
from commissioning.writers.agreementbook import AC, SHEETS, write_agreement
from commissioning.writers.files import write_frame_csv
from commissioning.writers.results import ALLOCATION_CSV_COLUMNS
from commissioning.inputs.validate import load_case
from optimiser.levels import optimise_case

pytestmark = pytest.mark.libreoffice

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"


@pytest.fixture(scope="module", autouse=True)
def soffice():
    return need(SOFFICE, "LibreOffice (soffice)")


def falsify_cache(src: Path, dst: Path) -> None:
    """Copy ``src`` with every cached boolean result FALSE and the cached Allocations total 0."""
    sheets = {f"xl/worksheets/sheet{i + 1}.xml": name for i, name in enumerate(SHEETS)}
    total = f"{get_column_letter(AC['amount'] + 1)}3"  # the cell of total_allocated
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename in sheets:
                text = data.decode("utf-8")
                text = re.sub(r'(<c [^>]*t="b"[^>]*><f>[^<]*</f><v>)1(</v>)', r"\g<1>0\2", text)
                if sheets[item.filename] == "Allocations":
                    text = re.sub(rf'(<c r="{total}"[^>]*><f>[^<]*</f><v>)[^<]*(</v>)', r"\g<1>0\2", text)
                data = text.encode("utf-8")
            zout.writestr(item, data)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    work = tmp_path_factory.mktemp("libreoffice")
    case = load_case(EXAMPLE)
    run = optimise_case(case)
    write_frame_csv(work / "allocations.csv", run.allocations_frame(), ALLOCATION_CSV_COLUMNS)  # as `agree` does
    written = work / "as-written.xlsx"
    write_agreement(AgreementInputs.from_run(run), written)

    stale = work / "stale-cache.xlsx"
    falsify_cache(written, stale)
    cached = openpyxl.load_workbook(stale, data_only=True)
    assert defined_cell(cached, "all_checks_hold").value is False  # the lie LibreOffice must not repeat
    assert defined_cell(cached, "total_allocated").value == 0

    # The tiny case (tests/agreementcase.py), twice: with its footprint rule matched against the
    # footprint table (the form used for footprints of more than MAX_LITERAL_AREAS areas) rather
    # than area by area; and edited by openpyxl (which drops every cached value) so that SKILLS
    # overspends its £100,000 for 2025-26 by £100,000.
    tiny = load_case(write_agreement_case(work / "tiny"))
    tiny_run = optimise_case(tiny)
    footprint = work / "footprint-match.xlsx"
    limit = agreementbook.MAX_LITERAL_AREAS
    agreementbook.MAX_LITERAL_AREAS = 0
    try:
        write_agreement(AgreementInputs.from_run(tiny_run), footprint)
    finally:
        agreementbook.MAX_LITERAL_AREAS = limit
    formulas = openpyxl.load_workbook(footprint)["Checks"]
    assert any("MATCH(alloc_area," in str(getattr(c.value, "text", c.value)) for row in formulas.iter_rows()
               for c in row)  # an array formula (see Book.formula) has its text apart

    overspent = work / "overspent.xlsx"
    write_agreement(AgreementInputs.from_run(tiny_run), overspent)
    wb = openpyxl.load_workbook(overspent)
    row = next(r for r in allocation_rows(wb["Allocations"]) if r["pot_code"] == "SKILLS" and r["year"] == "2025-26")
    wb["Allocations"][row["_amount_cell"]] = row["amount"] + 100000
    wb.save(overspent)

    pooled = pd.read_csv(work / "allocations.csv")
    pooled = pooled[pooled["level"] == "pooled"]
    tiny_total = float(tiny_run.levels["pooled"].allocations["amount"].sum())
    out = recalculate([written, stale, footprint, overspent], work)
    return {name: openpyxl.load_workbook(path, data_only=True) for name, path in out.items()}, pooled, tiny_total


def checks(wb) -> dict[str, list]:
    ws = wb["Checks"]
    head, cols = header(ws, "family", "check", "holds")
    rows = [r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, cols["family"]).value]
    return {k: [ws.cell(r, cols[k]).value for r in rows] for k in ("family", "check", "pot", "year", "holds")}


@pytest.mark.parametrize("name", ["as-written.xlsx", "stale-cache.xlsx"])
def test_every_check_reads_true_and_totals_reconcile(converted, name):
    books, pooled, _ = converted
    wb = books[name]
    c = checks(wb)
    assert len(c["holds"]) > 500  # budgets, windows, 400 need cells, rules, match, eligibility, reconciliation
    false = [(f, w) for f, w, h in zip(c["family"], c["check"], c["holds"]) if h is not True]
    assert not false, false[:5]
    assert defined_cell(wb, "all_checks_hold").value is True
    total = round(pooled["amount"].sum(), 2)
    assert round(defined_cell(wb, "total_allocated").value, 2) == total
    assert round(sum(r["amount"] for r in allocation_rows(wb["Allocations"])), 2) == total
    assert round(defined_cell(wb, "spend_total").value, 2) == total
    assert defined_cell(wb, "total_outcomes").value == pytest.approx(pooled["outcomes"].sum(), rel=1e-9)
    assert defined_cell(wb, "target_outcomes").value == pytest.approx(pooled["outcomes"].sum(), rel=1e-9)


def test_a_footprint_matched_against_its_table_reads_true(converted):
    books, _, _ = converted
    wb = books["footprint-match.xlsx"]
    c = checks(wb)
    assert "rule" in c["family"] and all(h is True for h in c["holds"])
    assert defined_cell(wb, "all_checks_hold").value is True


def test_an_overspend_turns_its_check_false_after_recalculation(converted):
    books, _, tiny_total = converted
    wb = books["overspent.xlsx"]
    c = checks(wb)
    failing = {(f, p, y) for f, p, y, h in zip(c["family"], c["pot"], c["year"], c["holds"]) if h is not True}
    assert ("pot budget", "SKILLS", "2025-26") in failing
    assert defined_cell(wb, "all_checks_hold").value is False
    assert round(defined_cell(wb, "total_allocated").value, 2) == round(tiny_total + 100000, 2)


# ---- printing: LibreOffice exports the agreement to PDF ------------------------------------------
# The example prints in 66 pages (December 2026, with its integrated settlement: three funds
# continue under new codes from 2026-27, so more allocation lines), each sheet fitted to a page's
# width: Allocations takes most (least disruption keeps today's 1,448 lines largely as they are,
# where the pure optimum had 276 and printed in 11), Transition and Provision today 5.
EXAMPLE_PAGES_MAX = 72
TINY_PAGES_MAX = 20  # 17: a page or so a sheet, its short registers printed in full


def pdf_pages(pdf: Path) -> int:
    """The number of pages of a PDF (its page objects, as LibreOffice writes them)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    work = tmp_path_factory.mktemp("pdf")
    books = []
    for name, case in (("example", load_case(EXAMPLE)), ("tiny", load_case(write_agreement_case(work / "tiny")))):
        path = work / f"{name}.xlsx"
        write_agreement(AgreementInputs.from_run(optimise_case(case)), path)
        books.append(path)
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True)
    out = work / "pdf"
    out.mkdir()
    cmd = [SOFFICE, "--headless", "--norestore", "--nologo", f"-env:UserInstallation={profile.as_uri()}",
           "--calc", "--convert-to", "pdf", "--outdir", str(out), *map(str, books)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    return proc, {p.stem: out / f"{p.stem}.pdf" for p in books}


@pytest.mark.parametrize("name,most", [("example", EXAMPLE_PAGES_MAX), ("tiny", TINY_PAGES_MAX)])
def test_the_agreement_exports_to_pdf_in_a_bounded_number_of_pages(printed, name, most):
    proc, pdfs = printed
    assert "Fatal exception" not in proc.stderr + proc.stdout, proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert pdfs[name].exists(), f"no PDF of {name}: {proc.stdout}\n{proc.stderr[-2000:]}"
    pages = pdf_pages(pdfs[name])
    assert len(SHEETS) + 1 <= pages <= most, pages  # every sheet prints (the Eligibility sheet its heading)
