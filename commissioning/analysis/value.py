"""Value for money in the board's form: net additional outcomes by type, fiscal, economic and
social benefit, present values, NPSV and the benefit–cost ratio, per level, pot and year.

The arithmetic is :mod:`commissioning.case.value`'s convention (stated there and in
``docs/outputs.md``); this module only adds it up. ``value.csv`` has one row per level (and
per dividend: ``alignment`` = aligned − baseline, ``devolution`` = pooled − aligned), pot
(empty: every pot), year and outcome (empty: every outcome):

* ``year`` is the year a benefit *accrues* (a benefit persisting past the term has rows for
  the years after it); ``gross_outcomes`` and ``net_outcomes`` are counted in the year they
  are achieved; an empty ``year`` is the whole, term and persistence together;
* ``fiscal``, ``economic``, ``social`` are undiscounted £ in the price base accruing that
  year; ``pv_benefits`` their discounted sum; ``pv_costs`` the spend, uplifted for optimism
  bias and discounted; ``npsv`` = pv_benefits − pv_costs; ``bcr`` = pv_benefits ÷ pv_costs
  (empty where there are no costs: on a row of one outcome, or a year after the term).

Decisions where the issue is silent: costs are not split by outcome; the figures are
unweighted (distributional weights shape the objective only); "a year" in the headline is
the undiscounted total over the persistence divided by the number of the case's years.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from commissioning.case import years as fy
from commissioning.case.model import Case

VALUE_COLUMNS = ["level", "pot_code", "year", "outcome", "gross_outcomes", "net_outcomes", "fiscal", "economic",
                 "social", "pv_benefits", "pv_costs", "npsv", "bcr"]
LEVELS = ("baseline", "aligned", "pooled")
DIVIDENDS = {"alignment": ("aligned", "baseline"), "devolution": ("pooled", "aligned")}
_SUMS = ["gross_outcomes", "net_outcomes", "fiscal", "economic", "social", "pv_benefits", "pv_costs"]


def _streams(case: Case, alloc: pd.DataFrame) -> pd.DataFrame:
    """pot_code, year, outcome and the additive figures, one row per benefit-year (and cost-year)."""
    v = case.valuation
    prog = alloc["programme"].where(alloc["programme"].notna(), alloc["pot_code"]) if len(alloc) else alloc["pot_code"]
    groups = (alloc.assign(programme=prog).groupby(["pot_code", "programme", "cohort_code", "year"], sort=False)
              [["participants", "amount"]].sum().reset_index())
    rows: list[tuple] = []
    uplift = 1.0 + case.settings.optimism_bias
    for g in groups.itertuples(index=False):
        t = v.t(g.year)
        rows.append((g.pot_code, g.year, None, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, g.amount * uplift * v.discount(t)))
        for o in v.types(g.programme, g.cohort_code):
            gross = g.participants * o.rate
            net = gross * o.net
            for k in range(o.persistence):
                d = v.discount(t + k)
                f, e, s = net * o.fiscal, net * o.economic, net * o.social
                rows.append((g.pot_code, fy.shift(g.year, k), o.outcome, gross if k == 0 else 0.0,
                             net if k == 0 else 0.0, f, e, s, (f + e + s) * d, 0.0))
    return pd.DataFrame(rows, columns=["pot_code", "year", "outcome"] + _SUMS)


def _totals(streams: pd.DataFrame, case: Case) -> pd.DataFrame:
    """Every pot (and "" for all), year (and "" for the whole), outcome (and "" for all) summed."""
    s = streams.assign(outcome=streams["outcome"].fillna(""))
    parts = []
    for by_pot in (False, True):
        for by_year in (False, True):
            for by_outcome in (False, True):
                keys = [k for k, on in (("pot_code", by_pot), ("year", by_year), ("outcome", by_outcome)) if on]
                frame = s[s["outcome"] != ""] if by_outcome else s
                if keys:
                    g = frame.groupby(keys, sort=False)[_SUMS].sum().reset_index()
                else:
                    g = frame[_SUMS].sum().to_frame().T
                for k, on in (("pot_code", by_pot), ("year", by_year), ("outcome", by_outcome)):
                    if not on:
                        g[k] = ""
                if by_outcome:
                    g["pv_costs"] = np.nan
                parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    return _ratios(out)


def _ratios(out: pd.DataFrame) -> pd.DataFrame:
    out = out.copy()
    out["npsv"] = out["pv_benefits"] - out["pv_costs"]
    costs = out["pv_costs"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["bcr"] = np.where(np.abs(costs) > 0.005, out["pv_benefits"].to_numpy(dtype=float) / costs, np.nan)
    return out


def value_frame(case: Case, allocations: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``value.csv``: each level's figures, then each dividend's (see the module docstring)."""
    if not case.valuation.valued:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    years = {y: i for i, y in enumerate(sorted({*case.years}))}
    per_level = {name: _totals(_streams(case, allocations[name]), case).assign(level=name)
                 for name in LEVELS if name in allocations}
    frames = list(per_level.values())
    keys = ["pot_code", "year", "outcome"]
    for name, (a, b) in DIVIDENDS.items():
        if a not in per_level or b not in per_level:
            continue
        m = per_level[a].merge(per_level[b], on=keys, how="outer", suffixes=("", "_b"))
        for col in _SUMS:
            m[col] = m[col].fillna(0.0) - m[col + "_b"].fillna(0.0)
        m.loc[m["outcome"] != "", "pv_costs"] = np.nan
        frames.append(_ratios(m[keys + _SUMS]).assign(level=name))
    out = pd.concat(frames, ignore_index=True)
    order = {p: i for i, p in enumerate(["", *case.pot])}
    out["_p"] = out["pot_code"].map(order).fillna(len(order))
    out["_y"] = out["year"].map(lambda y: -1 if y == "" else years.get(y, fy.parse_year(y)))
    out["_l"] = out["level"].map({n: i for i, n in enumerate([*LEVELS, *DIVIDENDS])})
    out = out.sort_values(["_l", "_p", "_y", "outcome"], kind="stable")
    return out[VALUE_COLUMNS].reset_index(drop=True)


