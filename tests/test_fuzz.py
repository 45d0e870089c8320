"""Fuzzing the readers and validation: no tracebacks, ever, for user input.

Hypothesis mutates the West Yorkshire example in both of its forms — the folder of CSVs
(plus ``case.yaml``) and the workbook that :func:`commissioning.writers.casewriter.write_case`
makes of it — and a scenario file beside it, then runs ``commissioning validate``. Every
run must end in exit 0 (the mutation happened to be harmless, or only warned) or exit 2
with every problem line naming its place (a file of the case, a sheet, the workbook or
the scenario). Exit 70 ("internal error") or an escaped exception is a failure.

The mutations are those that spreadsheets assembled by many hands really carry: deleted,
renamed and duplicated headers; wrong types, empty, enormous and non-finite values;
unicode and control characters; byte-order marks and Windows or old-Mac line endings;
formulas and error values (``#REF!``); merged cells and hidden sheets; truncated, damaged
and non-zip workbooks; a CSV that is really a workbook and the reverse; YAML that is not
a mapping, that carries a Python tag or an alias bomb.

Runtime is bounded: ``FUZZ_EXAMPLES`` (default 30) examples per strategy in the normal
suite, which takes well under a minute. For the long run documented in the README::

    FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py -m slow

The ``slow`` tests repeat every strategy with ``FUZZ_EXAMPLES`` examples (default 500 when
selected) and are deselected from the normal suite. The workbook form is the example with
its ``provision`` table cut to its first rows, so that one workbook round trip costs a
fraction of a second; every sheet, column and kind of cell is still there.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import signal
import tempfile
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from commissioning.writers.casewriter import write_case
from commissioning.cli import main
from commissioning.inputs.validate import load_case

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "west-yorkshire"

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
SLOW_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
WORKBOOK_PROVISION_ROWS = 40

SETTINGS = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
    # No shrinking: a failing example is reported with every draw, which reads well enough,
    # and shrinking mutated workbooks can take minutes.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
quick = settings(max_examples=FUZZ_EXAMPLES, **SETTINGS)
slow = settings(max_examples=SLOW_EXAMPLES, **SETTINGS)


# ---- the pristine example in both forms -----------------------------------------------------
PRISTINE: dict[str, bytes] = {p.name: p.read_bytes() for p in sorted(EXAMPLE.iterdir())
                              if p.suffix in (".csv", ".yaml")}
CSV_NAMES = sorted(n for n in PRISTINE if n.endswith(".csv"))
TABLE_NAMES = [n[:-4] for n in CSV_NAMES]


@functools.lru_cache(maxsize=None)
def workbook_bytes() -> bytes:
    """The example as one workbook (provision cut short), made by ``write_case``."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        folder.mkdir()
        for name, data in PRISTINE.items():
            (folder / name).write_bytes(data)
        lines = (folder / "provision.csv").read_bytes().splitlines(keepends=True)
        (folder / "provision.csv").write_bytes(b"".join(lines[: WORKBOOK_PROVISION_ROWS + 1]))
        out = Path(tmp) / "case.xlsx"
        write_case(load_case(folder), out)
        return out.read_bytes()


