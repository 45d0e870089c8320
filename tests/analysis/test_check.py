"""``commissioning check``: an agreement a finance team has edited, re-checked against the case.

Edits are made the way a script or a person would: openpyxl opens the agreement, finds
rows by their header names, changes amounts or appends a row, and saves. The check must
name the sheet and the cell that breaks each rule, list what changed from the proposal
with its effect, and exit 0 / 1 / 2.

Hand arithmetic for the tiny agreement case (tests/agreementcase.py): SKILLS costs £1,000
a head; YOUNG's outcome rate under SKILLS is 0.6 (a rates row) and an outcome is worth
£1,234.50; A1 YOUNG 2025-26 has a need of 40 people.
"""

from __future__ import annotations

import shutil

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from agreementcase import allocation_rows, cli, header, write_agreement_case
from casefactory import changed
from commissioning.analysis.agreement_layout import ALLOC_HEADERS, CHECK_COLUMNS, CHECK_HEADERS
from commissioning.writers.agreementbook import AC


@pytest.fixture(scope="module")
def agreed(tmp_path_factory):
    root = tmp_path_factory.mktemp("check")
    case = write_agreement_case(root / "case")
    res = cli("agree", case, "--out", root / "out")
    assert res.exit_code == 0, res.output
    return case, root / "out" / "agreement.xlsx"


def edited(agreed, tmp_path, edit) -> tuple:
    """A copy of the agreement with ``edit(ws_allocations, rows)`` applied and saved by openpyxl."""
    case, book = agreed
    path = tmp_path / "edited.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb["Allocations"]
    edit(ws, allocation_rows(ws))
    wb.save(path)
    return case, path


def find(rows, **where) -> dict:
    return next(r for r in rows if all(r[k] == v for k, v in where.items()))


def append(ws, **cells) -> int:
    head, cols = header(ws, "pot_code", "amount")
    r = ws.max_row + 1
    for k, v in cells.items():
        ws.cell(r, cols[k]).value = v
    return r


def test_the_unedited_agreement_holds(agreed):
    case, book = agreed
    res = cli("check", book, "--case", case)
    assert res.exit_code == 0, res.output
    assert "Everything holds" in res.output and "No changes from the proposal" in res.output


def test_an_overspent_pot_is_named_with_its_cell(agreed, tmp_path):
    target = {}

    def edit(ws, rows):
        row = find(rows, pot_code="SKILLS", year="2025-26")
        target["cell"] = row["_amount_cell"]
        ws[row["_amount_cell"]] = row["amount"] + 100000

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 1, res.output
    # SKILLS has £100,000 for 2025-26 and spends it all in the proposal.
    assert (f"sheet 'Allocations', cell {target['cell']}: pot SKILLS 2025-26 spends £200,000.00 of £100,000.00 "
            "(over by £100,000.00)") in res.output
    assert "[Checks sheet, row" in res.output
    assert f"cell {target['cell']} (" in res.output and "+£100,000.00" in res.output  # the diff


def test_a_row_funding_an_ineligible_cell_is_named(agreed, tmp_path):
    added = {}

    def edit(ws, rows):
        # WORK's geography is A2 only.
        added["row"] = append(ws, ref="X1", pot_code="WORK", area_code="A1", cohort_code="OLDER", year="2025-26",
                              programme="WORK", amount=1000)

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 1, res.output
    r, k = added["row"], get_column_letter(AC["amount"] + 1)
    assert f"sheet 'Allocations', cell {k}{r} (row {r}): £1,000.00 funds an ineligible cell — WORK / A1 / OLDER / " \
           "2025-26: pot WORK may not fund area A1 (its geography is A2)" in res.output
    assert f"new row {r}" in res.output


