"""Sheet 8, *Governance*: the joint board, reporting, review points and variation.

Shows the editable template ``templates/governance.md`` (or the one given), with the case's
values filled in (:func:`commissioning.analysis.agreement.governance_lines`), one cell per
title, heading, bullet or paragraph, wrapped on a portrait page with each row as tall as its
text.

Reads no anchors. Publishes none.
"""

from __future__ import annotations

from pathlib import Path

from commissioning.analysis.agreement import governance_lines
from commissioning.analysis.agreement_layout import GOVERNANCE
from commissioning.writers.agreement.draft import Draft
from commissioning.writers.agreement.layout import print_setup, worksheet
from commissioning.writers.style import LINE_PT, SUBTITLE, TITLE, WRAP, Book

WIDTH = 75  # characters: a portrait page's width at full size, in LibreOffice without Carlito too


def write_governance(book: Book, draft: Draft, template: Path | None = None) -> None:
    """Write the *Governance* sheet from ``template`` (None: the packaged one)."""
    b = book
    ws = worksheet(book, GOVERNANCE)
    title, heading = b.wb.add_format({**TITLE, **WRAP}), b.wb.add_format({**SUBTITLE, **WRAP})
    r = 0
    for kind, text in blocks(governance_lines(draft.inputs, template)):
        if kind == "blank":
            r += 1
            continue
        fmt, line, chars = {"title": (title, 21.0, WIDTH / 1.4), "heading": (heading, 18.0, WIDTH / 1.2)}.get(
            kind, (b.wrap, LINE_PT, WIDTH))
        b.wrapped(ws, r, 0, text, chars, fmt, line)
        r += 1
    ws.set_column(0, 0, WIDTH)
    print_setup(book, draft, ws, [WIDTH], None)


def blocks(lines: list[str]) -> list[tuple[str, str]]:
    """Markdown-ish text as cells: titles ("# "), headings ("## "), bullets ("- ", with their
    indented continuation lines) and paragraphs (consecutive lines joined), one cell each."""
    out: list[tuple[str, str]] = []
    for line in lines:
        text = line.strip()
        if not text:
            if out and out[-1][0] != "blank":
                out.append(("blank", ""))
        elif text.startswith("## "):
            out.append(("heading", text[3:]))
        elif text.startswith("# "):
            out.append(("title", text[2:]))
        elif text.startswith("- "):
            out.append(("bullet", "• " + text[2:]))
        elif out and out[-1][0] in ("paragraph", "bullet") and (out[-1][0] == "paragraph" or line[:1].isspace()):
            out[-1] = (out[-1][0], out[-1][1] + " " + text)
        else:
            out.append(("paragraph", text))
    while out and out[0][0] == "blank":
        out.pop(0)
    return out