# ---- values people type into cells -----------------------------------------------------------
NASTY_TEXT = [
    "", " ", "\u00a0", "0", "-0", "-1", "0.5", "1.5", "7", "120", "121", "1e308", "-1e308", "1e309", "1e-320",
    "99999", "1000000000", "9" * 400, "1" + "0" * 309, "NaN", "nan", "inf", "-inf", "Infinity", "£1,000", "£-5", "(1,000)", "1,2,3",
    "12.3456789", "1_000", "0x10", "١٢٣", "²", "2025-26", "2025-2026", "2025-27", "9999-00", "0000-01",
    "0001-02", "2025-04-01", "0001-01-01", "9999-12-31", "2025-02-30", "31/03/2026", "2025-04-01T10:00",
    "yes", "YES", "No", "true", "FALSE", "ALL", "all", "ALL;A1", "E08000032;ALL", ";", ";;", "a;;b", "a,b",
    "a b", " a", "a\nb", "a\r\nb", "=1+1", "+1", "-1+1", "@SUM(A1)", '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0", "'=1+1", "'", "''", "#REF!", "#N/A", "#DIV/0!", "#VALUE!", " #REF! ", "\t", "\r",
    "\n", "\x00", "\x1b[31mred", "\u202eevil", "😀", "é", "\ufeff", "\ufeffpot_code", "x" * 40_000,
    "outcomes", "value", "coverage", "formula", "competitive", "min_share", "max_amount", "E08000032",
    "ASF", "LTU", "E47000003", "None", "null", "~", "[]", "{}", "- a", "!!python/object:os.system",
]
nasty_text = st.sampled_from(NASTY_TEXT)
cell_text = st.one_of(
    nasty_text,
    nasty_text,
    st.text(max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
)

# Values an openpyxl cell can hold: text, numbers of any size, booleans, dates, formulas and errors.
workbook_value = st.one_of(
    nasty_text,
    st.text(max_size=30),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([2**63, -(2**63), 2**64, 10**300]),  # (larger ones: see "number_xml")
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(9999, 12, 31)),
    st.dates(min_value=date(1800, 1, 1), max_value=date(9999, 12, 31)),
    st.times(),
    st.sampled_from(["=1+1", "=A1", "=SUM(A:A)", "=1/0", "=#REF!", '=HYPERLINK("http://x","y")',
                     "=WEBSERVICE(\"http://x\")", "#REF!", "#N/A", "#NAME?", "#DIV/0!"]),
)


# ---- running validate and judging the answer -------------------------------------------------
EXAMPLE_SECONDS = 120  # a run that hangs (a loop over a typed-in billion) fails instead of stalling


def _too_slow(signum, frame):
    raise TimeoutError(f"the command took more than {EXAMPLE_SECONDS} s")


def run_cli(args: list[str]):
    """Run the command line in-process; a hang surfaces as an internal error (exit 70)."""
    previous = signal.signal(signal.SIGALRM, _too_slow)
    signal.alarm(EXAMPLE_SECONDS)
    try:
        return CliRunner().invoke(main, args, catch_exceptions=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_clean(result, places: tuple[str, ...]) -> None:
    """Exit 0 or 2, no traceback, and every problem line starts with a place."""
    shown = f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"an exception escaped the command line:\n{shown}") from result.exception
    assert result.exit_code in (0, 2), shown
    assert "Traceback" not in result.output, shown
    assert "internal error" not in result.output, shown
    problem_lines = [line[4:] for line in result.stderr.splitlines() if line.startswith("  - ")]
    if result.exit_code == 2:
        assert problem_lines, f"exit 2 without a problem naming its place\n{shown}"
    for line in problem_lines:
        assert line.startswith(places), f"a problem that does not name its place: {line!r}\n{shown}"


def folder_places(folder: Path) -> tuple[str, ...]:
    names = {p.name for p in folder.iterdir()} | set(PRISTINE) | {"case.yaml", "case.yml"}
    return tuple(sorted(names)) + (folder.name, str(folder))


def workbook_places(path: Path) -> tuple[str, ...]:
    return ("sheet '", path.name, str(path))


# ---- CSV mutations -----------------------------------------------------------------------------
def read_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def mutate_csv_cell(draw, data: bytes) -> bytes:
    rows = read_rows(data)
    r = draw(st.integers(0, len(rows) - 1))
    c = draw(st.integers(0, len(rows[r])))
    value = draw(cell_text)
    if c == len(rows[r]):
        rows[r].append(value)
    else:
        rows[r][c] = value
    return csv_bytes(rows)


CSV_STRUCTURE = [
    "delete_column", "rename_header", "duplicate_header", "blank_header", "drop_header_row", "header_only",
    "empty", "whitespace_only", "blank_lines", "ragged_row", "extra_column", "duplicate_row", "bom", "double_bom",
    "crlf", "cr_only", "truncate", "random_bytes", "latin1", "utf16", "workbook_bytes", "nul_byte",
    "stray_quote", "delete_file", "directory", "huge_field", "many_columns", "swap_with_other",
]