def run_value_frame(run) -> pd.DataFrame:
    """:func:`value_frame` of a run's levels, worked out once per run (the CLI, ``summary.json``,
    ``value.csv`` and the results workbook all read it)."""
    kept = run.__dict__.get("_value_frame")
    if kept is None:
        kept = value_frame(run.case, {n: lv.allocations for n, lv in run.levels.items()})
        run.__dict__["_value_frame"] = kept
    return kept


def _number(x: float, column: str = "") -> float | None:
    """Pence for money and outcomes (to the penny, as the agreement shows them); six places for a ratio."""
    return None if x != x else round(float(x), 6 if column == "bcr" else 2)


def value_record(case: Case, frame: pd.DataFrame) -> dict[str, Any]:
    """``summary.json``'s ``value``: the convention's settings, then per level and dividend the whole
    (``term``), net additional outcomes by type, the headline a year and the figures by year."""
    v = case.valuation
    n_years = max(1, len(case.years))
    record: dict[str, Any] = {
        "price_base": v.price_base, "discount_rate": case.settings.discount_rate,
        "optimism_bias": case.settings.optimism_bias, "additionality": "gross" if v.gross else "net",
        "note": ("no outcome states deadweight or displacement: the figures are gross, not net additional"
                 if v.gross else "net additional: gross × (1 − deadweight) × (1 − displacement)"),
        "levels": {},
    }
    total = frame[frame["pot_code"] == ""]
    for level, rows in total.groupby("level", sort=False):
        whole = rows[(rows["year"] == "") & (rows["outcome"] == "")].iloc[0]
        by_type = rows[(rows["year"] == "") & (rows["outcome"] != "")]
        by_year = rows[(rows["year"] != "") & (rows["outcome"] == "")]
        record["levels"][level] = {
            "term": {c: _number(whole[c], c) for c in VALUE_COLUMNS[4:]},
            "net_outcomes": {o: _number(x) for o, x in zip(by_type["outcome"], by_type["net_outcomes"])},
            "a_year": {"net_outcomes": {o: _number(x / n_years) for o, x in zip(by_type["outcome"],
                                                                                by_type["net_outcomes"])},
                       **{c: _number(whole[c] / n_years) for c in ("fiscal", "economic", "social")}},
            "years": {y: {c: _number(r[c], c) for c in VALUE_COLUMNS[4:]} for y, r in
                      zip(by_year["year"], by_year.to_dict("records"))},
        }
    return record


