"""UK financial years (1 April to 31 March), written ``2025-26``.

Every date comparison in the project goes through this module, so that no other code
reasons about April the first itself (OpenFisca's habit of keeping periods in one place).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

_FY = re.compile(r"^(\d{4})-(\d{2})$")
# Financial years a case may name: wide enough for any real programme, and far from the
# edges of Python's dates (year 0 or 10000 cannot be a date at all).
FIRST_YEAR, LAST_YEAR = 1900, 2199


def parse_year(text: str) -> int:
    """Return the calendar year a financial year starts in: ``"2025-26"`` → 2025.

    Raises ``ValueError`` with the reason for anything else (``2025/26``, ``2025-27``).
    A case holds a handful of year labels read tens of thousands of times: answers are
    remembered (errors are not, so each bad cell is still reported).
    """
    if isinstance(text, str):
        return _parse_label(text)
    return _parse_uncached(text)


@lru_cache(maxsize=4096)
def _parse_label(text: str) -> int:
    return _parse_uncached(text)


def _parse_uncached(text) -> int:
    m = _FY.match(str(text).strip())
    if not m:
        raise ValueError(f"'{text}' is not a financial year written like 2025-26")
    first, second = int(m.group(1)), int(m.group(2))
    if (first + 1) % 100 != second:
        raise ValueError(f"'{text}' does not span consecutive years (2025-26 is one year)")
    if not FIRST_YEAR <= first <= LAST_YEAR:
        raise ValueError(f"'{text}' is outside the years a case can cover ({year_label(FIRST_YEAR)} to "
                         f"{year_label(LAST_YEAR)})")
    return first


def year_label(start: int) -> str:
    """``2025`` → ``"2025-26"``."""
    return f"{start}-{(start + 1) % 100:02d}"


def year_start(label: str) -> date:
    """First day of a financial year."""
    return date(parse_year(label), 4, 1)


def year_end(label: str) -> date:
    """Last day of a financial year."""
    return date(parse_year(label) + 1, 3, 31)


def year_of(day: date) -> str:
    """The financial year a day falls in."""
    return year_label(day.year if day.month >= 4 else day.year - 1)


def overlaps(label: str, start: date, end: date) -> bool:
    """Whether any day of the financial year falls within ``start``..``end``."""
    return year_start(label) <= end and start <= year_end(label)


def shift(label: str, years: int) -> str:
    """The financial year ``years`` later (or earlier when negative)."""
    return year_label(parse_year(label) + years)


def years_between(first: str, last: str) -> list[str]:
    """Every financial year from ``first`` to ``last`` inclusive."""
    return [year_label(y) for y in range(parse_year(first), parse_year(last) + 1)]
