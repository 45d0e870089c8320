"""``get-working-annex.md``: the Get Working plan annex, in words and tables (``map --get-working``).

Lays out :class:`commissioning.analysis.annex.Annex` as Markdown a plan's authors can paste
into their document: four numbered parts, each a short paragraph and a table. Computes nothing.
"""

from __future__ import annotations

from pathlib import Path

from commissioning.analysis.annex import Annex

INTENTION_WORDS = {"grow": "grow", "reduce": "reduce", "hold": "hold", "start": "start", "stop": "stop",
                   "none": "–"}


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def _people(x: float) -> str:
    return f"{x:,.0f}"


def _share(a: float, b: float) -> str:
    return f"{a / b:.0%}" if b else "–"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def annex_lines(a: Annex) -> list[str]:
    """The annex as Markdown lines."""
    span = f"{a.years[0]} to {a.years[-1]}" if a.years else "the case's years"
    plan_words = ("the settlement level: the best plan the integrated settlement already allows" if
                  a.level == "settlement" else "the aligned level: the best plan under today's rules, coordinated")
    t = a.totals
    out = [f"# Get Working plan annex: {a.case_name}", "",
           f"Drawn by the commissioning engine from the case's need, pots and today's provision, {span}. "
           f"The plan it compares with today is {plan_words} — no ask of government is needed for it.", ""]
    if not a.provision_supplied:
        out += ["> Today's provision is not supplied (no provision.csv): every 'today' figure below is unknown, "
                "not zero.", ""]
    out += ["## 1. Provision aligned against need", "",
            f"Over {span}, {_people(t['need'])} people are in need of support; today's provision serves "
            f"{_people(t['today_people'])} ({_share(t['today_people'], t['need'])}), and the plan "
            f"{_people(t['plan_people'])} ({_share(t['plan_people'], t['need'])}).", ""]
    out += _table(["Journey stage", "Need (people)", "Served today", "Share"],
                  [[str(r.name), _people(r.need_people), _people(r.provision_people or 0.0),
                    _share(r.provision_people or 0.0, r.need_people)] for r in a.stages.itertuples(index=False)])
    out += _table(["Cohort", "Stage", "Need (people)", "Served today", "In the plan", "Share in the plan"],
                  [[r.name, str(r.stage or "–"), _people(r.need_people), _people(r.today_people),
                    _people(r.plan_people), _share(r.plan_people, r.need_people)]
                   for r in a.cohorts.itertuples(index=False)])
    out += ["## 2. Duplication and gaps", ""]
    if len(a.duplication):
        out += ["Where today's funding stacks beyond need (largest first):", ""]
        out += _table(["Where", "Amount", "Detail"],
                      [[" / ".join(str(x) for x in (r.area_code, r.cohort_code, r.year) if isinstance(x, str)),
                        _money(r.amount or 0.0), str(r.detail)] for r in a.duplication.itertuples(index=False)])
    else:
        out += ["Today's provision does not stack beyond need anywhere.", ""]
    if len(a.gaps):
        out += ["Need that today's provision leaves unmet, by reason:", ""]
        out += _table(["Reason", "Cells", "People", "Cost to close (£)"],
                      [[r.reason, _people(r.cells), _people(r.people), _money(r.amount or 0.0)]
                       for r in a.gaps.itertuples(index=False)])
        out += ["The largest gaps:", ""]
        out += _table(["Where", "People", "Why"],
                      [[f"{r.area_code} / {r.cohort_code} / {r.year}", _people(r.people or 0.0), str(r.detail)]
                       for r in a.largest_gaps.itertuples(index=False)])
    else:
        out += ["Today's provision leaves no need unmet.", ""]
    out += ["## 3. Commissioning intentions", "",
            f"What the plan implies for each fund over {span}: today's money and the plan's, and the intention "
            f"(hold: within 5% of today's). In all, {_money(t['today_money'])} today and {_money(t['plan_money'])} "
            "in the plan.", ""]
    out += _table(["Fund", "Department", "Today", "Plan", "Change", "Intention"],
                  [[f"{r.name} ({r.pot_code})", str(r.department), _money(r.today), _money(r.plan),
                    ("+" if r.change > 0 else "") + _money(r.change), INTENTION_WORDS[r.intention]]
                   for r in a.pots.itertuples(index=False)])
    out += ["## 4. Outcome indicators", "",
            f"Each cohort's headline outcome, for monitoring: {_people(t['today_outcomes'])} a term today, "
            f"{_people(t['plan_outcomes'])} in the plan.", ""]
    out += _table(["Cohort", "Indicator (outcome)", "Today", "Plan"],
                  [[r.name, str(r.outcome), _people(r.today), _people(r.plan)]
                   for r in a.indicators.itertuples(index=False)])
    return out


def write_annex(annex: Annex, path: Path) -> None:
    """Write the annex as Markdown at ``path``."""
    Path(path).write_text("\n".join(annex_lines(annex)), encoding="utf-8")
