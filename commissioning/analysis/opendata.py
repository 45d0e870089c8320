"""A level's allocations as open data: grant records in the 360Giving Data Standard (1.4.3).

``commissioning export RESULTS --case CASE --format 360giving`` turns the allocations of one
level of an ``optimise`` (or ``agree``) results folder into a 360Giving *package of grants*
(``360giving.json``) and its flattened table (``360giving.csv``, one row a grant, columns
named by the standard's field titles). This module builds both; :mod:`commissioning.writers.opendata`
writes them.

**One grant record** per recipient, pot and area over the case's years:

* where today's provision names a **provider** for a programme (pot), area, cohort and year,
  the level's money buying that programme in that cell is that provider's (shared in
  proportion to today's provision when several are named, the share of provision naming no
  provider staying with the lead body);
* the rest of a pot's money in an area is a record to the agreement's **lead body**, which
  will commission it: a plan, not yet a contract with a provider.

Each record states: ``id`` (the package's prefix, then pot, area and recipient), ``title``
(fund and area), a ``description`` in words (the cohorts, the years, the participants and
outcomes expected, and that it is a planned allocation drawn by this engine), ``currency``
GBP, ``amountAwarded`` (£, to the penny), ``awardDate`` (the export's date: the decision is
the plan's, and says so), ``plannedDates`` (the first year's 1 April to the last year's 31
March, with the duration in months), ``recipientOrganization``, ``fundingOrganization`` (the
department owning the pot in the grant's first year, with its other owners named when it
changed hands), ``beneficiaryLocation`` and ``grantProgramme`` (the pot).

**Geography, honestly.** The standard's ``geoCodeType`` code list types ONS codes by their
prefix (E06 unitary authority ``UA``, E07 ``NMD``, E08 ``MD``, E09 ``LONB``, E10 ``CTY``, E12
``RGN/GOR``) and has **no type for a combined authority (E47)**. A record's location is
therefore its area, typed from its prefix; a combined authority the area belongs to (a
footprint with an E47 code) is added as a second location with its code and no
``geoCodeType``, its description saying why. An area code of no listed type is given with
no type either, never a made-up one.

**Identifiers.** 360Giving asks each publisher to register a prefix (``360G-…``) and to use
organisation identifiers from the Organisation Identifier Standard. The engine knows neither,
so it uses the prefix given (``--prefix``, default ``360G-commissioning-<fingerprint>``) and
organisation identifiers made from it (``…-org-<slug>``): replace them with the registered
ones before publishing. The package's own metadata says so.

The package is validated against the project's schema (``templates/360giving-package.schema.json``,
written from the standard's field definitions) before it is written; the tests validate it
against the official schema as well.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from importlib.resources import files
from typing import Any

import pandas as pd

from commissioning.analysis.policy import DEPARTMENTS
from commissioning.case import years as fy
from commissioning.case.model import Case
from commissioning.case.settlement import department_in, owners

STANDARD = "1.4"  # the package's version field: major.minor (the schema is 1.4.3)
SCHEMA_FILE = "360giving-package.schema.json"
# The 360Giving geoCodeType code list, by ONS code prefix (codelists/geoCodeType.csv): the types an English
# area of a case can have. E47 (combined authority) has none.
GEO_TYPES = {"E06": "UA", "E07": "NMD", "E08": "MD", "E09": "LONB", "E10": "CTY", "E12": "RGN/GOR"}
NO_CA_TYPE = ("a combined authority (ONS E47 code): the 360Giving geoCodeType code list has no type for it, "
              "so none is given")
LICENCE = "https://creativecommons.org/licenses/by/4.0/"


def slug(text: str) -> str:
    """Text as an identifier part: letters, digits and hyphens."""
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-") or "x"


def schema() -> dict:
    """The project's schema of a 360Giving package (see the module docstring)."""
    return json.loads((files("commissioning.templates") / SCHEMA_FILE).read_text(encoding="utf-8"))