def test_money_spent_after_a_pots_life_is_ineligible(agreed, tmp_path):
    def edit(ws, rows):
        append(ws, pot_code="LOCAL", area_code="A1", cohort_code="OLDER", year="2026-27", amount=500)

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 1
    assert "pot LOCAL may not spend in 2026-27" in res.output
    assert "no programme given; read as LOCAL" in res.output


def test_participants_beyond_need_are_named(agreed, tmp_path):
    target = {}

    def edit(ws, rows):
        row = find(rows, pot_code="SKILLS", area_code="A1", cohort_code="YOUNG", year="2025-26")
        target["cell"] = row["_amount_cell"]
        ws[row["_amount_cell"]] = row["amount"] + 1000  # one more person at £1,000 a head

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 1
    assert (f"sheet 'Allocations', cell {target['cell']}: A1 / YOUNG / 2025-26 serves 41.0 participants against a "
            "need of 40.0 (over by 1.0)") in res.output


def test_a_broken_minimum_rule_is_named(agreed, tmp_path):
    cells = []

    def edit(ws, rows):
        for row in rows:
            if row["pot_code"] == "WORK" and row["year"] == "2026-27":
                ws[row["_amount_cell"]] = 0
                cells.append(row["_amount_cell"])

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 1
    assert cells
    assert "min_amount (at least £5,000) for pot WORK, area F1, cohort OLDER, year 2026-27" in res.output
    assert "against a minimum of £5,000.00" in res.output
    assert f"cell{'s' if len(cells) > 1 else ''} {', '.join(cells)}" in res.output


def test_the_diff_gives_the_outcome_effect_of_each_change(agreed, tmp_path):
    target = {}

    def edit(ws, rows):
        row = find(rows, pot_code="SKILLS", area_code="A1", cohort_code="YOUNG", year="2025-26")
        target.update(row)
        ws[row["_amount_cell"]] = row["amount"] - 1000

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 0, res.output  # spending less breaks nothing here
    # −£1,000 at £1,000 a head is one person fewer; × 0.6 = −0.6 outcomes; × £1,234.50 = −£740.70.
    assert (f"cell {target['_amount_cell']} ({target['ref']} SKILLS A1 YOUNG 2025-26): £40,000.00 → £39,000.00 "
            "(-£1,000.00; -0.6 outcomes; -£740.70 value)") in res.output
    assert "Net effect: -£1,000.00 allocated; -1.0 participants; -0.6 outcomes; -£740.70 public value" in res.output


def test_removed_rows_are_listed_by_their_ref(agreed, tmp_path):
    gone = {}

    def edit(ws, rows):
        row = find(rows, pot_code="SKILLS", area_code="A1", cohort_code="YOUNG", year="2026-27")
        gone.update(row)
        ws.delete_rows(row["_row"])

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 0, res.output
    assert f"1 proposed row(s) removed ({gone['ref']}), £{gone['amount']:,.2f} of the proposal" in res.output


def test_cells_are_found_by_header_not_position(agreed, tmp_path):
    target = {}

    def edit(ws, rows):
        ws.insert_cols(1)  # every column moves one to the right
        row = find(allocation_rows(ws), pot_code="SKILLS", year="2025-26")
        target["cell"] = row["_amount_cell"]
        assert target["cell"].startswith(get_column_letter(AC["amount"] + 2))
        ws[row["_amount_cell"]] = row["amount"] + 100000

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 1
    assert f"cell {target['cell']}: pot SKILLS 2025-26 spends" in res.output


def test_arithmetic_amounts_are_read_and_references_are_not_evaluated(agreed, tmp_path):
    def arithmetic(ws, rows):
        row = find(rows, pot_code="SKILLS", area_code="A1", cohort_code="YOUNG", year="2025-26")
        ws[row["_amount_cell"]] = "=39000+1000"

    case, path = edited(agreed, tmp_path, arithmetic)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 0, res.output

    target = {}

    def reference(ws, rows):
        row = find(rows, pot_code="SKILLS", area_code="A1", cohort_code="YOUNG", year="2025-26")
        target["cell"] = row["_amount_cell"]
        ws[row["_amount_cell"]] = "=L8*2"

    case, path = edited(agreed, tmp_path, reference)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 2
    assert f"sheet 'Allocations', cell {target['cell']}: holds the formula =L8*2, which refers to other cells" \
        in res.output