def mutate_csv_structure(draw, name: str, data: bytes, folder: Path) -> bytes | None:
    """Return the new bytes of ``name`` (None when the mutation replaced the file itself)."""
    kind = draw(st.sampled_from(CSV_STRUCTURE))
    rows = read_rows(data)
    width = len(rows[0])
    if kind == "delete_column":
        c = draw(st.integers(0, width - 1))
        return csv_bytes([row[:c] + row[c + 1:] for row in rows])
    if kind == "rename_header":
        c = draw(st.integers(0, width - 1))
        h = rows[0][c]
        rows[0][c] = draw(st.one_of(st.sampled_from([h.upper(), h.title(), h.replace("_", " "), f" {h} ", h + "\u00a0",
                                                     "\ufeff" + h, h + "x", ""]), st.text(max_size=20)))
        return csv_bytes(rows)
    if kind == "duplicate_header":
        i, j = draw(st.integers(0, width - 1)), draw(st.integers(0, width - 1))
        rows[0][j] = rows[0][i]
        return csv_bytes(rows)
    if kind == "blank_header":
        rows[0][draw(st.integers(0, width - 1))] = ""
        return csv_bytes(rows)
    if kind == "drop_header_row":
        return csv_bytes(rows[1:])
    if kind == "header_only":
        return csv_bytes(rows[:1])
    if kind == "empty":
        return b""
    if kind == "whitespace_only":
        return b"  \n\n\t\n"
    if kind == "blank_lines":
        at = draw(st.integers(0, len(rows)))
        return csv_bytes(rows[:at] + [[], [""] * width, [" "]] + rows[at:])
    if kind == "ragged_row":
        r = draw(st.integers(0, len(rows) - 1))
        n = draw(st.integers(0, width + 3))
        rows[r] = (rows[r] + ["extra"] * n)[:n]
        return csv_bytes(rows)
    if kind == "extra_column":
        header = draw(st.one_of(nasty_text, st.text(max_size=10)))
        return csv_bytes([rows[0] + [header]] + [row + [draw(cell_text)] for row in rows[1:3]] + rows[3:])
    if kind == "duplicate_row":
        r = draw(st.integers(0, len(rows) - 1))
        return csv_bytes(rows + [rows[r]])
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "double_bom":
        return b"\xef\xbb\xbf\xef\xbb\xbf" + data
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind == "cr_only":
        return data.replace(b"\n", b"\r")
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if kind == "random_bytes":
        return draw(st.binary(max_size=300))
    if kind == "latin1":
        return data.decode("utf-8").replace("illustrative", "£ illustratif").encode("cp1252", errors="replace")
    if kind == "utf16":
        return data.decode("utf-8").encode("utf-16")
    if kind == "workbook_bytes":
        return workbook_bytes()
    if kind == "nul_byte":
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"\x00" + data[at:]
    if kind == "stray_quote":
        at = draw(st.integers(0, len(data)))
        return data[:at] + b'"' + data[at:]
    if kind == "delete_file":
        (folder / name).unlink()
        return None
    if kind == "directory":
        (folder / name).unlink()
        (folder / name).mkdir()
        return None
    if kind == "huge_field":
        rows[min(1, len(rows) - 1)][0] = "x" * 200_000
        return csv_bytes(rows)
    if kind == "many_columns":
        return csv_bytes([rows[0] + [f"c{i}" for i in range(300)]] + rows[1:])
    if kind == "swap_with_other":
        other = draw(st.sampled_from(CSV_NAMES))
        return PRISTINE[other]
    raise AssertionError(kind)