def validate(package: dict) -> list[str]:
    """Every way ``package`` breaks the project's schema, in words (formats asserted); [] when valid."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or 'package'}: {e.message}"
            for e in sorted(validator.iter_errors(package), key=lambda e: list(map(str, e.absolute_path)))]


def _shares(case: Case) -> dict[tuple[str, str, str, str], list[tuple[str | None, float]]]:
    """Per provision cell (pot, area, cohort, year) that names a provider: each provider's share of
    today's money there, and the share of provision naming none (``None``: the lead body's)."""
    out: dict[tuple[str, str, str, str], dict[str | None, float]] = {}
    for p in case.provision or ():
        if p.amount > 0:
            cell = out.setdefault((p.pot_code, p.area_code, p.cohort_code, p.year), {})
            cell[p.provider or None] = cell.get(p.provider or None, 0.0) + p.amount
    return {k: [(name, a / sum(v.values())) for name, a in v.items()] for k, v in out.items()
            if any(name is not None for name in v)}


def _funder(case: Case, pot_code: str, prefix: str, year: str) -> dict:
    """The department owning the pot in ``year`` (the grant's first); one that changed hands says so."""
    first = department_in(case, pot_code, year).split("; ")[0]
    out = {"id": f"{prefix}-org-{slug(first)}", "name": DEPARTMENTS.get(first, first)}
    later = [d for start, d in owners(case, pot_code) if start is not None and d != first]
    if later:
        out["department"] = f"owned by {first}, then by {', then by '.join(later)} (departments.csv)"
    return out


def _locations(case: Case, area: str) -> list[dict]:
    a = case.area.get(area)
    out = [{"geoCode": area, "geoCodeType": GEO_TYPES.get(area[:3]), "name": a.name if a else area,
            "countryCode": "GB"}]
    if out[0]["geoCodeType"] is None:
        out[0]["description"] = "an area code of no type in the 360Giving geoCodeType code list, so none is given"
    for fp in sorted({f.footprint_code for f in case.footprints if f.area_code == area}):
        if fp.startswith("E47"):
            name = next(f.footprint_name for f in case.footprints if f.footprint_code == fp)
            out.append({"geoCode": fp, "geoCodeType": None, "name": name, "countryCode": "GB",
                        "description": NO_CA_TYPE})
    return out


def grants(case: Case, allocations: pd.DataFrame, *, prefix: str, lead_body: str, level: str, title: str,
           issued: date) -> list[dict]:
    """The grant records of a level's allocations (allocations.csv rows of that level), in case order."""
    alloc = allocations[allocations["amount"] > 0]
    shares = _shares(case)
    parts: dict[tuple[str, str, str], dict[str, float]] = {}  # (pot, area, recipient) -> sums
    cohorts: dict[tuple[str, str, str], set] = {}
    years: dict[tuple[str, str, str], set] = {}
    for r in alloc.itertuples(index=False):
        # The programme bought delivers: its provider in the cell (a pooled pot buying another's programme
        # pays that programme's provider).
        named = shares.get((r.programme, r.area_code, r.cohort_code, r.year)) or [(None, 1.0)]
        for provider, share in named:
            key = (r.pot_code, r.area_code, provider or "")
            s = parts.setdefault(key, {"amount": 0.0, "participants": 0.0, "outcomes": 0.0})
            s["amount"] += float(r.amount) * share
            s["participants"] += float(r.participants) * share
            s["outcomes"] += float(r.outcomes) * share
            cohorts.setdefault(key, set()).add(r.cohort_code)
            years.setdefault(key, set()).add(r.year)
    pot_rank = {p: i for i, p in enumerate(case.pot)}
    area_rank = {a: i for i, a in enumerate(case.area)}
    out = []
    for key in sorted(parts, key=lambda k: (pot_rank.get(k[0], 1e9), area_rank.get(k[1], 1e9), k[2])):
        pot_code, area, provider = key
        s, pot = parts[key], case.pot[pot_code]
        ys = sorted(years[key], key=fy.parse_year)
        start, end = fy.year_start(ys[0]), fy.year_end(ys[-1])
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        recipient = provider or lead_body
        area_name = case.area[area].name if area in case.area else area
        who = (f"commissioned through {provider} (named in today's provision)" if provider else
               f"held by {lead_body} to commission")
        cohort_words = ", ".join(case.cohort[c].name for c in case.cohort if c in cohorts[key])
        out.append({
            "id": f"{prefix}-{slug(pot_code)}-{slug(area)}" + (f"-{slug(provider)}" if provider else ""),
            "title": f"{pot.name}: {area_name}"[:140],
            "description": (f"Planned allocation ({level} level of the {title}, drawn by the commissioning engine; "
                            f"not yet awarded): employment and skills support for {cohort_words} in {area_name}, "
                            f"{ys[0] if len(ys) == 1 else ys[0] + ' to ' + ys[-1]}, {who}; about {s['participants']:,.0f} participants and "
                            f"{s['outcomes']:,.0f} outcomes expected."),
            "currency": "GBP",
            "amountAwarded": round(s["amount"], 2),
            "awardDate": issued.isoformat(),
            "plannedDates": [{"startDate": start.isoformat(), "endDate": end.isoformat(), "duration": months}],
            "recipientOrganization": [{"id": f"{prefix}-org-{slug(recipient)}", "name": recipient}],
            "fundingOrganization": [_funder(case, pot_code, prefix, ys[0])],
            "beneficiaryLocation": _locations(case, area),
            "grantProgramme": [{"code": pot_code, "title": pot.name}],
        })
    return out


def package(case: Case, allocations: pd.DataFrame, *, prefix: str | None = None, lead_body: str, level: str,
            title: str, issued: date | None = None) -> dict:
    """The 360Giving package: the grants and the package's metadata (see the module docstring)."""
    issued = issued or date.today()
    prefix = prefix or f"360G-commissioning-{case.fingerprint()}"
    records = grants(case, allocations, prefix=prefix, lead_body=lead_body, level=level, title=title, issued=issued)
    return {
        "grants": records,
        "version": STANDARD,
        "title": f"{case.settings.name}: planned allocations ({level} level)",
        "description": (f"The {level} level's allocations of the case '{case.settings.name}' (fingerprint "
                        f"{case.fingerprint()}), one grant per recipient, fund and area, drawn by the commissioning "
                        f"engine for the {title}. Identifiers use the prefix {prefix}: replace it and the "
                        "organisation identifiers with your registered 360Giving prefix and Organisation "
                        "Identifier Standard identifiers before publishing."),
        "issued": issued.isoformat(),
        "modified": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "identifier": f"{prefix}-{level}",
        "publisher": {"name": lead_body},
        "license": LICENCE,
    }


FLAT_COLUMNS = ["Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
                "Planned Dates:Start Date", "Planned Dates:End Date", "Planned Dates:Duration (months)",
                "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name",
                "Funding Org:Department", "Grant Programme:Code", "Grant Programme:Title"]


def flattened(pkg: dict) -> pd.DataFrame:
    """The package as one row per grant, columns named by the standard's field titles (the 360Giving
    spreadsheet form); each beneficiary location numbered (``Beneficiary Location:0:Geographic Code`` …)."""
    rows: list[dict[str, Any]] = []
    most = max((len(g["beneficiaryLocation"]) for g in pkg["grants"]), default=0)
    for g in pkg["grants"]:
        pd_, rec, fund, prog = g["plannedDates"][0], g["recipientOrganization"][0], g["fundingOrganization"][0], \
            g["grantProgramme"][0]
        row = dict(zip(FLAT_COLUMNS, [g["id"], g["title"], g["description"], g["currency"], g["amountAwarded"],
                                      g["awardDate"], pd_["startDate"], pd_["endDate"], pd_["duration"], rec["id"],
                                      rec["name"], fund["id"], fund["name"], fund.get("department"), prog["code"],
                                      prog["title"]]))
        for i, loc in enumerate(g["beneficiaryLocation"]):
            row[f"Beneficiary Location:{i}:Name"] = loc["name"]
            row[f"Beneficiary Location:{i}:Geographic Code"] = loc["geoCode"]
            row[f"Beneficiary Location:{i}:Geographic Code Type"] = loc.get("geoCodeType")
        rows.append(row)
    loc_cols = [f"Beneficiary Location:{i}:{f}" for i in range(most) for f in ("Name", "Geographic Code",
                                                                                "Geographic Code Type")]
    return pd.DataFrame(rows).reindex(columns=FLAT_COLUMNS + loc_cols)
