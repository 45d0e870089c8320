"""What a Local Labour Market Agreement is drawn from, gathered in one object.

An agreement is written from one optimisation of a case (optionally with a scenario):
the ``pooled`` allocation is its proposal, the three levels and the dividends its
headline, the flags its register of duplication and gaps, the measured asks its
flexibilities, the dropped cohorts and areas (with what protecting each costs) its warning. :class:`AgreementInputs` holds exactly that, built either

* from a fresh run and its explanation (:meth:`AgreementInputs.from_run`), or
* from the results folder of an earlier ``optimise`` (:meth:`AgreementInputs.from_results`),
  after checking that its fingerprint is the case's — a folder computed from other
  inputs is refused, so an agreement never mixes one case's numbers with another's text.

Also here: the agreement's term and parties from the case's settings, the governance text
from the editable template ``templates/governance.md`` with the case's values filled in.
Each ask's words, department and package come from :mod:`commissioning.analysis.policy` and
:mod:`commissioning.analysis.package` through the run (``asks.csv``, ``summary.json``).
"""

from __future__ import annotations

import csv
import json
import os
import re
import string
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from commissioning.analysis.summary import DroppedRecord, PackageRecord, RealismRecord, read_summary
from commissioning.case import years as fy
from commissioning.errors import CaseError, Problem
from commissioning.case.model import Case
from commissioning.case.settlement import flexible_pots, themes
from commissioning.analysis.forms import LLMA, Form, form_of

POOLED_COLUMNS = ["pot_code", "area_code", "cohort_code", "year", "programme", "amount", "participants",
                  "outcomes", "value", "unit_cost", "outcome_rate"]
LEVEL_NAMES = ("baseline", "aligned", "pooled")
METRICS = ("allocated", "participants", "outcomes", "value", "unmet_people", "idle_amount")


