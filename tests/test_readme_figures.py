"""The figures the README quotes for the example are what the example produces.

The README's table of the three levels and its sentence on the dividends are read from the
README itself and compared with a fresh run of the example (both solvers: the plan is the
same with either, so the rounded figures are too).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from commissioning.inputs.validate import load_case
from optimiser.levels import optimise_case

ROOT = Path(__file__).resolve().parents[1]


def readme_levels() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (baseline|aligned|settlement|pooled) \| (£[\d,.]+m) \| ([\d,]+) \| ([\d,]+) \| (£[\d,.]+m) \|$",
                      text, flags=re.M)
    return {r[0]: list(r[1:]) for r in rows}


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_the_readme_level_table_is_what_the_example_gives(solver):
    quoted = readme_levels()
    assert set(quoted) == {"baseline", "aligned", "settlement", "pooled"}
    run = optimise_case(load_case(ROOT / "examples" / "west-yorkshire"), solver=solver)
    for level, figures in quoted.items():
        t = run.levels[level].totals
        assert figures == [f"£{t['allocated'] / 1e6:,.1f}m", f"{t['participants']:,.0f}", f"{t['outcomes']:,.0f}",
                           f"£{t['value'] / 1e6:,.1f}m"], level
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    d = run.dividends()
    assert f"Coordination alone adds about {round(d['alignment']['outcomes'], -1):,.0f} outcomes" in text
    assert f"pooling adds about {round(d['devolution']['outcomes'], -2):,.0f} more" in text


# ---- issue 16: what realism costs, the lines kept, the frontier, the scenarios -----------------------
def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def example_case():
    return load_case(ROOT / "examples" / "west-yorkshire")


@pytest.fixture(scope="module")
def example_run(example_case):
    return optimise_case(example_case, solver="highs")


def test_the_readme_realism_table_is_measured_on_the_example(example_case, example_run):
    from commissioning.analysis.realism import price_of_realism
    from optimiser.families.contract import contracted_by_year

    cost = {(r["rule"], r["level"]): r for r in price_of_realism(example_run)}

    def said(rule, level, first=False):
        r = cost[(rule, level)]
        return f"{r['cost']:,.0f} outcomes ({r['cost_share']:.1%})" if first else f"{r['cost']:,.0f} ({r['cost_share']:.1%})"

    text = _readme()
    contracted = sum(contracted_by_year(example_case).values())
    assert (f"| signed contracts kept until they end (£{contracted / 1e6:,.1f}m of the "
            f"£{example_case.total_budget / 1e6:,.1f}m is contracted) | {said('contract', 'aligned', True)} | "
            f"{said('contract', 'pooled')} |") in text
    assert (f"| every cohort keeps half of today's participants each year | {said('protect', 'aligned')} | "
            f"{said('protect', 'pooled')} |") in text
    assert f"| a programme the pool buys grows at most twofold | – | {said('capacity', 'pooled')} |" in text
    assert f"| councils' own budgets stay in their own areas | – | {cost[('pool_areas', 'pooled')]['cost']:,.0f} |" in text


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_the_readme_allocation_lines_are_the_example_s(example_case, solver):
    from commissioning.case.model import Protect

    run = optimise_case(example_case, solver=solver)
    lines = len(run.levels["aligned"].allocations)
    today = len(run.levels["baseline"].allocations)
    pure = example_case.with_changes(
        provision=tuple(p.model_copy(update={"contract_end": None}) for p in example_case.provision),
        settings=example_case.settings.model_copy(update={"protect": Protect(), "programme_scale": 1e12,
                                                          "least_disruption": False}),
        pots=tuple(p.model_copy(update={"pool_areas": "pool"}) for p in example_case.pots))
    pure_lines = len(optimise_case(pure, solver=solver).levels["aligned"].allocations)
    text = " ".join(_readme().split())
    # A few pounds of solver tolerance may leave one line more or less: the README rounds to tens.
    assert f"keeps about {round(lines, -1):,.0f} allocation lines close to today's {today:,.0f}" in text
    assert f"re-plans them into about {round(pure_lines, -1):,.0f}" in text


def test_the_readme_frontier_figures_are_the_example_s(example_case):
    from commissioning.analysis.frontier import trace_frontier

    fr = trace_frontier(example_case, solver="highs", steps=1)
    start = next(p for p in fr.level_points("aligned") if p.step == 0)
    best = fr.optimum("aligned")
    text = " ".join(_readme().split())
    assert f"already captures {start.share_of_dividend:.0%} of the alignment dividend" in text
    assert f"the optimum moves £{best.money_moved / 1e6:,.1f}m ({best.money_moved / fr.today_money:.1%} of today's money)" in text


def test_the_readme_scenario_table_is_the_example_s(example_case):
    from commissioning.inputs.scenario import apply_scenario, load_scenario

    rows = re.findall(r"^\| ([a-z0-9-]+)(?: \([^|]*\))? \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([^|]+) \|$", _readme(),
                      flags=re.M)
    quoted = {r[0]: r[1:] for r in rows}
    files = sorted((ROOT / "examples" / "west-yorkshire" / "scenarios").glob("*.yaml"))
    assert len(quoted) == len(files)
    pooled_first = None
    for f in files:
        case = apply_scenario(example_case, load_scenario(f, example_case))
        t = {k: v.totals["outcomes"] for k, v in optimise_case(case, solver="highs").levels.items()}
        pooled_first = t["pooled"] if pooled_first is None else pooled_first
        delta = t["pooled"] - pooled_first
        shown = "–" if f == files[0] else ("0" if round(delta) == 0 else f"{delta:+,.0f}".replace("-", "−"))
        assert quoted[case.scenario] == (f"{t['baseline']:,.0f}", f"{t['aligned']:,.0f}", f"{t['pooled']:,.0f}",
                                         shown), case.scenario


def test_the_readme_settlement_figures_are_the_example_s(example_run):
    """The example's settlement dividend and each settlement rule's measured cost (issue 19)."""
    from commissioning.analysis.settlement import rule_costs

    text = " ".join(_readme().split())
    d = example_run.dividends()["settlement"]["outcomes"]
    assert f"adds about {round(d, -1):,.0f} outcomes over aligned on its own" in text
    cost = {c.rule: c.cost for c in rule_costs(example_run)}
    assert (f"the 10% cross-theme limit costs {cost['theme_flex']:,.0f} outcomes, raising it to 20% would buy "
            f"{cost['theme_flex_ask']:,.0f}, keeping revenue and capital apart costs {cost['revenue_capital']:,.0f}, "
            f"and the Skills Bootcamps ring-fence costs {cost['ring_fence']:,.0f}.") in text
