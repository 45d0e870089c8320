"""Golden outputs: every file and message the CLI produces on a fixed set of runs, as digests.

A refactor that moves code without meaning to change behaviour must leave every byte of
CSV and JSON, every workbook cell (value, formula and number format) and every message
and exit code as it was. :func:`produce` runs the commands below through Click's runner
and returns ``{name: sha256}`` per output; ``tests/golden.json`` holds the digests the
tree produced when they were last written on purpose.

The runs: the West Yorkshire example through validate, map, optimise (both solvers),
explain (also under the equity-floor and lock scenarios), agree, check,
compare and sensitivity; the tiny agreement case through agree and
check (unedited and with one line breached); an infeasible case (exit 3) and a broken
case (exit 2).

Workbooks are compared by their cells, not their bytes: xlsxwriter stamps a creation
time into the file. The agreement's date is the drafting day, fixed here through
``SOURCE_DATE_EPOCH`` (:data:`GOLDEN_DAY`, 1 December 2026). Paths of the temporary folder are replaced by ``<tmp>`` in messages.
The run record's engine and software (the commit, package versions) are replaced by
``<software>``: they say which code ran, and the golden outputs are about what it produced.

Write the digests anew, after a change that is *meant* to change outputs::

    python tests/golden.py --write          # from the project root
    python tests/golden.py --dump DIR       # the canonical texts, to diff two trees
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "west-yorkshire"
DIGESTS = HERE / "golden.json"

if str(HERE) not in sys.path:  # run as a script
    sys.path.insert(0, str(HERE))

GOLDEN_DAY = 1796083200  # 1 December 2026, 00:00 UTC: the agreements' drafting date here


SOFTWARE_ROWS = ("Engine", "Commit", "Python")


def _software(data):
    """``data`` with every run record's ``engine`` and ``software`` replaced by ``<software>``."""
    if isinstance(data, dict):
        out = {k: _software(v) for k, v in data.items()}
        if "engine" in out and "software" in out and "inputs" in out:
            out["engine"] = out["software"] = "<software>"
        return out
    if isinstance(data, list):
        return [_software(v) for v in data]
    return data