@dataclass
class AgreementInputs:
    """What an agreement is drawn from: the case, how it was solved, the pooled proposal (one row
    per allocation, in £ and people), each level's totals, the dividends, the flags and the asks."""

    case: Case
    scenario: str
    status: str
    solver: str
    objective: str
    pool: frozenset[str]
    pooled: pd.DataFrame  # POOLED_COLUMNS: the proposal, one row per allocation
    levels: dict[str, dict[str, float]]  # level -> METRICS
    dividends: dict[str, dict[str, float]]
    flags: pd.DataFrame | None = None
    asks: pd.DataFrame | None = None
    drafted: date | None = None
    source: str = ""  # where the numbers came from, in words
    # Cohorts and areas a level stops supporting, with the measured cost of protecting each
    # (summary.json's ``dropped``); None when the run did not look (an older results folder).
    dropped: list[DroppedRecord] | None = None
    # What each realism rule costs each level (summary.json's ``realism``); None: not looked at.
    realism: list[RealismRecord] | None = None
    # The asks' package (summary.json's ``package``); None: the asks were not measured.
    package: PackageRecord | None = None
    form: str = LLMA  # the agreement's form (commissioning.analysis.forms): llma, lesa, integrated-settlement
    # Today's allocation (the baseline level's rows, POOLED_COLUMNS), for the outcomes framework; None: not kept.
    baseline: pd.DataFrame | None = None

    @property
    def shape(self) -> Form:
        """The agreement's :class:`~commissioning.analysis.forms.Form`."""
        return form_of(self.form)

    @property
    def level(self) -> str:
        """The level whose allocation is the proposal: ``pooled``, or ``settlement`` for an integrated settlement."""
        return self.shape.level

    @property
    def level_names(self) -> tuple[str, ...]:
        """The levels the run has, in order (settlement only in a settlement case)."""
        return tuple(n for n in ("baseline", "aligned", "settlement", "pooled") if n in self.levels)

    # ---- built from ----------------------------------------------------------------------
    @classmethod
    def from_run(cls, run, explanation=None, form: str = LLMA) -> "AgreementInputs":
        """From a :class:`~optimiser.levels.RunResult` (and its explanation, when there is one), in ``form``."""
        level = _proposed_level(form, run.levels)
        pooled = run.levels[level].allocations.reindex(columns=POOLED_COLUMNS).reset_index(drop=True)
        base = run.levels["baseline"].allocations.reindex(columns=POOLED_COLUMNS).reset_index(drop=True)
        flags = asks = None
        if explanation is not None:
            flags, asks = explanation.flags, explanation.asks
        else:
            from commissioning.analysis.mapping import provision_map

            flags = provision_map(run.case).flags_frame
        return cls(run.case, run.scenario, run.status, run.solver, run.objective,
                   frozenset(run.levels[level].pool), pooled,
                   {n: {k: float(run.levels[n].totals[k]) for k in METRICS} for n in run.level_names},
                   run.dividends(), flags, asks, drafting_date(), "optimised for this agreement",
                   form=form, baseline=base,
                   dropped=None if explanation is None else
                   [DroppedRecord(**d.record()) for d in getattr(explanation, "dropped", [])],
                   realism=None if explanation is None else
                   [RealismRecord(**{k: r.get(k) for k in RealismRecord.model_fields})
                    for r in getattr(explanation, "realism", [])],
                   package=None if getattr(explanation, "package", None) is None else
                   PackageRecord(**explanation.package.as_json()))

    @classmethod
    def from_results(cls, folder: Path, case: Case, form: str = LLMA) -> "AgreementInputs":
        """From an ``optimise`` results folder, in ``form``; refuses one computed from other inputs."""
        record, alloc = read_results(folder, case)
        folder = Path(folder)
        level = _proposed_level(form, {n: None for n in record.levels})
        pooled = alloc[alloc["level"] == level].reindex(columns=POOLED_COLUMNS).reset_index(drop=True)
        base = alloc[alloc["level"] == "baseline"].reindex(columns=POOLED_COLUMNS).reset_index(drop=True)
        for frame in (pooled, base):
            for c in ("amount", "participants", "outcomes", "value", "unit_cost", "outcome_rate"):
                frame[c] = pd.to_numeric(frame[c], errors="coerce")
        flags_path, asks_path = folder / "flags.csv", folder / "asks.csv"
        if flags_path.exists():
            flags = _read_csv(flags_path)
            for c in ("people", "amount"):
                if c in flags.columns:
                    flags[c] = pd.to_numeric(flags[c], errors="coerce")
        else:
            from commissioning.analysis.mapping import provision_map

            flags = provision_map(case).flags_frame
        asks = None
        if asks_path.exists():
            asks = _read_csv(asks_path)
            for c in ("rank", "gain", "gain_outcomes", "gain_participants", "gain_value", "gain_per_million",
                      "estimated_gain", "parts", "loses_participants", "loses_outcomes"):
                if c in asks.columns:
                    asks[c] = pd.to_numeric(asks[c], errors="coerce")
        try:
            # baseline, aligned and pooled are every run's (a KeyError: not a run's summary); settlement a settlement case's
            names = [n for n in ("baseline", "aligned", "settlement", "pooled") if n in LEVEL_NAMES or n in record.levels]
            levels = {n: {k: float(getattr(record.levels[n], k)) for k in METRICS} for n in names}
            dividends = {d: {k: float(v) for k, v in record.dividends[d].items()}
                         for d in ("alignment", "devolution", "settlement") if d != "settlement" or d in record.dividends}
        except KeyError:
            raise CaseError(Problem("summary.json", None, None, "lacks the levels or dividends",
                                    "the summary.json that optimise wrote")) from None
        objective = record.objective if "objective" in record.model_fields_set else case.settings.objective
        pool = frozenset(record.pool) if level == "pooled" else flexible_pots(case)
        return cls(case, str(record.scenario or case.scenario or case.settings.name),
                   record.status, record.solver, objective,
                   pool, pooled, levels, dividends, flags, asks, drafting_date(),
                   f"reused from the results folder {folder.name}", form=form, baseline=base,
                   dropped=list(record.dropped) if "dropped" in record.model_fields_set else None,
                   realism=list(record.realism) if "realism" in record.model_fields_set else None,
                   package=record.package)

    # ---- the agreement's facts -------------------------------------------------------------
    @property
    def name(self) -> str:
        """The case's name."""
        return self.case.settings.name

    @property
    def parties(self) -> tuple[str, ...]:
        """The parties to the agreement: the case's ``parties``, else its lead body alone, else none."""
        s = self.case.settings
        if s.parties:
            return tuple(s.parties)
        return (s.lead_body,) if s.lead_body else ()

    @property
    def lead_body(self) -> str:
        """The lead body: the case's ``lead_body``, else the first party, else words saying it is not named."""
        return lead_body_of(self.case)

    @property
    def term_years(self) -> int:
        """How many financial years the agreement runs for (the case's ``term_years``)."""
        return int(self.case.settings.term_years)

    @property
    def start_year(self) -> str:
        """The first financial year: the case's ``start_year``, else its first year, else the
        year of the drafting date (today when there is none)."""
        s = self.case.settings.start_year
        if s:
            return s
        return self.case.years[0] if self.case.years else fy.year_of(self.drafted or date.today())

    @property
    def agreement_years(self) -> list[str]:
        """The financial years of the term, from the start year (at least one)."""
        return [fy.shift(self.start_year, k) for k in range(max(self.term_years, 1))]

    @property
    def end_year(self) -> str:
        """The last financial year of the term."""
        return self.agreement_years[-1]

    @property
    def pool_codes(self) -> list[str]:
        """The codes of the pooled pots, in the case's pot order."""
        return [p for p in self.case.pot if p in self.pool]

    def pooled_budget(self) -> float:
        """The budgets of the pooled pots, summed over every year (£)."""
        return float(sum(b.amount for b in self.case.budgets if b.pot_code in self.pool))

    def ring_fenced_budget(self) -> float:
        """In the integrated-settlement form, the budgets of the settlement's funds outside its pool
        (ring-fenced), summed over every year (£): with :meth:`pooled_budget`, the Settlement sheet's
        total, so the two figures reconcile. 0 in the other forms."""
        if self.level != "settlement":
            return 0.0
        return float(sum(b.amount for b in self.case.budgets
                         if b.pot_code not in self.pool and self.case.pot[b.pot_code].settlement))

    @property
    def budget_label(self) -> str:
        """What :meth:`pooled_budget` is called on the Summary sheet (its label column holds ~32
        characters: longer labels were cut off in print)."""
        return "Flexible settlement funds (£)" if self.level == "settlement" else \
            "Pooled budget over the term (£)"


