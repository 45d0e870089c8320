"""Reading a case at the edge: a folder of CSVs (plus ``case.yaml``) or one ``.xlsx``.

Readers do no interpretation: they hand back :class:`RawTable` objects — the header and
every non-blank row with the row number as the spreadsheet shows it (the header is row
1) — and raw settings. :mod:`commissioning.inputs.validate` turns them into a typed
:class:`~commissioning.case.model.Case`.

Safety (inputs are data, never code): workbooks are opened read-only with cached values
(formulas are never evaluated, macros never kept); ``.xlsm`` is refused; a workbook whose
uncompressed size or cell count is absurd is refused before it is parsed; YAML is read
with ``safe_load``.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from commissioning.errors import CaseError, Problem
from commissioning.inputs.schema import FORMULA_START
from commissioning.inputs.schema import TABLES

# Guards against workbooks that would exhaust memory (a zip bomb, a sheet of a million rows).
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_CELLS = 20_000_000
MAX_CSV_BYTES = 400 * 1024 * 1024

EXCEL_ERRORS = {"#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#GETTING_DATA", "#SPILL!", "#CALC!"}


@dataclass
class RawTable:
    """One table as read: header and rows, each row with its spreadsheet row number."""

    name: str
    where: str  # "pots.csv" or "sheet 'pots'"
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    header_row: int = 1


@dataclass
class RawCase:
    """A case as read, before validation: its tables, its settings, and the problems met reading it."""

    source: Path
    form: str  # "folder" or "workbook"
    tables: dict[str, RawTable]
    settings: dict[str, Any]
    settings_where: str | None
    problems: list[Problem] = field(default_factory=list)
    extra_tables: list[str] = field(default_factory=list)
    settings_rows: dict[str, int] = field(default_factory=dict)  # key -> row or line
    files: list[Path] = field(default_factory=list)  # every file read, in reading order


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digests(files: list[Path]) -> tuple[tuple[str, str], ...]:
    """(file name, SHA-256) of each file, in the order given."""
    return tuple((Path(f).name, file_digest(Path(f))) for f in files)


def read_case_raw(path: str | Path) -> RawCase:
    """Read a case in either form. Raises :class:`CaseError` if it cannot be read at all."""
    path = Path(path)
    if not path.exists():
        raise CaseError(f"no such file or folder: {path}", where=str(path))
    if path.is_dir():
        return _read_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsm":
        raise CaseError(Problem(path.name, None, None, "a macro-enabled workbook (.xlsm) is refused",
                                "a plain .xlsx workbook: save it as 'Excel Workbook (*.xlsx)'"))
    if suffix in (".xlsx",):
        with warnings.catch_warnings():
            # openpyxl warns on stderr about what it drops or cannot read (a date serial out
            # of range becomes an error value, which validation then reports with its cell).
            warnings.simplefilter("ignore", UserWarning)
            return _read_workbook(path)
    if suffix == ".csv":
        raise CaseError(Problem(path.name, None, None, "a single CSV file is not a case",
                                "a folder of CSV files (areas.csv, pots.csv, ...) or one .xlsx workbook"))
    raise CaseError(Problem(path.name, None, None, f"a '{suffix or 'file without extension'}' file is not a case",
                            "a folder of CSV files or one .xlsx workbook"))


# ---- folder of CSVs -----------------------------------------------------------------------
def _read_folder(folder: Path) -> RawCase:
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    files: list[Path] = []
    for name in TABLES:
        f = folder / f"{name}.csv"
        if not f.exists():
            # Also accept a different case of the extension on case-insensitive habits.
            alt = [p for p in folder.iterdir() if p.name.lower() == f"{name}.csv"]
            if not alt:
                continue
            f = alt[0]
        table = read_csv_table(f, name, problems)
        files.append(f)
        if table is not None:
            tables[name] = table
    known = {f"{n}.csv" for n in TABLES}
    extra = sorted(p.name for p in folder.glob("*.csv") if p.name.lower() not in known)
    settings: dict[str, Any] = {}
    settings_where = None
    lines: dict[str, int] = {}
    yml = folder / "case.yaml"
    if not yml.exists() and (folder / "case.yml").exists():
        yml = folder / "case.yml"
    if yml.exists():
        settings_where = yml.name
        settings, lines = read_yaml_mapping(yml, problems)
        files.append(yml)
    return RawCase(folder, "folder", tables, settings, settings_where, problems, extra, lines, files)


def read_yaml_mapping(path: Path, problems: list[Problem]) -> tuple[dict[str, Any], dict[str, int]]:
    """Read a YAML file that must hold a mapping; problems name the file and line.

    Returns the mapping and the line on which each top-level key stands, so that a later
    check can name the line of a bad key.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        problems.append(Problem(path.name, None, None, f"is not UTF-8 text ({e.reason} at byte {e.start})",
                                "a UTF-8 YAML file"))
        return {}, {}
    except OSError as e:
        problems.append(Problem(path.name, None, None, f"cannot be read: {e.strerror}", "a readable file"))
        return {}, {}
    try:
        # Anchors and aliases make a graph, not a tree: a recursive alias or a "billion
        # laughs" of nested aliases would hang or exhaust whatever walks it later, so the
        # document is measured as a tree before anything is built from it.
        if _yaml_expanded_size(yaml.compose(text, Loader=yaml.SafeLoader)) > MAX_YAML_NODES:
            problems.append(Problem(path.name, None, None,
                                    "uses YAML aliases (*name) that repeat without end or expand enormously",
                                    "plain key: value settings"))
            return {}, {}
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problems.append(Problem(path.name, None, None, f"is not valid YAML: {getattr(e, 'problem', None) or e}",
                                "key: value lines", line=mark.line + 1 if mark is not None else None))
        return {}, {}
    except RecursionError:  # PyYAML's parser recurses once per level of nesting
        problems.append(Problem(path.name, None, None, "is nested too deeply to read", "key: value lines"))
        return {}, {}
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        problems.append(Problem(path.name, None, None, f"holds a {type(data).__name__}, not key: value settings",
                                "key: value lines"))
        return {}, {}
    return data, yaml_key_lines(text)