def workbook_text(path: Path) -> str:
    """Every non-empty cell of every sheet: sheet, coordinate, value (or formula), number format."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    lines = []
    for ws in wb.worksheets:
        lines.append(f"## {ws.title} merged={sorted(str(r) for r in ws.merged_cells.ranges)}")
        software = set()
        if ws.title == "Run record":  # rows naming the software: see the module docstring
            from commissioning.analysis.record import software as installed

            labels = set(SOFTWARE_ROWS) | set(installed()["packages"])
            software = {c.row for c in ws["A"] if c.value in labels}
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    value = "<software>" if c.row in software and c.column > 1 else c.value
                    if hasattr(value, "text") and hasattr(value, "ref"):  # an array formula: its text
                        value = f"{{{value.text}}} @ {value.ref}"
                    lines.append(f"{c.coordinate}\t{value!r}\t{c.number_format}")
    for name, dn in sorted(wb.defined_names.items()):
        lines.append(f"name {name} {dn.attr_text}")
    return "\n".join(lines)


def _text(path: Path, tmp: Path) -> str:
    if path.suffix == ".xlsx":
        return workbook_text(path)
    if path.suffix == ".json":
        return json.dumps(_software(json.loads(path.read_text(encoding="utf-8"))), indent=2,
                          ensure_ascii=False).replace(str(tmp), "<tmp>")
    return path.read_text(encoding="utf-8").replace(str(tmp), "<tmp>")


def produce(tmp: Path, dump: Path | None = None) -> dict[str, str]:
    """Run the fixed commands under ``tmp``; the digest of every output and message."""
    from click.testing import CliRunner

    from agreementcase import allocation_rows, write_agreement_case
    from commissioning.cli import main
    from explaincases import min_share_case

    import openpyxl

    texts: dict[str, str] = {}

    def run(name: str, *args) -> None:
        # The agreement is dated the day it is drafted: a fixed day here (SOURCE_DATE_EPOCH), so
        # the digests do not change at midnight.
        res = CliRunner(env={"SOURCE_DATE_EPOCH": str(GOLDEN_DAY)}).invoke(main, [str(a) for a in args])
        texts[f"{name}.message"] = f"exit {res.exit_code}\n" + res.output.replace(str(tmp), "<tmp>")

    def files(name: str, folder: Path) -> None:
        for p in sorted(folder.iterdir()):
            if p.is_file():
                texts[f"{name}/{p.name}"] = _text(p, tmp)

    ex = tmp / "example"
    shutil.copytree(EXAMPLE, ex)
    run("validate", "validate", ex)
    run("map", "map", ex, "--out", tmp / "map")
    files("map", tmp / "map")
    for solver in ("cbc", "highs"):
        run(f"optimise-{solver}", "optimise", ex, "--out", tmp / f"opt-{solver}", "--solver", solver)
        files(f"optimise-{solver}", tmp / f"opt-{solver}")
    run("explain", "explain", tmp / "opt-cbc")
    for scenario in ("05-equity-floor", "07-lock-restart"):  # the equity floor's and the lock's words
        run(f"optimise-{scenario}", "optimise", ex, "--scenario", ex / "scenarios" / f"{scenario}.yaml",
            "--out", tmp / scenario)
        files(f"optimise-{scenario}", tmp / scenario)
        run(f"explain-{scenario}", "explain", tmp / scenario)
    run("agree", "agree", ex, "--out", tmp / "agree")
    files("agree", tmp / "agree")
    run("check", "check", tmp / "agree" / "agreement.xlsx", "--case", ex)
    scen = ex / "scenarios"
    run("compare", "compare", ex, scen / "02-pool-skills.yaml", scen / "03-dwp-cut.yaml",
        scen / "05-equity-floor.yaml", "--out", tmp / "compare")
    files("compare", tmp / "compare")
    run("sensitivity", "sensitivity", ex, "--need-spread", "0.1", "--draws", "3", "--out", tmp / "sens")
    files("sensitivity", tmp / "sens")

    tiny = write_agreement_case(tmp / "tiny")
    run("tiny-agree", "agree", tiny, "--out", tmp / "tiny-agree")
    files("tiny-agree", tmp / "tiny-agree")
    book = tmp / "tiny-agree" / "agreement.xlsx"
    run("tiny-check", "check", book, "--case", tiny)
    wb = openpyxl.load_workbook(book)
    ws = wb["Allocations"]
    rows = allocation_rows(ws)
    ws[rows[0]["_amount_cell"]].value = rows[0]["amount"] * 10 + 12345
    wb.save(tmp / "edited.xlsx")
    run("tiny-check-edited", "check", tmp / "edited.xlsx", "--case", tiny)

    run("infeasible", "optimise", min_share_case(tmp / "infeasible"), "--out", tmp / "inf-out")
    broken = tmp / "broken"
    shutil.copytree(tiny, broken)
    with (broken / "need.csv").open("a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(["A9", "YOUNG", "2025-26", "-3"])
    run("broken", "validate", broken)
    run("broken-optimise", "optimise", broken, "--out", tmp / "broken-out")

    if dump is not None:
        for name, text in texts.items():
            target = dump / name.replace("/", "__")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in sorted(texts.items())}


def main(argv: list[str]) -> None:
    dump = Path(argv[argv.index("--dump") + 1]) if "--dump" in argv else None
    with tempfile.TemporaryDirectory() as d:
        digests = produce(Path(d), dump)
    if "--write" in argv:
        DIGESTS.write_text(json.dumps(digests, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(digests)} digests to {DIGESTS}")
    else:
        print(json.dumps(digests, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
