"""The forms an agreement can take, each with its own vocabulary, parties, governance and sheets.

``commissioning agree --form`` chooses one:

* ``llma`` — a **Local Labour Market Agreement**, the LGA's *Work Local* proposal (2017, 2019):
  councils and government pool national employment-and-skills pots under a five-year
  agreement. The proposal is the ``pooled`` level. The default, as it has always been.
* ``lesa`` — a **Local Employment and Skills Agreement**, the LGA's 2024 offer: outcome-focused
  commissioning by councils with DWP (Jobcentre Plus), the skills system and employers,
  around its three offers (Youth Pathways, Working Futures, Skills for All). The proposal
  is the ``pooled`` level, in the LGA's words.
* ``integrated-settlement`` — an **Integrated Settlement** (MHCLG, *Integrated Settlement:
  policy document*, June 2025) for an established mayoral strategic authority: grants paid
  under spending themes, revenue and capital, not ring-fenced, up to 10% movable between
  themes, with an outcomes framework for each theme. The proposal is the ``settlement``
  level (what the settlement's own rules allow, with no ask of government), its pool the
  settlement's flexible pots. It adds two sheets: **Settlement**, the settlement table in
  its published layout (functional responsibility, fund, home department, allocation
  mechanism, RDEL, CDEL) year by year with the cross-theme limit, and **Outcomes
  framework**, for each theme its outcomes, indicators and yearly targets from the agreed
  allocation against today's baseline. It needs a case with settlement pots.

Sheet names, Cover labels and column headers stay the same in every form (``check`` reads
them); the Cover's *Form* line says which form the workbook is, and ``check`` reads it to
know which level's rules to hold the edited workbook to.
"""

from __future__ import annotations

from dataclasses import dataclass

LLMA, LESA, SETTLEMENT_FORM = "llma", "lesa", "integrated-settlement"


@dataclass(frozen=True)
class Form:
    """One agreement form: its words, the level it proposes and its governance template."""

    key: str
    title: str  # the document's name: the Cover's title and every page's foot
    short: str  # in running text: "this {short}"
    level: str  # the level whose allocation is the proposal
    what: str  # one sentence: what the instrument is, and whose it is
    parties_hint: str  # who the parties usually are, when the case names none
    governance: str  # the packaged governance template (templates/)


FORMS: dict[str, Form] = {f.key: f for f in (
    Form(LLMA, "Local Labour Market Agreement", "agreement", "pooled",
         "A five-year agreement between councils and government to pool national employment and skills "
         "funding locally (the LGA's Work Local proposal).",
         "the councils or combined authority, DWP, DfE (or, from April 2026, DWP for adult skills) and MHCLG",
         "governance.md"),
    Form(LESA, "Local Employment and Skills Agreement", "agreement", "pooled",
         "An outcome-focused agreement between councils, DWP (Jobcentre Plus), the skills system and employers "
         "to commission employment and skills support together (the LGA's 2024 offer: Youth Pathways, Working "
         "Futures, Skills for All).",
         "the council or combined authority, Jobcentre Plus (DWP), colleges and training providers, the "
         "integrated care board and employers' representatives",
         "governance-lesa.md"),
    Form(SETTLEMENT_FORM, "Integrated Settlement: spending plan and outcomes framework", "settlement plan",
         "settlement",
         "The authority's plan for its integrated settlement (MHCLG, Integrated Settlement policy document, "
         "June 2025): grants under spending themes, revenue and capital, not ring-fenced, with up to the stated "
         "share movable between themes, and an outcomes framework for each theme.",
         "the mayoral strategic authority and HM Government (MHCLG, with each fund's home department)",
         "governance-integrated-settlement.md"),
)}
FORM_KEYS = tuple(FORMS)


def form_of(key: str | None) -> Form:
    """The form called ``key`` (``None``: the LLMA); a ValueError names the forms for any other."""
    if key is None:
        return FORMS[LLMA]
    if key not in FORMS:
        raise ValueError(f"unknown agreement form '{key}' (expected one of {', '.join(FORM_KEYS)})")
    return FORMS[key]


def form_from_title(words: str | None) -> Form | None:
    """The form a Cover's *Form* line names (its key, as written there); None when it names none
    (the line missing, blank or edited: the caller says which form it checks by instead)."""
    text = (words or "").strip()
    for f in FORMS.values():
        if text == f.key or text.startswith(f.key + " "):
            return f
    return None
