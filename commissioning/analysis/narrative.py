"""A plain-English account of a finished run, from its results folder alone.

``commissioning explain RESULTS_DIR`` reads ``summary.json``, ``flags.csv`` and
``asks.csv`` (nothing is solved again) and tells a board: what the three levels buy,
what binds, where need goes unmet and why, what money is stranded and by which rule,
which cohorts and areas a plan stops supporting (and what keeping half of them would cost,
as measured when the run was made), what each realism rule costs (:func:`realism_lines`),
and the asks worth most.

It names what was run — ``Case 'NAME'``, or ``Scenario 'X' on case 'NAME'`` — and calls the
aligned level "today's rules" only when the scenario left them as they are
(``summary.json``'s ``scenario_applied`` and ``rules_changed``; see
:func:`commissioning.inputs.scenario.changes_rules`); a scenario that pools pots marked
``poolable = no`` is said in one sentence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from optimiser.families.need_cap import cell_of

from optimiser.families.registry import family

from commissioning.errors import CaseError, Problem
from commissioning.analysis.asks import GAIN_OF, ROUNDING, words_of
from commissioning.analysis.policy import LOCAL, department_name
from commissioning.analysis.summary import read_summary
from commissioning.case.labels import rules_words, run_label

REASON_WORDS = {
    "no_eligible_pot": "no pot may fund them at all",
    "geography": "a pot would fit but for its geography",
    "cohort": "a pot would fit but for its cohort rules",
    "timing": "a pot would fit but for its dates",
    "funding": "the eligible pots' money is spent",
    "match": "match funding cannot be found",
    "rule": "a local or national rule holds it back",
    "eligibility": "the pot may fund no cell with need while its money lasts",
    "need_met": "everything the pot may fund is already served",
}


# What each realism rule does, as a board reads it (commissioning.analysis.realism's rules).
REALISM_WORDS = {
    "contract": "keeping signed contracts until they end",
    "transition": "limiting how far funding may change from today's",
    "protect": "protecting the people served today (the protection floors)",
    "capacity": ("capping how far a programme the pool buys may grow (programme_scale, a judgement of 2× "
                 "by default, or a pot's stated capacity)"),
    "pool_areas": "keeping a pot's money in its own areas when pooled (a council's budget, by default)",
    "min_award": "making no award below a pot's minimum",
    "least_disruption": "choosing the least disruptive plan among the near-optimal ones",
}


def _read(folder: Path):
    if not folder.is_dir():
        raise CaseError(Problem(str(folder), None, None, "is not a results folder", "the --out folder of optimise"))
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseError(Problem(str(folder / "summary.json"), None, None, "is missing",
                                "a folder written by 'commissioning optimise'")) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CaseError(Problem("summary.json", None, None, f"is not valid JSON ({e})", "the file optimise wrote")) from None
    summary = read_summary(summary)
    if summary is None:
        raise CaseError(Problem("summary.json", None, None, "does not hold a run's summary (an object with levels)",
                                "the file optimise wrote"))
    frames = {}
    for name in ("flags", "asks"):
        f = folder / f"{name}.csv"
        if f.exists():
            try:
                frames[name] = pd.read_csv(f, dtype={"year": str}, keep_default_na=False, na_values=[""])
            except (pd.errors.ParserError, UnicodeDecodeError) as e:
                raise CaseError(Problem(f.name, None, None, f"cannot be read ({e})", "the file optimise wrote")) from None
        else:
            frames[name] = None
    return summary, frames["flags"], frames["asks"]


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _m(x: float) -> str:
    return f"£{x / 1e6:,.1f}m" if abs(x) >= 1e6 else f"£{x:,.0f}"


def narrate(folder: Path, top: int = 3) -> list[str]:
    """The plain-English account of a finished run folder, as lines for the terminal (``explain``)."""
    summary, flags, asks = _read(Path(folder))
    L = summary.levels
    obj = summary.objective
    case_name = summary.case.name if "name" in summary.case.model_fields_set else summary.scenario
    scenario = summary.scenario if summary.scenario_applied else None
    out = [f"{run_label(case_name, scenario)} — {summary.status}, objective: {obj}."]
    if summary.status == "time_limit":
        out.append("  Note: the figures are the best found within the time limit, not proven optimal.")
    not_poolable = summary.pool_not_poolable
    if not_poolable:
        out.append(f"  The scenario pools {', '.join(not_poolable)} although the case marks "
                   f"{'it' if len(not_poolable) == 1 else 'them'} poolable = no: the pooled level is a what-if "
                   "beyond the pots that may join a pool today.")
    out.append(f"Budget {_m(summary.budget)} against the need of {_n(summary.need_people)} people.")
    for name, label in (("baseline", "Today"),
                        ("aligned", f"Aligned under {rules_words(summary.rules_changed)}"),
                        ("settlement", "Under the integrated settlement's rules"),
                        ("pooled", "Pooled under an agreement")):
        t = L.get(name)
        if t:
            out.append(f"  {label}: {_m(t.allocated)} reaches {_n(t.participants)} people for "
                       f"{_n(t.outcomes)} outcomes ({_m(t.value)} of value); {_n(t.unmet_people)} "
                       f"people unmet, {_m(t.idle_amount)} idle.")
    d = summary.dividends
    if d:
        of_it = (f" ({_n(d['settlement']['outcomes'])} of it what the integrated settlement already allows)"
                 if "settlement" in d else "")
        out.append(f"  Coordination alone adds {_n(d['alignment']['outcomes'])} outcomes; pooling adds "
                   f"{_n(d['devolution']['outcomes'])} more{of_it}.")
        for key, words in (("alignment", "coordination"), ("devolution", "pooling")):
            x = d[key]
            if obj == "outcomes" and x["outcomes"] > 0.5 and x["value"] < -0.5:
                out.append(f"  Beware: {words} adds outcomes but loses {_m(-x['value'])} of public value — the "
                           "objective counts every outcome alike; `objective: value` weighs them by what they are worth.")
    if summary.settlement:
        st = summary.settlement
        out.append(f"  The integrated settlement adds {_n(st['dividend']['outcomes'])} outcomes over aligned "
                   f"(its themes pool, at most {st['theme_flex']:.0%} of a theme's money moves between themes)"
                   + ("; what each of its rules costs, each measured alone (they overlap):"
                      if summary.settlement_rules else "."))
        for r in summary.settlement_rules:
            words, verb = r["words"], "costs"
            for ask, gerund in (("raise ", "Raising "), ("lift ", "Lifting ")):  # an ask: what granting it buys
                if words.startswith(ask):
                    words, verb = gerund + words[len(ask):], "would buy"
            words = words[:1].upper() + words[1:]
            out.append(f"    {words} {verb} {_n(r['cost'])} {obj if obj != 'value' else '£ of value'} "
                       f"(measured; {r['department']}).")
    if summary.objective_why:
        out.append(f"  The objective is {obj} by default: {summary.objective_why}.")
    if summary.value:
        from commissioning.analysis.value import headline

        out.append("")
        out.append(f"In the Treasury's terms ({summary.value['note']}; {summary.value['price_base']} prices, "
                   f"discounted at {summary.value['discount_rate']:.1%}):")
        for level, words in (("alignment", "Coordination alone"), ("devolution", "Pooling on top")):
            line = headline(None, summary.value, level, words)
            if line:
                out.append(f"  {line}.")
        for name, label in (("baseline", "Today"), ("aligned", "Aligned"), ("pooled", "Pooled")):
            t = summary.value["levels"].get(name, {}).get("term")
            if t:
                bcr = "n/a" if t["bcr"] is None else f"{t['bcr']:.2f}"
                out.append(f"  {label}: present value of benefits {_m(t['pv_benefits'])} against costs "
                           f"{_m(t['pv_costs'])}: NPSV {_m(t['npsv'])}, benefit–cost ratio {bcr}.")
    if summary.contracts:
        signed = sum(y.contracted for y in summary.contracts.values())
        free = sum(y.free for y in summary.contracts.values())
        if signed > 0:
            out.append(f"  Signed contracts hold {_m(signed)} of the money where it is today; {_m(free)} is free "
                       "to re-commission.")
    for level, mip in summary.mixed_integer.items():
        proven = "" if mip.solver_gap is None else f", the solver's proven gap {mip.solver_gap:.2%}"
        out.append(f"  Minimum awards make the {level} level a mixed-integer programme: its plan is within "
                   f"{mip.mip_gap:.2%} of the LP relaxation's {_n(mip.lp_bound)} (the bound){proven}; "
                   f"method: {mip.method}.")
    for level, label in (("aligned", "the aligned plan"), ("settlement", "the settlement plan"),
                         ("pooled", "the pooled plan")):
        dropped = [r for r in summary.dropped if r.level == level]
        if dropped:
            out.append("")
            out.append(f"Who {label} stops supporting (no protection floor set; more than half of the people "
                       "supported today gone over the term):")
            out.extend(f"  - {r.words}" for r in dropped)

    out.extend(realism_lines(summary))

    binding = [b for b in summary.binding if b.level == "aligned"]
    if binding:
        out.append("")
        out.append("What binds (aligned level):")
        how = {b.family: family(b.family).narrate for b in binding}  # each family says how it is told
        budgets = sorted((b for b in binding if how[b.family] == "price"), key=lambda b: -b.shadow_price)
        for b in budgets[:5]:
            out.append(f"  - {b.words}: each extra £1m would buy {b.shadow_price:,.0f} {obj}.")
        others = [b for b in binding if how[b.family] == "other"]
        for b in others[:5]:
            out.append(f"  - {b.words}.")
        caps = [b for b in binding if how[b.family] == "cap"]
        if caps:
            out.append(f"  - {len(caps)} cells have their need fully met, e.g. {cell_of(caps[0].words)}.")

    if flags is not None and len(flags):
        opt = flags[(flags["stage"] == "optimise") & (flags["level"] == "aligned")]
        gaps = opt[opt["kind"] == "gap"]
        if len(gaps):
            out.append("")
            out.append(f"Where need goes unmet (aligned): {_n(gaps['people'].sum())} people in {len(gaps)} cells.")
            by = gaps.groupby("reason")["people"].agg(["sum", "count"]).sort_values("sum", ascending=False)
            for reason, r in by.iterrows():
                out.append(f"  - {_n(r['sum'])} people in {int(r['count'])} cells because "
                           f"{REASON_WORDS.get(reason, reason)}.")
        idle = opt[opt["kind"] == "idle"]
        if len(idle):
            out.append("")
            out.append(f"Money stranded (aligned): {_m(idle['amount'].sum())}.")
            for r in idle.sort_values("amount", ascending=False).head(5).itertuples(index=False):
                out.append(f"  - {_m(r.amount)} of {r.pot_code} {r.year}: {REASON_WORDS.get(r.reason, r.reason)}.")
        dup = flags[(flags["stage"] == "map") & (flags["kind"] == "duplication")]
        if len(dup):
            out.append("")
            out.append(f"Duplication today: {_n(dup['people'].sum())} people's worth of provision "
                       f"({_m(dup['amount'].sum())}) stacked beyond need in {len(dup)} cells.")

    if asks is not None and len(asks):
        out.extend(ask_lines(asks, obj, top))
    if summary.package is not None:
        out.extend(package_lines(summary.package, obj))
    if summary.unique_plan is False:
        out.append("")
        out.append("At this size the engine does not fix one plan among equally good ones (that costs minutes "
                   "per solve here): the figures are exact, but which of several equally good allocations is "
                   "shown is the solver's choice, and another solver could show another.")
    broken = summary.rules_broken_today
    if broken:
        out.append("")
        out.append(f"Today's provision breaks {len(broken)} rule instance(s) that the aligned and pooled plans "
                   "honour, so part of the alignment dividend is the cost of honouring them:")
        out.extend(f"  - {b.detail}" for b in broken[:5])
        if len(broken) > 5:
            out.append(f"  … and {len(broken) - 5} more (flags.csv, kind breach).")
    for level, said in summary.rules_skipped.items():
        out.append("")
        out.append(f"Rules not applied at the {level} level (a pot may fund nothing in their scope):")
        out.extend(f"  - {w}" for w in said[:5])
    skipped = summary.asks_not_measured
    if skipped:
        out.append("")
        n = len(skipped)
        out.append(f"Not measured at this size ({n} pool-join ask{'s' if n != 1 else ''}, each a re-solve of the "
                   "whole pooled model): estimated from shadow prices only —")
        for r in skipped[:top]:
            out.append(f"  - {r.detail}.")
        out.append("  Measure them with: commissioning optimise … --pool-join-asks N")
    return out


def _ask_text(r: dict) -> str:
    """An ask's words without its department (the heading names it), from asks.csv or the package."""
    text = r.get("ask") if isinstance(r.get("ask"), str) and r.get("ask") else words_of(str(r.get("detail", "")))
    head, sep, rest = text.partition(": ")
    return (rest[:1].upper() + rest[1:]) if sep and len(head) < 80 else text


