"""One cell of an input table read into a value: the kinds the table contract names.

:func:`parse_cell` turns a cell (text, number, date, as a spreadsheet or CSV gives it) into
the value its column's kind expects, or raises :class:`_Bad` with what was found and what
was expected; the validator and the settings models both read cells through it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from commissioning.case import years as fy
from commissioning.case.model import ALL
from commissioning.inputs import schema as S
from commissioning.inputs.readers import EXCEL_ERRORS

_CODE_OK = re.compile(r"^[^\s;,]+(?: [^\s;,]+)*$")
_MONEY_STRIP = re.compile(r"[£,\s]")


class _Bad(Exception):
    def __init__(self, found: str, expected: str):
        self.found, self.expected = found, expected


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _number(v: Any, expected: str) -> float:
    if isinstance(v, bool):
        raise _Bad(f"'{v}'", expected)
    if isinstance(v, (int, float)):
        try:
            x = float(v)
        except OverflowError:  # a whole number beyond any float (a workbook can hold one)
            raise _Bad(f"'{_clip(v)}' is not a finite number", expected) from None
    else:
        s = _MONEY_STRIP.sub("", str(v))
        if s.startswith("(") and s.endswith(")"):  # accountants' negative
            s = "-" + s[1:-1]
        try:
            x = float(s)
        except ValueError:
            raise _Bad(f"'{_clip(v)}' is not a number", expected) from None
    if math.isnan(x) or math.isinf(x):
        raise _Bad(f"'{_clip(v)}' is not a finite number", expected)
    return x


def _clip(v: Any, n: int = 40) -> str:
    s = str(v)
    s = "".join(ch if ch.isprintable() else "?" for ch in s)
    return s if len(s) <= n else s[: n - 1] + "…"


LARGEST = 1e13  # no money, cost or number in a case comes near it (see parse_cell)


def parse_cell(col: S.Column, v: Any) -> Any:
    """Parse one non-empty cell by its column kind; raise ``_Bad`` with found/expected."""
    if isinstance(v, str) and v.strip() in EXCEL_ERRORS:
        raise _Bad(f"the spreadsheet error value {v.strip()}", "a value (fix the formula that produced it)")
    k = col.kind
    if k in (S.CODE, S.CODE_OR_ALL):
        s = _text(v)
        if not _CODE_OK.match(s):
            raise _Bad(f"'{_clip(s)}' is not a code", "a code without ';', ',' or line breaks")
        return s
    if k == S.TEXT:
        return _text(v)
    if k == S.CODE_LIST:
        items = [x.strip() for x in _text(v).split(";")]
        items = [x for x in items if x]
        if not items:
            raise _Bad("an empty list", "codes separated by ';', or ALL")
        for x in items:
            if not _CODE_OK.match(x):
                raise _Bad(f"'{_clip(x)}' is not a code", "codes separated by ';'")
        if ALL in items and len(items) > 1:
            raise _Bad("ALL together with other codes", "either ALL or a list of codes")
        return tuple(items)
    if k in (S.MONEY, S.POSITIVE_MONEY, S.NUMBER):
        x = _number(v, "a number of pounds" if k != S.NUMBER else "a number")
        if abs(x) > LARGEST:
            # Far beyond any funding stream (all of them together are ~£20bn a year); such a
            # figure is a slip, and squaring it in the arithmetic would overflow.
            raise _Bad(f"{x:g} is implausibly large", "an amount below 10 trillion (1e13)")
        # Pounds as a finance team writes them (-£5,000,000, not -5e+06); other numbers as they are.
        said = (f"-£{-x:,.2f}" if x < 0 else f"£{x:,.2f}").removesuffix(".00") if k != S.NUMBER else f"{x:g}"
        if k == S.POSITIVE_MONEY and x <= 0:
            raise _Bad(said, "an amount greater than 0")
        if x < 0:
            raise _Bad(f"a negative value {said}", "0 or more")
        return x
    if k == S.WHOLE:
        x = _number(v, "a whole number")
        if x < 0:
            raise _Bad(f"a negative value {x:g}", "a whole number, 0 or more")
        if not float(x).is_integer():
            raise _Bad(f"{x:g} is not whole", "a whole number")
        return int(x)
    if k == S.AGE:
        x = _number(v, "an age in years")
        if x < 0 or x > 120 or not float(x).is_integer():
            raise _Bad(f"{x:g}", "a whole age from 0 to 120")
        return int(x)
    if k == S.STAGE:
        x = _number(v, "a journey stage 1-6")
        if x not in (1, 2, 3, 4, 5, 6):
            raise _Bad(f"{x:g}", "a journey stage from 1 to 6")
        return int(x)
    if k == S.SHARE:
        x = _number(v, "a share from 0 to 1")
        if x < 0 or x > 1:
            raise _Bad(f"{x:g} is outside 0-1", "a share from 0 to 1 (write 25% as 0.25)")
        return x
    if k in (S.YEAR, S.YEAR_OR_ALL):
        s = _text(v)
        if k == S.YEAR_OR_ALL and s == ALL:
            return ALL
        try:
            fy.parse_year(s)
        except ValueError:
            raise _Bad(f"'{_clip(s)}' is not a financial year", "a year written like 2025-26") from None
        return s
    if k == S.DATE:
        if isinstance(v, datetime):
            day = v.date()
        elif isinstance(v, date):
            day = v
        else:
            s = _text(v)
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", s):
                raise _Bad(f"'{_clip(s)}' is not an ISO date", "a date written like 2025-04-01")
            try:
                day = date.fromisoformat(s)
            except ValueError:
                raise _Bad(f"'{s}' is a date that does not exist", "a real calendar date") from None
        # A pot's start and end become financial years; an evidence date (need.as_of) is only
        # recorded, and may be as old as the evidence.
        if col.name in ("start", "end") and not fy.FIRST_YEAR <= day.year <= fy.LAST_YEAR:
            raise _Bad(f"{day.isoformat()} is outside the years a case can cover",
                       f"a date from {fy.FIRST_YEAR} to {fy.LAST_YEAR}")
        return day
    if k == S.YESNO:
        if isinstance(v, bool):
            return v
        s = _text(v).lower()
        if s in ("yes", "no"):
            return s == "yes"
        raise _Bad(f"'{_clip(v)}'", "yes or no")
    if k == S.CHOICE:
        s = _text(v)
        if s not in col.choices:
            raise _Bad(f"'{_clip(s)}'", "one of " + ", ".join(col.choices))
        return s
    raise AssertionError(f"unknown column kind {k}")  # a programming error, not user input


# Column kinds whose text cells repeat and parse the same wherever they appear.
_REPEATING = frozenset({S.CODE, S.CODE_OR_ALL, S.CODE_LIST, S.YEAR, S.YEAR_OR_ALL, S.CHOICE, S.YESNO, S.TEXT})


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _pence_noise(x: float) -> bool:
    return math.isfinite(x * 100) and abs(x * 100 - round(x * 100)) > 1e-6 * max(1.0, abs(x))