YAML_TEXTS = [
    "", "---\n", "~\n", "[]\n", "- a\n- b\n", "just text\n", "name: [unclosed\n", "name: 'x\n", ":\n", "\t- tab\n",
    "name: !!python/object/apply:os.system ['echo PWNED > pwned.txt']\n",
    "name: !!python/name:os.system\n",
    "!!python/object:builtins.object {}\n",
    "a: &a [*a]\nname: *a\n",
    "a: &a {b: *a}\nobjective: *a\n",
    ("a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
     "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
     "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\nname: *h\nlead_body: *h\nobjective: *h\nparties: *h\n"),
    "name: " + "[" * 3000 + "]" * 3000 + "\n",
    "name: x\nname: y\n", "? [a, b]\n: 1\n", "1: 2\n", "name: 2025-04-01\n", "start_year: 2025-26\n",
    "start_year: 2025\n", "term_years: 0\n", "term_years: -1\n", "term_years: 1e400\n", "term_years: .inf\n",
    "equity_floor: .nan\n", "equity_floor: 2\n", "equity_floor: yes\n", "objective: [outcomes]\n",
    "objective: {a: 1}\n", "parties: 5\n", "parties: [[a]]\n", "parties: {a: 1}\n", "parties: ''\n",
    "name: null\n", "lead_body: {}\n", "name: " + "x" * 100_000 + "\n", "unknown_key: 1\n", "\ufeffname: bom\n",
    "name: x\r\nobjective: value\r\n",
]


def mutate_yaml(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["canned", "append", "replace_value", "random", "bytes"]))
    if kind == "canned":
        return draw(st.sampled_from(YAML_TEXTS)).encode("utf-8")
    if kind == "append":
        return data + draw(st.sampled_from(YAML_TEXTS)).encode("utf-8")
    if kind == "replace_value":
        key = draw(st.sampled_from(["name", "objective", "equity_floor", "parties", "lead_body", "term_years",
                                    "start_year"]))
        value = draw(cell_text)
        lines = [ln for ln in data.decode("utf-8").splitlines() if not ln.startswith((key + ":", "  - "))]
        return ("\n".join(lines) + f"\n{key}: {value}\n").encode("utf-8", errors="surrogatepass")
    if kind == "random":
        return draw(st.text(max_size=200)).encode("utf-8", errors="surrogatepass")
    return draw(st.binary(max_size=200))


def write_example(folder: Path) -> None:
    folder.mkdir()
    for name, data in PRISTINE.items():
        (folder / name).write_bytes(data)