def test_text_that_looks_like_a_formula_is_read_as_text(tmp_path):
    # An area called =HYPERLINK(...) is text in the agreement, and the check reads it as text.
    evil = '=HYPERLINK("http://x","y")'
    case = write_agreement_case(tmp_path / "case", areas=changed("areas", 0, optional=True, area_name=evil))
    assert cli("agree", case, "--out", tmp_path / "out").exit_code == 0
    res = cli("check", tmp_path / "out" / "agreement.xlsx", "--case", case)
    assert res.exit_code == 0, res.output


def test_unreadable_input_exits_2(agreed, tmp_path):
    case, book = agreed
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(book.read_bytes()[:2000])
    res = cli("check", truncated, "--case", case)
    assert res.exit_code == 2
    assert "truncated" in res.output

    text = tmp_path / "text.xlsx"
    text.write_text("pot_code,amount\nSKILLS,1\n")
    assert cli("check", text, "--case", case).exit_code == 2

    wb = openpyxl.load_workbook(book)
    del wb["Allocations"]
    wb.save(tmp_path / "no-allocations.xlsx")
    res = cli("check", tmp_path / "no-allocations.xlsx", "--case", case)
    assert res.exit_code == 2 and "has no 'Allocations' sheet" in res.output

    assert cli("check", tmp_path / "missing.xlsx", "--case", case).exit_code == 2


def test_a_workbook_of_other_inputs_is_checked_against_the_case_given(agreed, tmp_path):
    case, book = agreed
    other = write_agreement_case(tmp_path / "other", budgets=changed("budgets", 0, optional=True, amount=90000))
    res = cli("check", book, "--case", other)
    # The proposal spends £100,000 of SKILLS 2025-26; this case gives SKILLS only £90,000.
    assert res.exit_code == 1
    assert "drawn from other inputs" in res.output
    assert "pot SKILLS 2025-26 spends £100,000.00 of £90,000.00" in res.output


def test_check_leaves_the_workbook_untouched(agreed, tmp_path):
    case, book = agreed
    copy = tmp_path / "agreement.xlsx"
    shutil.copyfile(book, copy)
    before = copy.read_bytes()
    cli("check", copy, "--case", case)
    assert copy.read_bytes() == before


def test_a_row_re_pointed_to_another_cell_is_shown_as_a_move(agreed, tmp_path):
    target = {}

    def edit(ws, rows):
        row = find(rows, pot_code="SKILLS", area_code="A1", cohort_code="YOUNG", year="2026-27")
        target.update(row)
        head, cols = header(ws, "area_code")
        ws.cell(row["_row"], cols["area_code"]).value = "A2"

    case, path = edited(agreed, tmp_path, edit)
    res = cli("check", path, "--case", case)
    assert (f"row {target['_row']} ({target['ref']}): re-pointed from SKILLS A1 YOUNG 2026-27 (programme SKILLS) "
            "to SKILLS A2 YOUNG 2026-27 (programme SKILLS)") in res.output
    # A2 YOUNG 2026-27 has a need of 25 people: £45,000 more at £1,000 a head exceeds it.
    assert res.exit_code == 1 and "A2 / YOUNG / 2026-27 serves" in res.output