def ask_lines(asks: pd.DataFrame, obj: str, top: int) -> list[str]:
    """The measured asks grouped by the department that would grant them (at most ``top`` each),
    with what each was measured against, its doubtful assumptions and who receives less."""
    rows = asks.to_dict("records")
    against = sorted({str(r.get("measured_against")) for r in rows if isinstance(r.get("measured_against"), str)})
    basis = ("Each is measured alone, by solving again, against the aligned level (today's rules, coordinated)"
             if against in ([], ["aligned"]) else
             "Each is measured alone, by solving again: pool joins against the pooled level, the rest against "
             "the aligned level (today's rules, coordinated)")
    out = ["", f"Asks, by the department that would grant them. {basis}; they overlap and do not add up "
               "(the package below does):"]
    departments = list(dict.fromkeys(str(r.get("department")) if isinstance(r.get("department"), str) else ""
                                     for r in rows))
    order = sorted(departments, key=lambda d: (d in (LOCAL, ""), ";" in d, d.lower()))
    for dept in order:
        mine = [r for r in rows if (r.get("department") if isinstance(r.get("department"), str) else "") == dept]
        out.append(f"  {department_name(dept) if dept else 'Department not recorded'}:")
        for r in mine[:top]:
            per = f", {r['gain_per_million']:,.0f} per £1m moved" if pd.notna(r.get("gain_per_million")) else ""
            gain = r["gain"] if pd.notna(r.get("gain")) else r["gain_outcomes"]
            out.append(f"    {int(r['rank'])}. {_ask_text(r)} — +{gain:,.0f} {obj}{per}.")
            if isinstance(r.get("warning"), str) and r["warning"]:
                out.append(f"       {r['warning']}.")
            if isinstance(r.get("receives_less"), str) and r["receives_less"]:
                who = "; ".join(r["receives_less"].split("; ")[:2])
                out.append(f"       Receives less: {who}.")
        if len(mine) > top:
            out.append(f"    … and {len(mine) - top} more (asks.csv).")
    return out