def signed_money(x: float) -> str:
    """+£1,234 or −£1,234; +£34.4m from a million up (the board's form)."""
    sign = "+" if round(x) >= 0 else "−"
    return f"{sign}£{abs(x) / 1e6:,.1f}m" if abs(x) >= 1e6 else f"{sign}£{abs(x):,.0f}"


HEADLINE_TYPES = 5  # the outcome types a headline names (the largest changes); value.csv has every one


def headline(case: Case | None, record: dict[str, Any], level: str = "alignment", words: str = "coordination alone") -> str:
    """The board's sentence: "coordination alone: N more job entries a year, …, £X fiscal and £Y
    economic benefit a year" (from :func:`value_record`)."""
    lv = record["levels"].get(level)
    if lv is None:
        return ""
    a = lv["a_year"]
    moved = [(o, x) for o, x in sorted(a["net_outcomes"].items(), key=lambda kv: -abs(kv[1] or 0))
             if x is not None and abs(x) >= 0.5]
    counts = ", ".join(f"{x:+,.0f} {o}" for o, x in moved[:HEADLINE_TYPES])
    if len(moved) > HEADLINE_TYPES:
        counts += f" and {len(moved) - HEADLINE_TYPES} more outcome types"
    money = (f"{signed_money(a['fiscal'])} fiscal, {signed_money(a['economic'])} economic and "
             f"{signed_money(a['social'])} social benefit")
    kind = "net additional" if record["additionality"] == "net" else "gross"
    return (f"{words}: {counts or 'no change in outcomes'} a year ({kind}), {money} a year "
            f"({record['price_base']} prices); net present social value {signed_money(lv['term']['npsv'])} over the term")


# ---- the agreement's Value for money sheet: the same arithmetic, row by row ----------------------
def outcome_types(case: Case, programmes_by_cohort: dict[str, list[str]]) -> pd.DataFrame:
    """One row per cohort and outcome as the sheet lists them: the outcomes table's row (or the
    cohort's headline outcome), its base rate, values as stated, price year, uprating and net share."""
    v = case.valuation
    stated = {(o.cohort_code, o.outcome): o for o in case.outcomes}
    rows = []
    for c in case.cohorts:
        if c.code not in programmes_by_cohort:
            continue
        if any(k[0] == c.code for k in stated):
            for o in (o for o in case.outcomes if o.cohort_code == c.code):
                rows.append((c.code, o.outcome, o.rate, o.fiscal_value, o.economic_value, o.social_value,
                             o.persistence_years, o.price_year or v.price_base, v.uprating(o.price_year),
                             o.deadweight, o.displacement, (1 - o.deadweight) * (1 - o.displacement),
                             o.source or ""))
        else:
            rows.append((c.code, c.outcome, c.outcome_rate, 0.0, c.value_per_outcome or 0.0, 0.0, 1, v.price_base,
                         1.0, 0.0, 0.0, 1.0, "the cohort's value_per_outcome (unsplit: counted as economic)"))
    return pd.DataFrame(rows, columns=["cohort_code", "outcome", "rate", "fiscal_value", "economic_value",
                                       "social_value", "persistence_years", "price_year", "uprating", "deadweight",
                                       "displacement", "net_share", "source"])