def test_the_message_counts_the_checks_as_the_checks_sheet_does(agreed):
    case, book = agreed
    res = cli("check", book, "--case", case)
    n = int(res.output.split(" checks.")[0].rsplit(", ", 1)[1].replace(",", ""))
    ws = openpyxl.load_workbook(book, data_only=True)["Checks"]
    head, cols = header(ws, "family", "check", "holds")
    families = [ws.cell(r, cols["family"]).value for r in range(head + 1, ws.max_row + 1)]
    checks = [f for f in families if f and f != "reconciliation"]
    assert n == len(checks)  # every limit, and eligibility
    stated = next(ws.cell(r, c + 3).value for r in range(1, head) for c in range(1, ws.max_column)
                  if ws.cell(r, c).value == "Checks failing")
    assert stated == n  # "Checks failing 0 of N"


def test_headers_in_words_or_as_keys_both_check(agreed, tmp_path):
    # The workbook shows headers in words; a workbook drawn before (headers as keys) still checks,
    # and so does one whose Checks headers are keys.
    case, book = agreed
    wb = openpyxl.load_workbook(book)
    ws = wb["Allocations"]
    head, cols = header(ws, "pot_code", "amount")
    assert ws.cell(head, cols["pot_code"]).value == ALLOC_HEADERS["pot_code"]
    for key in ALLOC_HEADERS:
        ws.cell(head, cols[key]).value = key
    checks = wb["Checks"]
    chead, ccols = header(checks, "check", "holds")
    for key in CHECK_COLUMNS:
        checks.cell(chead, ccols[key]).value = key
    row = find(allocation_rows(ws), pot_code="SKILLS", year="2025-26")
    ws[row["_amount_cell"]] = row["amount"] + 100000
    path = tmp_path / "keys.xlsx"
    wb.save(path)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 1 and f"cell {row['_amount_cell']}: pot SKILLS 2025-26 spends" in res.output
    assert "[Checks sheet, row" in res.output
    assert CHECK_HEADERS["holds"] == "holds"  # the Checks sheet's keys are its headers (plain words)


@pytest.mark.parametrize("form", [None, "", "my own form"])
def test_a_cover_that_names_no_form_is_checked_as_an_llma_and_said(agreed, tmp_path, form):
    """The Cover's Form line says which rules the workbook is checked by; deleted, blanked or
    edited, the LLMA's are used (the default form), and the note says so instead of nothing."""
    case, book = agreed
    path = tmp_path / "no-form.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb["Cover"]
    r = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Form")
    if form is None:
        ws.delete_rows(r)
    else:
        ws.cell(r, 2).value = form
    wb.save(path)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 0, res.output  # the unedited plan holds by the LLMA's rules
    said = "is missing or blank" if not form else f"says '{form}'"
    assert f"sheet 'Cover': the Form line {said}, which names no agreement form" in res.output
    assert "checked by the rules of the llma" in res.output
    unedited = cli("check", book, "--case", case)
    assert "names no agreement form" not in unedited.output


def test_an_edited_budget_on_the_pooled_budget_sheet_is_said(agreed, tmp_path):
    """The workbook's own Checks read the Pooled budget sheet's figures; ``check`` holds the plan to
    the case's. A budget edited there is named with its cell, and the check still uses the case's."""
    case, book = agreed
    path = tmp_path / "budget.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb["Pooled budget"]
    head = next(r for r in range(1, 15) if ws.cell(r, 1).value == "Pot code")
    years = {ws.cell(head, c).value: c for c in range(1, ws.max_column + 1)}
    r = next(r for r in range(head + 1, head + 20) if ws.cell(r, 1).value == "SKILLS")
    c = years["2025-26"]
    was = ws.cell(r, c).value
    ws.cell(r, c).value = was + 50000
    wb.save(path)
    res = cli("check", path, "--case", case)
    assert res.exit_code == 0, res.output  # the plan still holds by the case's budgets
    cell = f"{openpyxl.utils.get_column_letter(c)}{r}"
    assert (f"sheet 'Pooled budget', cell {cell}: the SKILLS 2025-26 budget £{was + 50000:,.2f} differs from the "
            f"case's £{was:,.2f}; the check uses the case") in res.output
    assert "Pooled budget" not in cli("check", book, "--case", case).output
