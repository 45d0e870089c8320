"""Dropped cohorts named in ``explain`` and on the agreement, on the West Yorkshire example.

The example protects every cohort (``protect: cohorts: 0.5`` in its case.yaml), and no
district loses half of its people: ``optimise`` then ``explain`` name nothing dropped, and
summary.json's ``dropped`` is an empty list. A scenario that sets the floors to 0 takes the
protection away; then the cohorts the plans stop supporting are named in plain words, each
with the measured cost of keeping half of them, exactly as summary.json and flags.csv have
them, and the agreement drawn from that run (``agree --from``) says the same on its Summary
sheet for the pooled proposal.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from commands import start

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "west-yorkshire"
HEAD = "Who the {} plan stops supporting"


def _done(p: subprocess.Popen) -> str:
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, (p.args, p.returncode, out, err)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("dropped")
    scenario = base / "unprotected.yaml"
    scenario.write_text("name: unprotected\ndescription: No protection floors\nprotect:\n  cohorts: 0\n",
                        encoding="utf-8")
    plain, bare = base / "plain", base / "bare"
    for p in [start("optimise", EXAMPLE, "--out", plain, "--quiet"),
              start("optimise", EXAMPLE, "--scenario", scenario, "--out", bare, "--quiet")]:
        _done(p)
    agreement = base / "agreement"
    explained = [start("explain", plain), start("explain", bare),
                 start("agree", EXAMPLE, "--scenario", scenario, "--from", bare, "--out", agreement, "--quiet")]
    plain_words, bare_words, _ = (_done(p) for p in explained)
    return {"plain": plain, "bare": bare, "agreement": agreement, "plain_words": plain_words,
            "bare_words": bare_words}


def test_the_protected_example_drops_nobody(runs):
    summary = json.loads((runs["plain"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["dropped"] == []
    assert "stops supporting" not in runs["plain_words"]
    flags = pd.read_csv(runs["plain"] / "flags.csv")
    assert not (flags["kind"] == "dropped").any()


def test_explain_names_each_dropped_cohort_with_its_measured_cost(runs):
    summary = json.loads((runs["bare"] / "summary.json").read_text(encoding="utf-8"))
    dropped = summary["dropped"]
    assert dropped, "without floors the example's plans drop the long-term unemployed, at least"
    assert {d["code"] for d in dropped if d["level"] == "aligned"} >= {"LTU"}
    text = runs["bare_words"]
    lines = text.splitlines()
    for level in ("aligned", "settlement", "pooled"):  # the example has a settlement level
        mine = [d for d in dropped if d["level"] == level]
        if not mine:
            continue
        at = next(i for i, line in enumerate(lines) if line.startswith(HEAD.format(level)))
        assert lines[at + 1: at + 1 + len(mine)] == [f"  - {d['words']}" for d in mine]
    for d in dropped:
        assert d["kind"] == "cohort" and d["status"] == "measured"
        assert d["plan"] < 0.5 * d["today"] and d["cost"] >= 0 and d["people_kept"] > 0
        # The board's words: who, how many today, how many in the plan, and the measured cost.
        m = re.fullmatch(r"(.+): ([\d,]+) supported today, ([\d,]+) in the (aligned|settlement|pooled) plan\. Keeping at "
                         r"least half of them each year would cost ([\d,.]+) outcomes \(measured\) and keep "
                         r"([\d,]+) of them supported over the term(, [\d,]+ more than the plan)?\.", d["words"])
        assert m, d["words"]
        assert m.group(1) == d["name"] and m.group(4) == d["level"]
        assert m.group(2) == f"{d['today']:,.0f}" and m.group(3) == f"{d['plan']:,.0f}"
        assert float(m.group(5).replace(",", "")) == pytest.approx(d["cost"], abs=0.5)
    ltu = next(d for d in dropped if d["code"] == "LTU" and d["level"] == "aligned")
    assert ltu["name"].startswith("Long-term unemployed")
    flags = pd.read_csv(runs["bare"] / "flags.csv", dtype={"year": str})
    rows = flags[flags["kind"] == "dropped"]
    assert list(rows["detail"]) == [d["words"] for d in dropped]
    assert rows["people"].tolist() == pytest.approx([d["today"] - d["plan"] for d in dropped], abs=1e-4)


def test_the_agreement_summary_names_the_pooled_proposals_dropped_cohorts(runs):
    summary = json.loads((runs["bare"] / "summary.json").read_text(encoding="utf-8"))
    pooled = [d["words"] for d in summary["dropped"] if d["level"] == "pooled"]
    ws = openpyxl.load_workbook(runs["agreement"] / "agreement.xlsx")["Summary"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Who the proposal stops supporting" in texts
    at = texts.index("Who the proposal stops supporting")
    assert texts[at + 2: at + 2 + len(pooled)] == pooled