def lead_body_of(case: Case) -> str:
    """The lead body: the case's ``lead_body``, else its first party, else words saying it is not named."""
    s = case.settings
    return s.lead_body or (s.parties[0] if s.parties else "the lead body (not named in the case)")


def read_results(folder: Path, case: Case) -> tuple[Any, pd.DataFrame]:
    """An ``optimise`` results folder's summary (a :class:`~commissioning.analysis.summary.Summary`) and
    allocations.csv; a CaseError when it is not one, or was computed from other inputs than ``case``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CaseError(Problem(str(folder), None, None, "is not a results folder",
                                "the --out folder of 'commissioning optimise'"))
    record = read_summary(_read_json(folder / "summary.json"))
    if record is None:
        raise CaseError(Problem("summary.json", None, None, "lacks the levels or dividends",
                                "the summary.json that optimise wrote"))
    found = record.case.fingerprint
    if found != case.fingerprint():
        raise CaseError(Problem(str(folder / "summary.json"), None, "case.fingerprint",
                                f"the results were computed from other inputs (fingerprint {found or 'missing'}, "
                                f"this case {case.fingerprint()})",
                                "results of this case and scenario: run 'commissioning optimise' again "
                                "(or, for agree, leave out --from)"))
    alloc = _read_csv(folder / "allocations.csv")
    missing = [c for c in ["level", *POOLED_COLUMNS] if c not in alloc.columns]
    if missing:
        raise CaseError(Problem("allocations.csv", 1, None, f"lacks the column(s) {', '.join(missing)}",
                                "the allocations.csv that optimise wrote"))
    return record, alloc


def _proposed_level(form: str, levels) -> str:
    """The level ``form`` proposes; an integrated settlement needs a case with settlement pots."""
    level = form_of(form).level
    if level not in levels:
        raise CaseError(Problem("pots", None, "settlement",
                                f"the {form} form proposes the settlement level, but no pot of the case is in a "
                                "settlement", "settlement = yes on the pots paid inside the integrated "
                                "settlement (with their theme), or another --form"))
    return level


def drafting_date() -> date:
    """Today, or the date of ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
    return date.today()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseError(Problem(str(path), None, None, "is missing", "a folder written by 'commissioning optimise'")) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CaseError(Problem(path.name, None, None, f"is not valid JSON ({e})", "the file optimise wrote")) from None
    if not isinstance(data, dict):
        raise CaseError(Problem(path.name, None, None, "is not a JSON object", "the file optimise wrote"))
    return data


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV the engine wrote, with its formula-escaping apostrophes undone (text stays text)."""
    from commissioning.inputs.readers import _unescaped

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise CaseError(Problem(str(path), None, None, "is missing", "a folder written by 'commissioning optimise'")) from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise CaseError(Problem(path.name, None, None, f"cannot be read ({e})", "the file optimise wrote")) from None
    if not rows:
        raise CaseError(Problem(path.name, None, None, "is empty", "the file optimise wrote"))
    header, body = rows[0], rows[1:]
    frame = pd.DataFrame([[(_unescaped(c) if c != "" else None) for c in r] for r in body], columns=header)
    return frame


# ---- governance ------------------------------------------------------------------------------------
GOVERNANCE_TEMPLATE = "governance.md"


class _Blanks(dict):
    """Unknown placeholders stay as written, so an edited template never fails to format."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def governance_values(inputs: AgreementInputs) -> dict[str, str]:
    """The values a governance template may use, each as text."""
    parties = inputs.parties
    case = inputs.case
    return {
        "name": inputs.name,
        "lead_body": inputs.lead_body,
        "parties": "; ".join(parties) if parties else "the parties (not named in the case)",
        "parties_list": "\n".join(f"- {p}" for p in parties) if parties else "- (the case names no parties)",
        "party_count": str(len(parties)),
        "term_years": str(inputs.term_years),
        "start_year": inputs.start_year,
        "end_year": inputs.end_year,
        "review_years": ", ".join(inputs.agreement_years),
        "midpoint_year": inputs.agreement_years[len(inputs.agreement_years) // 2],
        "pool_pots": "; ".join(f"{case.pot[p].name} ({p})" for p in inputs.pool_codes) or "none",
        "pooled_budget": f"£{inputs.pooled_budget():,.0f}",
        "scenario": inputs.scenario,
        "fingerprint": case.fingerprint(),
        "title": inputs.shape.title,
        "theme_flex": f"{case.settings.settlement.theme_flex:.0%}",
        "themes": "; ".join(themes(case)) or "none",
    }


def governance_lines(inputs: AgreementInputs, template: Path | None = None) -> list[str]:
    """The governance text, one line per row, from ``template`` (default: the shipped one).

    ``<!-- … -->`` notes for the template's editors are left out. Placeholders such as
    ``{lead_body}`` take the case's values (:func:`governance_values`);
    an unknown placeholder stays as written, and a template that cannot be formatted at all
    (an unbalanced brace) is shown as written rather than refused.
    """
    text = re.sub(r"<!--.*?-->\n?", "", read_governance_template(template, inputs.form), flags=re.S)
    try:
        text = string.Formatter().vformat(text, (), _Blanks(governance_values(inputs)))
    except (ValueError, IndexError, KeyError, AttributeError):
        pass
    return text.splitlines()


def read_governance_template(template: Path | None = None, form: str = LLMA) -> str:
    """The governance text: the file ``template`` when given (CaseError when it cannot be read),
    else the shipped template of the agreement's ``form`` (``templates/governance.md`` for an LLMA)."""
    if template is not None:
        try:
            return Path(template).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise CaseError(Problem(str(template), None, None, f"cannot be read ({e})",
                                    "a UTF-8 text file like templates/governance.md")) from None
    from importlib.resources import files

    return (files("commissioning.templates") / form_of(form).governance).read_text(encoding="utf-8")
