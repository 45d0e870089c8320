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
    rows = re.findall(r"^\| (baseline|aligned|pooled) \| (£[\d,.]+m) \| ([\d,]+) \| ([\d,]+) \| (£[\d,.]+m) \|$",
                      text, flags=re.M)
    return {r[0]: list(r[1:]) for r in rows}


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_the_readme_level_table_is_what_the_example_gives(solver):
    quoted = readme_levels()
    assert set(quoted) == {"baseline", "aligned", "pooled"}
    run = optimise_case(load_case(ROOT / "examples" / "west-yorkshire"), solver=solver)
    for level, figures in quoted.items():
        t = run.levels[level].totals
        assert figures == [f"£{t['allocated'] / 1e6:,.1f}m", f"{t['participants']:,.0f}", f"{t['outcomes']:,.0f}",
                           f"£{t['value'] / 1e6:,.1f}m"], level
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    d = run.dividends()
    assert f"Coordination alone adds about {round(d['alignment']['outcomes'], -1):,.0f} outcomes" in text
    assert f"pooling adds about {round(d['devolution']['outcomes'], -2):,.0f} more" in text