def check_folder_mutation(draw, mode: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        write_example(folder)
        # One or two files broken at once, each from its pristine bytes.
        names = draw(st.lists(st.sampled_from(CSV_NAMES + ["case.yaml"]), min_size=1, max_size=2, unique=True))
        for name in names:
            data = PRISTINE[name]
            if name == "case.yaml":
                new = mutate_yaml(draw, data)
            elif mode == "cell":
                new = mutate_csv_cell(draw, data)
            else:
                new = mutate_csv_structure(draw, name, data, folder)
            if new is not None:
                (folder / name).write_bytes(new)
        before = set(os.listdir(tmp))
        result = run_cli(["validate", str(folder)])
        assert_clean(result, folder_places(folder))
        assert set(os.listdir(tmp)) == before, "validate wrote something"
        assert not (folder / "pwned.txt").exists() and not Path("pwned.txt").exists(), "YAML ran code"


@quick
@given(st.data())
def test_folder_cells(data):
    """One or two cells of the CSV form (or case.yaml) changed to something awkward."""
    check_folder_mutation(data.draw, "cell")


@quick
@given(st.data())
def test_folder_structure(data):
    """Headers, encodings, line endings and whole files of the CSV form broken."""
    check_folder_mutation(data.draw, "structure")


# ---- workbook mutations -------------------------------------------------------------------------
def _set(ws, row: int, col: int, value) -> None:
    from openpyxl.utils.exceptions import IllegalCharacterError

    try:
        ws.cell(row=row, column=col).value = value
    except IllegalCharacterError:  # openpyxl refuses control characters; Excel writes them escaped
        ws.cell(row=row, column=col).value = "".join(ch if ch >= " " or ch in "\t\n\r" else "?" for ch in value)
    except (ValueError, TypeError, AttributeError):  # a merged cell, or a value openpyxl cannot store
        pass


WORKBOOK_STRUCTURE = [
    "delete_column", "rename_header", "duplicate_header", "blank_header", "insert_rows_above", "delete_header_row",
    "insert_column", "merge", "merge_header", "hide_sheet", "very_hide_sheet", "rename_sheet", "delete_sheet",
    "add_sheet", "duplicate_sheet_name_case", "clear_sheet", "formula", "error_cell", "date_cells", "far_cell",
    "case_sheet_junk",
]


def mutate_workbook_openpyxl(draw, wb) -> None:
    kind = draw(st.sampled_from(WORKBOOK_STRUCTURE))
    ws = wb[draw(st.sampled_from(wb.sheetnames))]
    width = max(ws.max_column, 1)
    height = max(ws.max_row, 1)
    col = draw(st.integers(1, width))
    row = draw(st.integers(1, height))
    if kind == "delete_column":
        ws.delete_cols(col)
    elif kind == "rename_header":
        _set(ws, 1, col, draw(st.one_of(nasty_text, st.text(max_size=20), st.integers(), st.floats())))
    elif kind == "duplicate_header":
        _set(ws, 1, col, ws.cell(row=1, column=draw(st.integers(1, width))).value)
    elif kind == "blank_header":
        _set(ws, 1, col, None)
    elif kind == "insert_rows_above":
        ws.insert_rows(1, draw(st.integers(1, 3)))
    elif kind == "delete_header_row":
        ws.delete_rows(1)
    elif kind == "insert_column":
        ws.insert_cols(col)
        if draw(st.booleans()):
            _set(ws, 1, col, draw(nasty_text))
    elif kind in ("merge", "merge_header"):
        r = 1 if kind == "merge_header" else row
        ws.merge_cells(start_row=r, start_column=col, end_row=r + draw(st.integers(0, 3)),
                       end_column=col + draw(st.integers(0 if kind == "merge" else 1, 3)))
    elif kind == "hide_sheet":
        ws.sheet_state = "hidden"
    elif kind == "very_hide_sheet":
        ws.sheet_state = "veryHidden"
    elif kind == "rename_sheet":
        title = draw(st.one_of(st.sampled_from([ws.title.upper(), f" {ws.title} ", ws.title + "s", "case", "Sheet1",
                                                "areas", "pots"]), st.text(min_size=1, max_size=31)))
        try:
            if title not in wb.sheetnames:
                ws.title = title
        except ValueError:
            pass
    elif kind == "delete_sheet":
        if len(wb.sheetnames) > 1:
            wb.remove(ws)
    elif kind == "add_sheet":
        extra = wb.create_sheet(draw(st.sampled_from(["Sheet1", "notes", "Pots ", "budgets (old)"])))
        for r in range(1, draw(st.integers(0, 4)) + 1):
            _set(extra, r, 1, draw(workbook_value))
    elif kind == "duplicate_sheet_name_case":
        copy = wb.copy_worksheet(ws)
        try:
            copy.title = ws.title.upper() if ws.title.upper() not in wb.sheetnames else ws.title + " "
        except ValueError:
            pass
    elif kind == "clear_sheet":
        ws.delete_rows(1, height)
    elif kind == "formula":
        _set(ws, row, col, draw(st.sampled_from(["=1+1", "=A1*2", "=SUM(A:A)", "=#REF!", "=1/0"])))
    elif kind == "error_cell":
        _set(ws, row, col, draw(st.sampled_from(["#REF!", "#N/A", "#NAME?", "#DIV/0!", "#VALUE!"])))
    elif kind == "date_cells":
        _set(ws, row, col, draw(st.one_of(st.datetimes(min_value=datetime(1800, 1, 1)), st.dates(min_value=date(1800, 1, 1)),
                                          st.just(time(12, 0)))))
    elif kind == "far_cell":
        _set(ws, draw(st.integers(height, height + 5000)), draw(st.integers(1, 200)), draw(workbook_value))
    elif kind == "case_sheet_junk":
        ws = wb["case"] if "case" in wb.sheetnames else ws
        _set(ws, ws.max_row + 1, 1, draw(st.sampled_from(["name", "objective", "parties", "unknown", "key", 5, None])))
        _set(ws, ws.max_row, 2, draw(workbook_value))


BYTE_MUTATIONS = ["truncate", "random_bytes", "flip_byte", "csv_text", "zip_without_workbook", "vba_project",
                  "garbage_sheet_xml", "missing_shared_strings", "empty", "number_xml"]
# Number cells openpyxl will not write but a file can hold.
NUMBER_LITERALS = [b"1" + b"0" * 400, b"-" + b"9" * 400, b"1e999", b"-1E+400", b"NaN", b"INF", b"", b"1,5", b"0x1F",
                   b"1e-400", b"abc"]


def mutate_workbook_bytes(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(BYTE_MUTATIONS))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "random_bytes":
        return draw(st.binary(max_size=400))
    if kind == "flip_byte":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if kind == "csv_text":
        return draw(st.sampled_from([PRISTINE["pots.csv"], b"\xef\xbb\xbf" + PRISTINE["areas.csv"], b"a,b\r\n1,2\r\n"]))
    if kind == "empty":
        return b""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if kind == "zip_without_workbook" and info.filename == "xl/workbook.xml":
                continue
            if kind == "missing_shared_strings" and info.filename == "xl/sharedStrings.xml":
                continue
            if kind == "number_xml" and info.filename.startswith("xl/worksheets/sheet") and b"<v>" in body:
                # Replace the value of one number cell (xlsxwriter writes numbers as <c ...><v>n</v>).
                starts = [i for i in range(len(body)) if body.startswith(b"<v>", i)]
                at = starts[draw(st.integers(0, len(starts) - 1))] + 3
                end = body.index(b"</v>", at)
                body = body[:at] + draw(st.sampled_from(NUMBER_LITERALS)) + body[end:]
            if kind == "garbage_sheet_xml" and info.filename.startswith("xl/worksheets/sheet"):
                cut = draw(st.integers(0, len(body)))
                body = body[:cut] + draw(st.sampled_from([b"<row><c r=", b"\x00", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b""]))
            z.writestr(info, body)
        if kind == "vba_project":
            z.writestr("xl/vbaProject.bin", b"\x00" * 64)
    return out.getvalue()


def check_workbook_mutation(draw, mode: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.xlsx"
        if mode == "bytes":
            path.write_bytes(mutate_workbook_bytes(draw, workbook_bytes()))
        else:
            wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes()))
            for _ in range(draw(st.integers(1, 3))):
                if mode == "cell":
                    ws = wb[draw(st.sampled_from(wb.sheetnames))]
                    r = draw(st.integers(1, ws.max_row + 1))
                    c = draw(st.integers(1, ws.max_column + 1))
                    _set(ws, r, c, draw(workbook_value))
                else:
                    mutate_workbook_openpyxl(draw, wb)
            if not any(ws.sheet_state == "visible" for ws in wb.worksheets):
                wb.worksheets[0].sheet_state = "visible"  # Excel itself cannot save a workbook without one
            wb.active = next(i for i, ws in enumerate(wb.worksheets) if ws.sheet_state == "visible")
            wb.save(path)
        before = set(os.listdir(tmp))
        result = run_cli(["validate", str(path)])
        assert_clean(result, workbook_places(path))
        assert set(os.listdir(tmp)) == before, "validate wrote something"