def benefit_rows(case: Case, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per programme, cohort, outcome and year achieved of an allocation (the agreement's
    proposal): participants, the rate used (``overridden`` when a rates row sets it for the
    programme), gross and net outcomes, yearly fiscal, economic and social benefit in the price
    base, the present-value factor Σ_{k<P} (1 + r)^−(t+k) and the present value."""
    v = case.valuation
    prog = rows["programme"].where(rows["programme"].notna(), rows["pot_code"])
    rows = rows.assign(programme=prog)
    rows = rows[rows["programme"].isin(list(case.pot)) & rows["cohort_code"].isin(list(case.cohort))
                & rows["year"].map(_is_year)]  # a row the case cannot place buys nothing it can value
    g = rows.groupby(["programme", "cohort_code", "year"], sort=False)["participants"].sum().reset_index()
    order = {"programme": {p: i for i, p in enumerate(case.pot)}, "cohort_code": {c: i for i, c in enumerate(case.cohort)},
             "year": {y: i for i, y in enumerate(case.years)}}
    g = g.sort_values(["cohort_code", "programme", "year"], key=lambda s: s.map(order[s.name]), kind="stable")
    base = {(o.cohort_code, o.outcome): o.rate for o in case.outcomes}
    out = []
    for r in g.itertuples(index=False):
        t = v.t(r.year)
        for o in v.types(r.programme, r.cohort_code):
            stated = base.get((r.cohort_code, o.outcome), case.cohort[r.cohort_code].outcome_rate)
            gross = r.participants * o.rate
            net = gross * o.net
            factor = v.pv_factor(t, o.persistence)
            out.append((r.programme, r.cohort_code, o.outcome, r.year, t, r.participants, o.rate,
                        bool(abs(o.rate - stated) > 1e-12), gross, net, net * o.fiscal, net * o.economic,
                        net * o.social, o.persistence, factor, net * o.yearly("value") * factor))
    return pd.DataFrame(out, columns=["programme", "cohort_code", "outcome", "year", "t", "participants", "rate",
                                      "overridden", "gross_outcomes", "net_outcomes", "fiscal", "economic", "social",
                                      "persistence_years", "pv_factor", "pv_benefits"])


def cost_rows(case: Case, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per year of the case: spend, the discount factor 1 ÷ (1 + r)^t and the present value
    of costs with the optimism-bias uplift."""
    v = case.valuation
    spend = rows[rows["year"].map(_is_year)].groupby("year")["amount"].sum()
    out = []
    for y in sorted({*case.years, *spend.index}, key=fy.parse_year):  # spend edited into another year is costed
        t = v.t(y)
        s = float(spend.get(y, 0.0))
        out.append((y, t, s, float(v.discount(t)), s * (1 + case.settings.optimism_bias) * float(v.discount(t))))
    return pd.DataFrame(out, columns=["year", "t", "spend", "discount", "pv_costs"])


def sheet_totals(benefits: pd.DataFrame, costs: pd.DataFrame) -> dict[str, float]:
    """The Value for money sheet's result: present values, NPSV, BCR (0 without costs) and the
    undiscounted benefits over their persistence."""
    pvb, pvc = float(benefits["pv_benefits"].sum()), float(costs["pv_costs"].sum())
    out = {"pv_benefits": pvb, "pv_costs": pvc, "npsv": pvb - pvc, "bcr": pvb / pvc if pvc > 0 else 0.0}
    for c in ("fiscal", "economic", "social"):
        out[c] = float((benefits[c] * benefits["persistence_years"]).sum())
    return out


def _is_year(y) -> bool:
    try:
        fy.parse_year(y)
        return True
    except (ValueError, TypeError):
        return False