def package_lines(package, obj: str) -> list[str]:
    """The package in words (``summary.json``'s ``package``)."""
    if not package.steps:
        return ["", f"No package: {package.stopped}."]
    out = ["", f"The package (asks taken one at a time, each measured given those before it, against the "
               f"{package.measured_against} level; it stops when the next would add under {package.share:.0%}):"]
    for st in package.steps:
        alone = "" if abs(st["alone_gain"] - st["marginal_gain"]) < 0.5 else f" (alone +{st['alone_gain']:,.0f})"
        out.append(f"  {st['step']}. {st['ask']} — +{st['marginal_gain']:,.0f}{alone}; "
                   f"package so far +{st['cumulative_gain']:,.0f} {obj}.")
    total = package.total.get("gain", 0.0)
    if abs(total - package.sum_of_gains_alone) < 0.5:
        out.append(f"  Together +{total:,.0f} {obj}, measured by one solve with every step at once: the same as "
                   "their gains alone added up (they do not overlap).")
    else:
        out.append(f"  Together +{total:,.0f} {obj}, measured by one solve with every step at once — not "
                   f"+{package.sum_of_gains_alone:,.0f}, their gains alone added up.")
    for o in package.overlaps:
        out.append(f"  Overlap: {o['words']}.")
    out.append(f"  Stopped: {package.stopped}.")
    if package.left_out:
        out.append(f"  Left out: {package.left_out}.")
    return out


