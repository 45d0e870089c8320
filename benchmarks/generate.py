"""Synthetic cases in the case format, at three sizes, from a fixed seed.

``python -m benchmarks.generate {district,ca,national} OUT [--check] [--force]``

=========  =====  ====  =======  =====  ===============================================
size       areas  pots  cohorts  years  aligned LP (variables, with this generator)
=========  =====  ====  =======  =====  ===============================================
district       1    20       10      3  ~400
ca            10    49       15      5  ~15,000
national     300    49       15      5  ~450,000 (about 40% of pot × cohort × area × year)
=========  =====  ====  =======  =====  ===============================================

What makes the cases realistic enough to time:

* **Places.** ONS-style codes: unitary ``E06``, district ``E07``, metropolitan ``E08`` and
  London ``E09`` areas with a synthetic population; the nine English regions (``E12``),
  combined authorities (``E47``, runs of 8–20 areas within a region) and contract package
  areas (``CPA..``) as footprints.
* **Pots** of every reach: national (``ALL``), devolved to every combined authority,
  multi-region, one region, one combined authority, one contract package area and
  single-area local pots. Each funds a themed subset of the 15 cohorts (journey stages
  1–6), lives all or part of the years, and some carry money forward 1–2 years (with
  lumpy budgets so that it matters), need 10–50% match from ``can_match`` pots (local and
  council pots), or are ``poolable`` (the devolved and combined-authority pots).
* **Money** per pot and year is 35–75% of a fair share of the need it can reach
  (need × unit cost, divided between the pots that can reach each cell), so money runs
  short overall and the optimiser has trade-offs to make.
* **Need** for every area × cohort × year: population × cohort prevalence × area
  deprivation × noise, a few cells suppressed to zero.
* **Provision** (the status quo) for about 70% of the pots, spread blind over a sample of
  their cells; **rates** overrides for some pot–cohort pairs; three feasible **rules**
  (a max share, a small min share and a small min amount); ``equity_floor`` 0.

The seed is derived from the size name, so the same command always writes the same case.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from datetime import date
from pathlib import Path

import numpy as np

from commissioning.case import years as fy
from commissioning.case.model import (
    Area,
    Budget,
    Case,
    Cohort,
    FootprintMember,
    Need,
    Pot,
    Provision,
    Rate,
    Rule,
    Settings,
)

SIZES = ("district", "ca", "national")
ALIASES = {"combined-authority": "ca", "combined_authority": "ca"}

# code, name, age_min, age_max, stage, outcome, outcome_rate, value_per_outcome
COHORTS = [
    ("HOMELESS_SUBSTANCE", "Homeless or in drug and alcohol treatment", 18, 66, 1, "job entry", 0.12, 8632),
    ("OFFENDERS", "Prison leavers and people on probation", 18, 66, 1, "job entry", 0.15, 9100),
    ("CARE_LEAVERS", "Care leavers aged 18-25 not in education, employment or training", 18, 25, 2, "EET entry",
     0.35, 4257),
    ("ECON_INACTIVE_HEALTH", "Economically inactive through long-term sickness", 16, 64, 2, "job entry", 0.18, 8632),
    ("DISABLED", "Disabled people out of work and wanting work", 16, 64, 2, "job entry", 0.25, 8632),
    ("WORKLESS_FAMILIES", "Parents in workless households", 18, 64, 2, "job entry", 0.22, 7800),
    ("NEET_16_18", "Young people aged 16-18 not in education, employment or training", 16, 18, 3, "EET entry",
     0.45, 4257),
    ("NEET_19_24", "Young people aged 19-24 not in education, employment or training", 19, 24, 3, "job entry",
     0.38, 5200),
    ("LTU", "Long-term unemployed (12 months or more)", 18, 66, 3, "job entry", 0.30, 7600),
    ("ESOL", "Adults needing English for speakers of other languages", 19, 66, 3, "Entry 3 achieved", 0.55, 2100),
    ("SHORT_UNEMP", "Short-term unemployed, job ready", 18, 66, 4, "job entry", 0.55, 5400),
    ("NO_L2", "Adults without a Level 2 qualification", 19, 66, 4, "Level 2 achieved", 0.60, 3300),
    ("NO_MATHS", "Adults without GCSE-level maths", 19, 66, 4, "Level 2 maths achieved", 0.50, 2400),
    ("LOW_PAID_INWORK", "Low-paid workers wanting to progress", 19, 66, 5, "pay progression", 0.40, 3900),
    ("INWORK_HEALTH", "Workers at risk of falling out of work through ill health", 16, 66, 6, "job retained",
     0.55, 11800),
]
DISTRICT_COHORTS = ["HOMELESS_SUBSTANCE", "CARE_LEAVERS", "ECON_INACTIVE_HEALTH", "DISABLED", "NEET_16_18",
                    "NEET_19_24", "LTU", "ESOL", "NO_L2", "LOW_PAID_INWORK"]
# People in need per resident, per year, before deprivation and noise.
PREVALENCE = {
    "HOMELESS_SUBSTANCE": 0.0022, "OFFENDERS": 0.0018, "CARE_LEAVERS": 0.0006, "ECON_INACTIVE_HEALTH": 0.021,
    "DISABLED": 0.012, "WORKLESS_FAMILIES": 0.006, "NEET_16_18": 0.0025, "NEET_19_24": 0.0075, "LTU": 0.0065,
    "ESOL": 0.008, "SHORT_UNEMP": 0.011, "NO_L2": 0.035, "NO_MATHS": 0.028, "LOW_PAID_INWORK": 0.025,
    "INWORK_HEALTH": 0.009,
}
REGIONS = [  # code, name, share of England's districts (sums to 300 at national size)
    ("E12000001", "North East", 12), ("E12000002", "North West", 39), ("E12000003", "Yorkshire and The Humber", 21),
    ("E12000004", "East Midlands", 40), ("E12000005", "West Midlands", 30), ("E12000006", "East of England", 45),
    ("E12000007", "London", 33), ("E12000008", "South East", 64), ("E12000009", "South West", 16),
]
# Pot name stems by theme, and the journey stages each theme favours.
THEMES = {
    "employment": ((1, 2, 3), ["Restart", "Connect to Work", "Individual Placement and Support", "WorkWell",
                               "Universal Support", "Work and Health Programme", "Youth Guarantee trailblazer",
                               "Supported Employment"]),
    "skills": ((3, 4, 5), ["Adult Skills Fund", "Free Courses for Jobs", "Skills Bootcamps", "Multiply",
                           "Community learning", "Sector-based work academies", "ESOL for integration",
                           "Level 3 entitlement"]),
    "inwork": ((5, 6), ["In-work progression", "Access to Work", "Occupational health pilot", "Retention fund"]),
    "broad": ((1, 2, 3, 4, 5, 6), ["UKSPF People and Skills", "Local employment fund", "Household support",
                                   "Place-based inclusion fund"]),
}
DEPARTMENTS = {"employment": "DWP", "skills": "DfE", "inwork": "DWP", "broad": "MHCLG"}

# Pots by reach, per size: how many of each.
POT_MIX = {
    "district": {"national": 10, "regional": 3, "ca": 3, "local": 4},
    "ca": {"national": 22, "ca": 9, "regional": 6, "cpa": 6, "local": 6},
    "national": {"national": 23, "devolved": 5, "multiregion": 4, "regional": 6, "ca": 5, "cpa": 3, "local": 3},
}
SHAPE = {  # areas, cohorts, years, first year
    "district": (1, 10, 3, 2025),
    "ca": (10, 15, 5, 2025),
    "national": (300, 15, 5, 2025),
}
PROVISION_CELLS = {"district": 10_000, "ca": 10_000, "national": 250}  # sampled cells per pot and year


def seed_of(size: str) -> int:
    return zlib.crc32(f"commissioning-benchmark-{size}".encode())


# ---- places ------------------------------------------------------------------------------------
def _places(size: str, rng: np.random.Generator):
    """Areas and footprints: (areas, region_of_area, {footprint_code: (name, [area indexes])})."""
    n_areas = SHAPE[size][0]
    counters = {"E06": 0, "E07": 0, "E08": 0, "E09": 0}
    areas: list[Area] = []
    region_of: list[int] = []
    if size == "national":
        counts = [r[2] for r in REGIONS]
    else:
        counts = [0] * len(REGIONS)
        counts[2] = n_areas  # a case in Yorkshire and The Humber
    for ri, (_rcode, rname, _k) in enumerate(REGIONS):
        for j in range(counts[ri]):
            if rname == "London":
                prefix = "E09"
            else:
                prefix = rng.choice(["E06", "E07", "E08"], p=[0.25, 0.55, 0.20])
            counters[prefix] += 1
            code = f"{prefix}{counters[prefix]:06d}"
            kind = {"E06": "unitary", "E07": "district", "E08": "metropolitan borough", "E09": "borough"}[prefix]
            median = {"E06": 190_000, "E07": 105_000, "E08": 300_000, "E09": 260_000}[prefix]
            pop = int(np.clip(rng.lognormal(np.log(median), 0.4), 2_200, 1_150_000))
            areas.append(Area(code=code, name=f"{rname} {kind} {j + 1}", population=pop))
            region_of.append(ri)
    region_of = np.array(region_of)
    footprints: dict[str, tuple[str, list[int]]] = {}
    for ri, (rcode, rname, _) in enumerate(REGIONS):
        members = list(np.flatnonzero(region_of == ri))
        if members:
            footprints[rcode] = (rname, members)
    # Combined authorities: runs of 8-20 areas inside a region, covering about 55% of areas.
    ca_no = 0
    if n_areas == 1:
        footprints["E47000001"] = ("Synthetic Combined Authority 1", [0])
    elif size == "ca":
        footprints["E47000001"] = ("Synthetic Combined Authority 1", list(range(n_areas)))
    else:
        for ri in range(len(REGIONS)):
            members = list(np.flatnonzero(region_of == ri))
            i = 0
            while len(members) - i >= 8:
                if rng.random() < 0.45:
                    i += int(rng.integers(4, 12))
                    continue
                k = int(min(len(members) - i, rng.integers(8, 21)))
                ca_no += 1
                footprints[f"E47{ca_no:06d}"] = (f"{REGIONS[ri][1]} Combined Authority {ca_no}", members[i:i + k])
                i += k
    # Contract package areas: a partition of the areas into groups of 2-4 (CA) or 20-40 (national).
    order = np.arange(n_areas)
    lo, hi = (20, 41) if size == "national" else (2, 5)
    i, cpa = 0, 0
    while i < n_areas:
        k = int(rng.integers(lo, hi))
        cpa += 1
        footprints[f"CPA{cpa:02d}"] = (f"Contract package area {cpa}", list(order[i:i + k]))
        i += k
    return areas, region_of, footprints


# ---- the case ----------------------------------------------------------------------------------
def generate(size: str) -> Case:
    size = ALIASES.get(size, size)
    if size not in SIZES:
        raise SystemExit(f"unknown size {size!r}: choose one of {', '.join(SIZES)} (or combined-authority)")
    rng = np.random.default_rng(seed_of(size))
    n_areas, n_cohorts, n_years, first = SHAPE[size]
    years = [fy.year_label(first + i) for i in range(n_years)]
    areas, region_of, footprints = _places(size, rng)
    A = len(areas)

    spec = [c for c in COHORTS if c[0] in DISTRICT_COHORTS] if size == "district" else COHORTS
    cohorts = [Cohort(code=c[0], name=c[1], age_min=c[2], age_max=c[3], journey_stage=c[4], outcome=c[5],
                      outcome_rate=c[6], value_per_outcome=c[7]) for c in spec]
    C, T = len(cohorts), len(years)
    stage = np.array([c.journey_stage for c in cohorts])

    # Need: population × prevalence × deprivation × noise, growing a little each year.
    pop = np.array([a.population for a in areas], dtype=float)
    depriv = rng.lognormal(0.0, 0.35, A)
    prev = np.array([PREVALENCE[c.code] for c in cohorts])
    noise = rng.lognormal(0.0, 0.25, (A, C, T))
    growth = (1.0 + rng.normal(0.01, 0.02, C))[None, :, None] ** np.arange(T)[None, None, :]
    need = np.round(pop[:, None, None] * depriv[:, None, None] * prev[None, :, None] * noise * growth)
    need[rng.random((A, C, T)) < 0.03] = 0.0  # suppressed small counts

    # Pots: reach, theme, cohorts, life, money rules.
    ca_codes = [k for k in footprints if k.startswith("E47")]
    cpa_codes = [k for k in footprints if k.startswith("CPA")]
    region_codes = [k for k in footprints if k.startswith("E12")]
    mix = POT_MIX[size]
    pots_spec = []  # (reach, geography tuple, area index array)
    for reach, k in mix.items():
        for _ in range(k):
            if reach == "national":
                geo, idx = ("ALL",), np.arange(A)
            elif reach == "devolved":
                geo = tuple(ca_codes)
                idx = np.unique(np.concatenate([footprints[c][1] for c in ca_codes]))
            elif reach == "multiregion":
                pick = sorted(rng.choice(len(region_codes), size=int(rng.integers(2, 5)), replace=False))
                geo = tuple(region_codes[i] for i in pick)
                idx = np.unique(np.concatenate([footprints[geo_i][1] for geo_i in geo]))
            elif reach == "regional":
                code = region_codes[int(rng.integers(len(region_codes)))]
                geo, idx = (code,), np.array(footprints[code][1])
            elif reach == "ca":
                code = ca_codes[int(rng.integers(len(ca_codes)))]
                geo, idx = (code,), np.array(footprints[code][1])
            elif reach == "cpa":
                code = cpa_codes[int(rng.integers(len(cpa_codes)))]
                geo, idx = (code,), np.array(footprints[code][1])
            else:  # local: one area
                i = int(rng.integers(A))
                geo, idx = (areas[i].code,), np.array([i])
            pots_spec.append((reach, geo, np.asarray(idx, dtype=int)))

    theme_names = list(THEMES)
    used_names: dict[str, int] = {}
    pots: list[Pot] = []
    p_cohorts: list[np.ndarray] = []
    p_years: list[np.ndarray] = []
    p_areas: list[np.ndarray] = []
    unit_cost: list[np.ndarray] = []  # per pot, per cohort (after rates)
    rates: list[Rate] = []
    for pi, (reach, geo, idx) in enumerate(pots_spec):
        theme = theme_names[int(rng.choice(len(theme_names), p=[0.35, 0.35, 0.12, 0.18]))]
        favoured, stems = THEMES[theme]
        stem = stems[int(rng.integers(len(stems)))]
        used_names[stem] = used_names.get(stem, 0) + 1
        # Cohorts: favoured stages are likely, others less so; national pots are broad.
        w = np.where(np.isin(stage, favoured), 0.85, 0.35)
        if reach in ("national", "devolved"):
            w = np.minimum(1.0, w + 0.3)
        chosen = np.flatnonzero(rng.random(C) < w)
        if len(chosen) == 0:
            chosen = np.array([int(rng.choice(np.flatnonzero(np.isin(stage, favoured)) if np.isin(stage, favoured).any()
                                              else np.arange(C)))])
        cohort_field = ("ALL",) if len(chosen) == C else tuple(cohorts[i].code for i in chosen)
        # Life: most pots run the whole period; some start late or end early.
        r = rng.random()
        if T >= 3 and r < 0.15:
            y0, y1 = 0, int(rng.integers(1, T - 1))  # ends early
        elif T >= 3 and r < 0.28:
            y0, y1 = int(rng.integers(1, T - 1)), T - 1  # starts late
        else:
            y0, y1 = 0, T - 1
        life = np.arange(y0, y1 + 1)
        base_cost = float(np.round(rng.lognormal(np.log({"employment": 2600, "skills": 1100, "inwork": 1600,
                                                          "broad": 1800}[theme]), 0.35), -1))
        base_cost = max(base_cost, 150.0)
        uc = np.full(C, base_cost)
        for ci in chosen:
            if rng.random() < 0.12:
                over_uc = float(np.round(base_cost * rng.uniform(0.6, 1.8), -1))
                over_or = float(np.round(min(0.95, cohorts[ci].outcome_rate * rng.uniform(0.7, 1.4)), 3)) \
                    if rng.random() < 0.5 else None
                rates.append(Rate(pot_code=f"P{pi + 1:02d}", cohort_code=cohorts[ci].code, unit_cost=over_uc,
                                  outcome_rate=over_or))
                uc[ci] = over_uc
        carry = int(rng.choice([1, 2])) if rng.random() < 0.18 and len(life) > 1 else 0
        dept = "local" if reach == "local" else ("MHCLG" if reach in ("ca", "devolved") and theme == "broad"
                                                  else DEPARTMENTS[theme])
        basis = {"national": "national", "devolved": "devolved", "multiregion": "competitive", "regional": "formula",
                 "ca": "devolved", "cpa": "competitive", "local": "local"}[reach]
        name = f"{stem}{'' if used_names[stem] == 1 else f' ({used_names[stem]})'}"
        if reach not in ("national", "devolved"):
            where = {footprints[g][0] if g in footprints else areas[idx[0]].name for g in geo}
            name += f" — {', '.join(sorted(where))}"
        pots.append(Pot(code=f"P{pi + 1:02d}", name=name, department=dept, geography=geo, cohorts=cohort_field,
                        start=fy.year_start(years[y0]), end=fy.year_end(years[y1]), unit_cost=base_cost,
                        carry_forward=carry, match_rate=0.0, can_match=False, poolable=False, basis=basis,
                        source="synthetic (benchmarks.generate)"))
        p_cohorts.append(chosen)
        p_years.append(life)
        p_areas.append(idx)
        unit_cost.append(uc)

    # Match funding: a few regional/national pots need 10-50% match; local and council pots give it.
    P = len(pots)
    order = rng.permutation(P)
    n_need = {"district": 2, "ca": 4, "national": 4}[size]
    needers = [i for i in order if pots_spec[i][0] in ("national", "multiregion", "regional", "cpa")][:n_need]
    givers = [i for i in range(P) if pots_spec[i][0] in ("local", "ca") and i not in needers]
    givers += [i for i in order if pots_spec[i][0] == "national" and i not in needers][:2]
    pool_members = [i for i in range(P) if pots_spec[i][0] in ("devolved", "ca")][:5]
    if size == "district":
        pool_members = [i for i in range(P) if pots_spec[i][0] in ("ca", "local")][:4]
    if size == "national":
        pool_members += [i for i in range(P) if pots_spec[i][0] == "regional"][:1]
    for i in range(P):
        upd = {}
        if i in needers:
            upd["match_rate"] = float(np.round(rng.uniform(0.1, 0.5), 2))
        if i in givers:
            upd["can_match"] = True
        if i in pool_members and i not in needers:
            upd["poolable"] = True
        if upd:
            pots[i] = pots[i].model_copy(update=upd)

    # Money: a share of the fair share of reachable need × cost (cells shared between pots).
    reach_cnt = np.zeros((A, C, T))
    for i in range(P):
        reach_cnt[np.ix_(p_areas[i], p_cohorts[i], p_years[i])] += 1
    budgets: list[Budget] = []
    budget_of = np.zeros((P, T))
    for i in range(P):
        sub = need[np.ix_(p_areas[i], p_cohorts[i], p_years[i])]
        cnt = reach_cnt[np.ix_(p_areas[i], p_cohorts[i], p_years[i])]
        fair = (sub * unit_cost[i][p_cohorts[i]][None, :, None] / np.maximum(cnt, 1)).sum(axis=(0, 1))
        profile = rng.lognormal(0.0, 0.45, len(p_years[i])) if pots[i].carry_forward else np.ones(len(p_years[i]))
        amount = fair * rng.uniform(0.35, 0.75) * profile * rng.uniform(0.9, 1.1, len(p_years[i]))
        for t, a in zip(p_years[i], amount):
            a = float(np.round(a, -3))
            budgets.append(Budget(pot_code=pots[i].code, year=years[t], amount=a))
            budget_of[i, t] = a

    need_rows = [Need(area_code=areas[a].code, cohort_code=cohorts[c].code, year=years[t], people=float(need[a, c, t]),
                      source="synthetic (population × prevalence)", as_of=date(first, 3, 31))
                 for a in range(A) for c in range(C) for t in range(T)]

    # Provision: ~70% of pots, each pot-year's committed money (60-90% of its budget) spread
    # blind over a sample of its cells with need, never beyond the cell's need.
    provision: list[Provision] = []
    providers = ["College", "Council adult learning service", "Jobcentre partnership", "Training provider Ltd",
                 "Charity consortium"]
    for i in range(P):
        if rng.random() > 0.7 or pots[i].match_rate > 0:
            continue
        cells = [(a, c) for a in p_areas[i] for c in p_cohorts[i]]
        for t in p_years[i]:
            ok = [(a, c) for a, c in cells if need[a, c, t] > 0]
            if not ok or budget_of[i, t] <= 0:
                continue
            k = min(len(ok), PROVISION_CELLS[size])
            pick = rng.choice(len(ok), size=k, replace=False)
            sample = [ok[j] for j in sorted(pick)]
            weights = np.array([need[a, c, t] for a, c in sample])
            money = budget_of[i, t] * rng.uniform(0.6, 0.9) * weights / weights.sum()
            cap = np.array([need[a, c, t] * unit_cost[i][c] for a, c in sample])
            money = np.floor(np.minimum(money, 0.95 * cap) / 100) * 100
            for (a, c), m in zip(sample, money):
                if m > 0:
                    provision.append(Provision(pot_code=pots[i].code, area_code=areas[a].code,
                                               cohort_code=cohorts[c].code, year=years[t], amount=float(m),
                                               provider=providers[(a + c) % len(providers)]))

    rules = _rules(size, rng, pots, pots_spec, p_cohorts, p_years, p_areas, unit_cost, need, budget_of, cohorts,
                   years, areas)
    fps = [FootprintMember(footprint_code=code, footprint_name=name, area_code=areas[a].code)
           for code, (name, members) in footprints.items() for a in members]
    settings = Settings(name=f"Synthetic {size} benchmark (seed {seed_of(size)})", objective="outcomes",
                        equity_floor=0.0, start_year=years[0])
    return Case(areas=tuple(areas), cohorts=tuple(cohorts), pots=tuple(pots), budgets=tuple(budgets),
                need=tuple(need_rows), footprints=tuple(fps), rates=tuple(rates), provision=tuple(provision),
                rules=tuple(rules), settings=settings)


def _rules(size, rng, pots, pots_spec, p_cohorts, p_years, p_areas, unit_cost, need, budget_of, cohorts, years,
           areas) -> list[Rule]:
    """Three rules every allocation can meet: a max share, a small min share, a small min amount."""
    out: list[Rule] = []
    broad = [i for i in range(len(pots)) if pots_spec[i][0] == "national" and pots[i].match_rate == 0
             and len(p_cohorts[i]) >= 3 and len(p_years[i]) == len(years)]
    if not broad:
        return out
    i = broad[0]
    c = p_cohorts[i][int(rng.integers(len(p_cohorts[i])))]
    out.append(Rule(rule="max_share", pot_code=pots[i].code, cohort_code=cohorts[c].code, value=0.3,
                    note="Cap on one cohort (synthetic)"))
    # Min share: pick a pot-cohort whose need could absorb 4x the share every year.
    for j in broad[1:]:
        for c in p_cohorts[j]:
            cap = need[np.ix_(p_areas[j], [c], p_years[j])].sum(axis=(0, 1)) * unit_cost[j][c]
            if np.all(cap >= 4 * 0.05 * budget_of[j, p_years[j]]) and pots[j].carry_forward == 0:
                out.append(Rule(rule="min_share", pot_code=pots[j].code, cohort_code=cohorts[c].code, value=0.05,
                                note="Statutory entitlement floor (synthetic)"))
                break
        else:
            continue
        break
    # Min amount: a pot, one of its areas, the second year: 1% of what the area's need could absorb.
    k = broad[-1]
    a = p_areas[k][int(rng.integers(len(p_areas[k])))]
    t = p_years[k][min(1, len(p_years[k]) - 1)]
    cap = float((need[a, p_cohorts[k], t] * unit_cost[k][p_cohorts[k]]).sum())
    amount = float(np.round(min(0.05 * cap, 0.01 * budget_of[k, t]), -2))
    if amount > 0:
        out.append(Rule(rule="min_amount", pot_code=pots[k].code, area_code=areas[a].code, year=years[t], value=amount,
                        note="Local delivery commitment (synthetic)"))
    return out


def write(size: str, out: Path, force: bool = False) -> Case:
    from commissioning.writers.casewriter import write_case

    case = generate(size)
    write_case(case, Path(out), force=force)
    return case


def check(out: Path) -> int:
    """Read the case back, validate it, and print its size and the aligned LP's size."""
    from commissioning.inputs.validate import validate_path
    from optimiser.build import create_model

    v = validate_path(out)
    for w in v.warnings:
        print(f"warning: {w}")
    if not v.ok:
        for e in v.errors:
            print(f"ERROR: {e}")
        return 1
    case = v.case
    lp = create_model(case)
    s = lp.size
    combos = len(case.pots) * len(case.areas) * len(case.cohorts) * len(case.years)
    cells = case.eligibility.cells(with_need_only=True)
    by_cell = cells.groupby(["area_code", "cohort_code", "year"])
    need = by_cell["need"].first()
    mean_cost, cheapest = by_cell["unit_cost"].mean(), by_cell["unit_cost"].min()
    print(f"valid: {len(case.areas)} areas, {len(case.pots)} pots, {len(case.cohorts)} cohorts, "
          f"{len(case.years)} years; {len(case.footprint_members)} footprints; {len(case.provision or ())} provision "
          f"rows; {len(case.rules)} rules")
    print(f"aligned LP: {s['variables']:,} variables, {s['rows']:,} rows, {s['nonzeros']:,} nonzeros; "
          f"{len(cells):,} eligible cells with need = {len(cells) / combos:.0%} of pot × area × cohort × year")
    print(f"money £{case.total_budget:,.0f} = {case.total_budget / float((need * mean_cost).sum()):.0%} of reachable "
          f"need × mean eligible unit cost ({case.total_budget / float((need * cheapest).sum()):.0%} at the cheapest); "
          "pots by basis: "
          f"{ {p.basis: sum(q.basis == p.basis for q in case.pots) for p in case.pots} }")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("size", help="district, ca (alias combined-authority) or national")
    ap.add_argument("out", type=Path, help="folder to write the case into")
    ap.add_argument("--check", action="store_true", help="read the case back, validate it and print its LP size")
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = ap.parse_args(argv)
    size = ALIASES.get(args.size, args.size)
    write(size, args.out, force=args.force)
    print(f"wrote {args.out} ({size}, seed {seed_of(size)})")
    return check(args.out) if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