@quick
@given(st.data())
def test_workbook_cells(data):
    """One to three cells of the workbook form set to awkward values of any type."""
    check_workbook_mutation(data.draw, "cell")


@quick
@given(st.data())
def test_workbook_structure(data):
    """Headers, merged cells, hidden, renamed and missing sheets, formulas, error values."""
    check_workbook_mutation(data.draw, "structure")


@quick
@given(st.data())
def test_workbook_bytes(data):
    """Truncated, damaged and non-zip workbooks; a CSV named .xlsx; a zip that is no workbook."""
    check_workbook_mutation(data.draw, "bytes")


# ---- scenarios -----------------------------------------------------------------------------------
SCENARIO_BASE = """\
name: fuzzed
budgets:
  ASF: {multiply: 0.9}
  UKSPF_PS:
    - {year: 2025-26, amount: 1000000}
eligibility:
  ASF: {add_cohorts: [LTU], remove_areas: [E08000032], carry_forward: 1, match_rate: 0.1, end: 2028-03-31}
need:
  - {cohort: LTU, area: E08000032, year: 2025-26, multiply: 1.2}
rules:
  - {rule: max_share, pot_code: ASF, area_code: ALL, cohort_code: LTU, year: ALL, value: 0.5}
pool: [ASF, UKSPF_PS]
lock:
  - {pot_code: ASF, area_code: E08000032}
objective: value
equity_floor: 0.1
"""
SCENARIO_VALUES = [
    "[a]", "[[a]]", "{a: 1}", "[{a: 1}]", "null", "~", ".nan", ".inf", "-.inf", "-1", "0", "1e400", "yes", "''",
    "2025-26", "2025-04-01", "2025-04-01 10:00:00", "2025-04-01T10:00:00Z", "9999-00", "0001-01-01", "ALL", "all",
    "none", "LTU", "E08000032", "E47000003", "ASF", "'=1+1'", "!!python/name:os.system", "&x [*x]",
    "[1, 2, 3]", "{multiply: .nan}", "{amount: -5}", "{year: 9999-00, amount: 1}", "{end: 2025-04-01 10:00:00}",
]