MAX_YAML_NODES = 100_000


def _yaml_expanded_size(root) -> float:
    """How many nodes a composed YAML document has once every alias is expanded.

    Infinite for a recursive alias. Iterative and memoised, so it costs one visit per
    distinct node however large the expansion is.
    """
    if root is None:
        return 0
    sizes: dict[int, float] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]

    def children(n) -> list:
        if isinstance(n, yaml.MappingNode):
            return [x for pair in n.value for x in pair]
        if isinstance(n, yaml.SequenceNode):
            return list(n.value)
        return []

    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            in_progress.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children(node))
            continue
        if key in sizes:
            continue
        if key in in_progress:  # reached from inside itself
            return float("inf")
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children(node) if id(c) not in sizes)
    return sizes[id(root)]


def yaml_key_lines(text: str) -> dict[str, int]:
    """Line (1-based) of each top-level key of a YAML mapping; nested keys as 'a.b'."""
    lines: dict[str, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(n, prefix: str) -> None:
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = f"{prefix}{k.value}"
                lines.setdefault(key, k.start_mark.line + 1)
                walk(v, key + ".")
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                key = f"{prefix}{i}"
                lines.setdefault(key, item.start_mark.line + 1)
                walk(item, key + ".")

    walk(node, "")
    return lines


def read_csv_table(path: Path, name: str, problems: list[Problem]) -> RawTable | None:
    """Read one CSV file as table ``name``; None (with the reason added to ``problems``) when it cannot be used."""
    where = path.name
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            problems.append(Problem(where, None, None, f"is {size / 1e6:,.0f} MB", f"a CSV under {MAX_CSV_BYTES / 1e6:,.0f} MB"))
            return None
        data = path.read_bytes()
    except OSError as e:
        problems.append(Problem(where, None, None, f"cannot be read: {e.strerror}", "a readable file"))
        return None
    if data[:4] == b"PK\x03\x04":
        problems.append(Problem(where, None, None, "is an Excel workbook (or another zip file) named .csv",
                                "comma-separated text; save the sheet as 'CSV UTF-8'"))
        return None
    if b"\x00" in data[:4096]:
        problems.append(Problem(where, None, None, "is binary, not text", "comma-separated UTF-8 text"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        # Give the row: count newlines before the bad byte.
        row = data[: e.start].count(b"\n") + 1
        problems.append(Problem(where, row, None, f"is not UTF-8 (byte 0x{data[e.start]:02x})",
                                "UTF-8 text; save as 'CSV UTF-8'"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    try:
        for row in reader:
            line = reader.line_num
            if header is None:
                if not any(c.strip() for c in row):
                    continue
                header = [c.strip() for c in row]
                header_row = line
                continue
            if not any(c.strip() for c in row):
                continue
            rows.append((line, [_unescaped(c) for c in row]))
    except csv.Error as e:
        problems.append(Problem(where, reader.line_num, None, f"is not valid CSV: {e}", "comma-separated text"))
        return None
    if header is None:
        problems.append(Problem(where, None, None, "is empty", "a header row naming the columns"))
        return None
    return _checked_header(RawTable(name, where, header, rows, header_row), problems)


def _unescaped(cell: str) -> str:
    """Undo the apostrophe that :func:`outputs.spreadsheet_safe` puts before formula-like text.

    ``'=SUM(A1)`` in a CSV is the text ``=SUM(A1)`` made inert, as Excel reads a typed
    apostrophe; without this a case converted to CSV and read back would change.
    """
    if cell.startswith("'") and cell[1:2] and cell[1] in FORMULA_START:
        return cell[1:]
    return cell


def _checked_header(table: RawTable, problems: list[Problem]) -> RawTable | None:
    seen: dict[str, int] = {}
    ok = True
    for i, h in enumerate(table.header):
        col = _column_letter(i) if table.where.startswith("sheet") else f"#{i + 1}"
        if h == "":
            if any(i < len(r) and str(r[i] if r[i] is not None else "").strip() for _, r in table.rows):
                problems.append(Problem(table.where, table.header_row, col, "a column of data has no header",
                                        "a header for every column"))
                ok = False
            continue
        if h in seen:
            problems.append(Problem(table.where, table.header_row, h, f"the header '{h}' appears twice",
                                    "each column once"))
            ok = False
        seen[h] = i
    return table if ok else None


def _column_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


# ---- one workbook --------------------------------------------------------------------------
def check_workbook_safe(path: Path) -> None:
    """Refuse a file that is not a real .xlsx or that would exhaust memory when opened."""
    where = path.name
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as e:
        raise CaseError(Problem(where, None, None, f"cannot be read: {e.strerror}", "a readable file")) from None
    if magic != b"PK\x03\x04":
        texty = bool(magic) and all(32 <= b < 127 or b in (9, 10, 13) for b in magic[:4].lstrip(b"\xef\xbb\xbf"))
        hint = f"a CSV or text file named {path.suffix or 'without an extension'}" if texty else \
            "not a workbook"
        raise CaseError(Problem(where, None, None, f"is {hint}", "an .xlsx workbook saved by Excel or LibreOffice"))
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if "vbaProject.bin" in {n.rsplit('/', 1)[-1] for n in names}:
                raise CaseError(Problem(where, None, None, "contains macros (a vbaProject)",
                                        "a plain .xlsx workbook without macros"))
            if total > MAX_UNCOMPRESSED_BYTES or (total > 50 * 1024 * 1024 and total / packed > MAX_COMPRESSION_RATIO):
                raise CaseError(Problem(where, None, None,
                                        f"would unpack to {total / 1e6:,.0f} MB (compressed {packed / 1e6:,.1f} MB)",
                                        f"a workbook under {MAX_UNCOMPRESSED_BYTES / 1e6:,.0f} MB unpacked"))
            if "xl/workbook.xml" not in names:
                raise CaseError(Problem(where, None, None, "is a zip file but not an Excel workbook",
                                        "an .xlsx workbook"))
            # Cells, and shared strings (openpyxl loads the whole table as it opens).
            for kind, members, tags in (
                ("cells", [i for i in infos if i.filename.startswith("xl/worksheets/")], _CELL_TAGS),
                ("shared strings", [i for i in infos if i.filename.lower() == "xl/sharedstrings.xml"], _STRING_TAGS),
            ):
                n = _counted_tags(z, members, tags)
                if n > MAX_CELLS:
                    raise CaseError(Problem(where, None, None, f"holds more than {n:,} {kind}",
                                            f"a workbook of at most {MAX_CELLS:,} cells"))
    except zipfile.BadZipFile:
        raise CaseError(Problem(where, None, None, "is damaged or truncated (not a readable zip)",
                                "a complete .xlsx workbook")) from None


_CELL_TAGS = (b"<c ", b"<c>", b":c ", b":c>")  # also prefixed ("<x:c r=...>") workbooks
_STRING_TAGS = (b"<si>", b"<si ", b":si>", b":si ")


def _counted_tags(z: zipfile.ZipFile, members: list[zipfile.ZipInfo], tags: tuple[bytes, ...]) -> int:
    """Count ``tags`` in the members' XML as it streams, stopping once past :data:`MAX_CELLS`.

    A sheet's declared dimension can be absent or lie, and parsing tens of millions of
    cells takes minutes and gigabytes; counting tags in the raw bytes takes about a second
    even at the size limit. A damaged member is left for the reader to report.
    """
    cells = 0
    keep = max(len(t) for t in tags) - 1
    for info in members:
        tail = b""
        try:
            with z.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    data = tail + chunk
                    cells += sum(data.count(t) for t in tags)
                    tail = data[-keep:]
                    cells -= sum(tail.count(t) for t in tags)  # counted again with the next chunk
                    if cells > MAX_CELLS:
                        return cells
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
            continue
    return cells


def open_workbook(path: Path):
    """Open a workbook safely for reading values (no formulas evaluated, no macros)."""
    import openpyxl

    check_workbook_safe(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True, keep_vba=False, keep_links=False)
    except CaseError:
        raise
    except Exception as e:  # openpyxl raises many types for damaged files
        raise CaseError(Problem(path.name, None, None, f"cannot be opened as a workbook ({type(e).__name__}: {e})",
                                "an .xlsx workbook saved by Excel or LibreOffice")) from None


def _read_workbook(path: Path) -> RawCase:
    wb = open_workbook(path)
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    settings: dict[str, Any] = {}
    settings_rows: dict[str, int] = {}
    settings_where = None
    try:
        sheets = {ws.title: ws for ws in wb.worksheets}
        lower = {t.lower().strip(): t for t in sheets}
        cells = 0
        damaged: set[str] = set()
        for ws in wb.worksheets:
            try:
                dim = ws.max_row * ws.max_column if ws.max_row and ws.max_column else 0
            except Exception as e:  # openpyxl parses read-only sheets lazily: damage shows up here
                _damaged_sheet(ws.title, e, problems)
                damaged.add(ws.title)
                continue
            cells += dim
        if cells > MAX_CELLS:
            raise CaseError(Problem(path.name, None, None, f"declares {cells:,} cells",
                                    f"a workbook of at most {MAX_CELLS:,} cells"))
        for name in TABLES:
            title = lower.get(name)
            if title is None or title in damaged:
                continue
            ws = sheets[title]
            if getattr(ws, "sheet_state", "visible") != "visible":
                problems.append(Problem(f"sheet '{title}'", None, None, "is hidden", "a visible sheet (it is read all the same)",
                                        severity="warning"))
            try:
                table = _sheet_table(ws, name, problems)
            except Exception as e:
                _damaged_sheet(title, e, problems)
                continue
            if table is not None:
                tables[name] = table
        if "case" in lower and lower["case"] not in damaged:
            settings_where = f"sheet '{lower['case']}'"
            try:
                settings, settings_rows = _settings_sheet(sheets[lower["case"]], settings_where, problems)
            except Exception as e:
                _damaged_sheet(lower["case"], e, problems)
        known = set(TABLES) | {"case", "read me", "readme", "read_me"}
        extra = sorted(t for t in sheets if t.lower().strip() not in known)
    finally:
        wb.close()
    return RawCase(path, "workbook", tables, settings, settings_where, problems, extra, settings_rows, [path])


def _damaged_sheet(title: str, e: Exception, problems: list[Problem]) -> None:
    """A sheet openpyxl cannot parse (a bad number, broken XML, a damaged zip member).

    Read-only sheets are parsed only as their rows are read, so a damaged cell raises
    whatever the XML or number parser raises, long after the workbook opened; it is bad
    input, reported with the sheet's name. Running out of memory is not swallowed.
    """
    if isinstance(e, MemoryError):
        raise e
    detail = str(e).splitlines()[0][:120] if str(e) else ""
    problems.append(Problem(f"sheet '{title}'", None, None,
                            f"is damaged and cannot be read ({type(e).__name__}{': ' + detail if detail else ''})",
                            "a sheet saved by Excel or LibreOffice"))


def _cell_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.date() if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0) else v
    return v


def _sheet_table(ws, name: str, problems: list[Problem]) -> RawTable | None:
    where = f"sheet '{ws.title}'"
    header: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, list[Any]]] = []
    for r_index, row in enumerate(ws.iter_rows(values_only=True), start=1):
        values = [_cell_value(v) for v in row]
        blank = all(v is None or (isinstance(v, str) and not v.strip()) for v in values)
        if header is None:
            if blank:
                continue
            header = ["" if v is None else str(v).strip() for v in values]
            while header and header[-1] == "":
                header.pop()
            header_row = r_index
            continue
        if blank:
            continue
        rows.append((r_index, values))
    if header is None:
        problems.append(Problem(where, None, None, "is empty", "a header row naming the columns"))
        return None
    return _checked_header(RawTable(name, where, header, rows, header_row), problems)


def _settings_sheet(ws, where: str, problems: list[Problem]) -> tuple[dict[str, Any], dict[str, int]]:
    out: dict[str, Any] = {}
    rows: dict[str, int] = {}
    header_seen = False
    for r_index, row in enumerate(ws.iter_rows(values_only=True), start=1):
        values = [_cell_value(v) for v in row] + [None, None]
        key, value = values[0], values[1]
        if key is None or (isinstance(key, str) and not key.strip()):
            continue
        key = str(key).strip()
        if not header_seen and key.lower() == "key":
            header_seen = True
            continue
        if key in out:
            problems.append(Problem(where, r_index, "key", f"the key '{key}' appears twice", "each key once"))
            continue
        if isinstance(value, str) and key == "parties":
            value = [p.strip() for p in value.split(";") if p.strip()]
        out[key] = value
        rows[key] = r_index
    return out, rows