def realism_lines(summary) -> list[str]:
    """The price of realism in words (``summary.json``'s ``realism``): each rule that costs
    anything, with its cost at each level and as a share of what the level buys without it,
    then one line naming those that cost nothing (below a hundredth of an outcome or person,
    or £1 of value: rounding)."""
    if summary.realism_not_measured:
        return ["", f"What realism costs was not measured: {summary.realism_not_measured}."]
    rows = summary.realism
    if not rows:
        return []
    obj = summary.objective
    unit = {"outcomes": "outcomes", "value": "of value", "coverage": "participants"}.get(obj, obj)
    zero = ROUNDING[GAIN_OF.get(obj, "outcomes")]

    def amount(x: float) -> str:
        if obj == "value":
            return f"{_m(x)} {unit}"
        return f"{x:,.1f} {unit}" if abs(x) < 10 else f"{_n(x)} {unit}"

    rules = list(dict.fromkeys(r.rule for r in rows))
    costly, free, unmeasured = [], [], []
    for rule in rules:
        mine = [r for r in rows if r.rule == rule]
        words = REALISM_WORDS.get(rule, mine[0].note or rule)
        paid = [r for r in mine if r.cost is not None and r.cost >= zero]
        if any(r.cost is None for r in mine):
            unmeasured.append(f"{words} ({', '.join(r.level for r in mine if r.cost is None)}: "
                              f"{next(r.note for r in mine if r.cost is None)})")
        if paid:
            parts = [f"{amount(r.cost) if i == 0 else amount(r.cost).removesuffix(' ' + unit)} at the {r.level} "
                     f"level ({r.cost_share:.1%})" for i, r in enumerate(paid)]
            nothing = [r.level for r in mine if r.cost is not None and r.cost < zero]
            if nothing:
                parts.append(f"nothing at the {' or '.join(nothing)} level")
            costly.append((max(r.cost for r in paid), f"  - {words[:1].upper()}{words[1:]} costs {' and '.join(parts)}."))
        elif not any(r.cost is None for r in mine):
            free.append(words)
    out = ["", "What realism costs (each rule measured by solving again without it; the share is of what the plan "
           "would buy without it; the costs overlap and do not add up):"]
    out.extend(line for _, line in sorted(costly, key=lambda c: -c[0]))
    if free:
        out.append(f"  - Cost nothing here: {'; '.join(free)}.")
    if unmeasured:
        out.append(f"  - Could not be measured: {'; '.join(unmeasured)}.")
    return out
