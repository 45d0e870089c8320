"""Combined-authority GSS codes, with the dates they came into and went out of use.

ONS's GSS codes have vintages: a code is created when an authority is made and closed when it
is abolished, and the same place may carry different codes over the years (North of Tyne,
E47000011, was abolished in May 2024 when the North East Mayoral Combined Authority,
E47000014, was made). A case states the vintage of its codes (``case.yaml`` ``gss_vintage``,
a date or a year); the validator warns on an E47 code (a combined authority) that is unknown
to the list below, not yet made at that date or already abolished — a warning, not an error:
a newer code list than this one is no mistake of the case's.

The list (checked December 2026) comes from ONS's Register of Geographic Codes and the
statutory instruments that made or abolished each authority; dates are to the month (the
first of the month the order took effect), which is all a vintage check needs. Two
authorities made in February 2026 (Cheshire & Warrington, Cumbria) had no code published by
December 2026: a case that names them must use a code of its own (not E47), and the
validator says so when it meets an E47 code it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

REGISTER = "ONS Register of Geographic Codes (E47 combined authorities), checked December 2026"


@dataclass(frozen=True)
class Authority:
    """One combined-authority code: the authority's name and the dates the code is in use."""

    code: str
    name: str
    start: date
    end: date | None = None  # None: still in use


COMBINED_AUTHORITIES: tuple[Authority, ...] = (
    Authority("E47000001", "Greater Manchester", date(2011, 4, 1)),
    Authority("E47000002", "South Yorkshire", date(2014, 4, 1)),
    Authority("E47000003", "West Yorkshire", date(2014, 4, 1)),
    Authority("E47000004", "Liverpool City Region", date(2014, 4, 1)),
    Authority("E47000006", "Tees Valley", date(2016, 4, 1)),
    Authority("E47000007", "West Midlands", date(2016, 6, 1)),
    Authority("E47000008", "Cambridgeshire and Peterborough", date(2017, 3, 1)),
    Authority("E47000009", "West of England", date(2017, 2, 1)),
    Authority("E47000011", "North of Tyne", date(2018, 11, 1), end=date(2024, 5, 6)),
    Authority("E47000012", "York and North Yorkshire", date(2024, 2, 1)),
    Authority("E47000013", "East Midlands", date(2024, 2, 1)),
    Authority("E47000014", "North East", date(2024, 5, 1)),
    Authority("E47000015", "Devon and Torbay", date(2025, 2, 1)),
    Authority("E47000016", "Hull and East Yorkshire", date(2025, 2, 1)),
    Authority("E47000017", "Greater Lincolnshire", date(2025, 2, 1)),
    Authority("E47000018", "Lancashire", date(2025, 2, 1)),
)
BY_CODE = {a.code: a for a in COMBINED_AUTHORITIES}
AWAITING_CODES = ("Cheshire and Warrington", "Cumbria")  # made February 2026, no code by December 2026


def is_combined_authority(code: str) -> bool:
    """Whether a code is of the combined-authority type (E47)."""
    return code.startswith("E47") and len(code) == 9


def vintage_problem(code: str, vintage: date) -> str | None:
    """Why an E47 code does not stand at ``vintage`` (None when it does, or when it is not E47)."""
    if not is_combined_authority(code):
        return None
    a = BY_CODE.get(code)
    if a is None:
        return (f"{code} is not a combined-authority code this engine knows ({REGISTER}; "
                f"{', '.join(AWAITING_CODES)} await codes)")
    if vintage < a.start:
        return f"{code} ({a.name}) was not in use until {a.start:%B %Y}, after the case's GSS vintage {vintage}"
    if a.end is not None and vintage > a.end:
        return f"{code} ({a.name}) was abolished in {a.end:%B %Y}, before the case's GSS vintage {vintage}"
    return None