def mutate_scenario(draw) -> str:
    """The base scenario with one to three values replaced (a whole line's, or one in a flow mapping)."""
    lines = SCENARIO_BASE.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        value = draw(st.one_of(st.sampled_from(SCENARIO_VALUES), cell_text.map(repr)))
        if "{" in line and line.rstrip().endswith("}") and draw(st.booleans()):
            head, inner = line[: line.index("{") + 1], line[line.index("{") + 1: line.rindex("}")]
            items = inner.split(", ")
            k = draw(st.integers(0, len(items) - 1))
            items[k] = items[k].split(":")[0] + ": " + value
            lines[i] = head + ", ".join(items) + "}"
        elif ":" in line:
            lines[i] = f"{line.split(':')[0]}: {value}"
        else:
            lines[i] = value
    return "\n".join(lines) + "\n"


def check_scenario_mutation(draw) -> None:
    text = mutate_scenario(draw)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        write_example(folder)
        sc = Path(tmp) / "scenario.yaml"
        sc.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        result = run_cli(["validate", str(folder), "--scenario", str(sc)])
        assert_clean(result, folder_places(folder) + ("scenario.yaml",))


@quick
@given(st.data())
def test_scenario_values(data):
    """Any value at any key of a scenario: exit 0 or 2 with the scenario file and line named."""
    check_scenario_mutation(data.draw)


# ---- the long run ---------------------------------------------------------------------------------
@pytest.fixture
def slow_selected(request):
    """The long run only when asked for with ``-m slow`` (the normal suite runs the quick tests)."""
    if "slow" not in (request.config.getoption("markexpr") or "") or "not slow" in request.config.getoption("markexpr"):
        pytest.skip("the long fuzz run: FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py -m slow")


SLOW_CHECKS = {
    "folder_cells": lambda draw: check_folder_mutation(draw, "cell"),
    "folder_structure": lambda draw: check_folder_mutation(draw, "structure"),
    "workbook_cells": lambda draw: check_workbook_mutation(draw, "cell"),
    "workbook_structure": lambda draw: check_workbook_mutation(draw, "structure"),
    "workbook_bytes": lambda draw: check_workbook_mutation(draw, "bytes"),
    "scenario_values": check_scenario_mutation,
}


@pytest.mark.slow
@pytest.mark.parametrize("strategy", sorted(SLOW_CHECKS))
def test_slow_fuzz(slow_selected, strategy):
    """Every strategy again with many more examples (``FUZZ_EXAMPLES``, default 500)."""

    @slow
    @given(st.data())
    def run(data):
        SLOW_CHECKS[strategy](data.draw)

    run()
