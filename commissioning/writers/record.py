"""The run record on a workbook: what produced it, so that a finance team can reproduce it.

Every workbook the engine writes carries a *Run record* sheet laid out from
:func:`commissioning.analysis.record.run_record`: the engine's version (and commit when run
from a checkout), Python and the solver packages' versions, the solver and the options it
ran with, the SHA-256 of every input file (and the scenario), and the case's fingerprint,
GSS vintage and price base. The record holds no time of day, so two runs of the same
inputs with the same software give the same sheet.
"""

from __future__ import annotations

from typing import Any

from commissioning.writers.printing import setup_print, wrapped_row

RECORD_SHEET = "Run record"


def record_rows(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The record as (label, value) rows, in the order the sheet shows them."""
    eng, soft, sol, case = record["engine"], record["software"], record["solver"], record["case"]
    rows = [
        ("Engine", f"{eng['name']} {eng['version']}"),
        ("Commit", (eng["commit"] or "not run from a git checkout")
         + (" (with local changes)" if eng.get("local_changes") else "")),
        ("Python", soft["python"]),
        *[(f"{name}", version) for name, version in soft["packages"].items()],
        ("Solver", sol["name"] or "none (no solve)"),
        ("Solver chosen because", sol["choice"] or ""),
        ("Time limit", "none" if sol["time_limit"] is None else f"{sol['time_limit']:g} seconds"),
        *[(f"Solver option: {k}", str(v)) for k, v in sol["options"].items()],
        ("Case fingerprint", case["fingerprint"]),
        ("Scenario", case["scenario"] or "none"),
        ("GSS code vintage", case["gss_vintage"] or "not stated"),
        ("Price base", case["price_base"] or "not stated"),
    ]
    rows += [("Scenario compared", name) for name in record.get("scenarios", ())]
    rows += [(f"Input: {f['file']}", f"SHA-256 {f['sha256']}") for f in record["inputs"]]
    return rows


def write_run_record(wb, record: dict[str, Any], title_format=None, label_format=None,
                     footer: str | None = None) -> None:
    """Add the *Run record* sheet to an xlsxwriter workbook ``wb`` (formats optional).

    The sheet prints on one A4 portrait page width, its first row repeated on every page,
    with ``footer`` (the document's name) and page numbers at the foot
    (:func:`commissioning.writers.printing.setup_print`). Optional keys of ``record`` that
    this layout shows when present: ``scenarios`` (the scenario files a comparison ran, in
    words).
    """
    ws = wb.add_worksheet(RECORD_SHEET)
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws.write_string(0, 0, "Run record: what produced this workbook", title_format)
    wrapped_row(ws, 1, 0, 1, "Enough to reproduce it: the same inputs (by their SHA-256) run by the same "
                             "software with the same solver options give the same figures.", wrap, [32, 80])
    for i, (label, value) in enumerate(record_rows(record)):
        ws.write_string(3 + i, 0, label, label_format)
        ws.write_string(3 + i, 1, value, wrap)
        lines = max(1, -(-len(value) // 80), -(-len(label) // 32))
        if lines > 1:
            ws.set_row(3 + i, 15 * lines + 2)
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 80)
    setup_print(ws, footer or "Run record", landscape=False, repeat_rows=0)
