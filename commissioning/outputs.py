"""Writing results safely: whole folders or nothing, and text that stays text.

* :func:`output_folder` assembles every output in a hidden folder beside the target and
  moves it into place only when complete, so a crash or a kill at any moment leaves the
  previous results intact and no partial file. It refuses to write into the case folder
  and to replace an existing folder without ``force``.
* :func:`output_file` does the same for a single file (``convert``, ``template``).
* :func:`write_csv` escapes text that a spreadsheet would run as a formula (``=``, ``+``,
  ``-``, ``@``, tab, carriage return at the start) with a leading apostrophe, the OWASP
  advice for CSV meant for spreadsheets; numbers are never altered.
* :func:`new_workbook` opens an xlsxwriter workbook that never turns strings into
  formulas, links or numbers: input text written with ``write`` stays those characters.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import OutputError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FIXED_TIMESTAMP = datetime(2000, 1, 1)  # workbook metadata date: runs are reproducible


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def check_target(out: Path, force: bool, inputs: Iterable[Path] = ()) -> None:
    """Refuse to overwrite inputs, write inside a case folder, or replace without ``force``."""
    out = Path(out)
    for src in inputs:
        if src is None:
            continue
        src = Path(src)
        if src.exists() and (out.resolve() == src.resolve() or (src.is_dir() and _inside(out, src))):
            raise OutputError(f"refusing to write {out}: it is inside or the same as the input {src}; "
                              "choose an output outside the case")
        if src.exists() and out.exists() and out.is_dir() and _inside(src, out):
            raise OutputError(f"refusing to replace {out}: it contains the input {src}")
    if out.exists() and not force:
        raise OutputError(f"{out} already exists; use --force to replace it")


@contextlib.contextmanager
def output_folder(out: str | Path, force: bool = False, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a fresh folder to fill; on success it replaces ``out`` in one rename.

    A failure (or a kill) leaves ``out`` as it was; the hidden work folder is removed on
    failure and is named ``.<out>.partial-*`` so that a leftover from a kill is plainly
    not a result.
    """
    out = Path(out)
    inputs = list(inputs)
    check_target(out, force, inputs)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    try:
        yield work
        _fsync_tree(work)
        if out.exists():
            if not out.is_dir():
                raise OutputError(f"{out} exists and is not a folder")
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            old.rmdir()
            os.replace(out, old)
            os.replace(work, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


@contextlib.contextmanager
def output_file(out: str | Path, force: bool = False, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; it replaces ``out`` atomically when complete."""
    out = Path(out)
    check_target(out, force, list(inputs))
    if out.exists() and out.is_dir():
        raise OutputError(f"{out} is a folder; give a file name")
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.partial-", suffix=out.suffix, dir=parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, out)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())


def spreadsheet_safe(value: Any) -> Any:
    """Text a spreadsheet would evaluate gets a leading apostrophe; everything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        # Round away binary noise so that outputs are stable and readable.
        r = round(value, 6)
        return repr(0.0 if r == 0 else r)
    return spreadsheet_safe(value)


def write_csv(path: Path, columns: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """Write a CSV (UTF-8, ``\\n`` line ends) with formula-like text made inert."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow([_csv_cell(v) for v in row])


def write_frame_csv(path: Path, frame, columns: list[str] | None = None) -> None:
    """Write a pandas DataFrame through :func:`write_csv` (same escaping and rounding)."""
    cols = columns or list(frame.columns)
    write_csv(path, cols, frame[cols].itertuples(index=False, name=None))


def write_json(path: Path, data: Any) -> None:
    """Stable JSON: sorted keys only where the data does not set an order, 2-space indent."""
    def clean(x):
        if isinstance(x, float):
            if math.isnan(x) or math.isinf(x):
                return None
            r = round(x, 6)
            return 0.0 if r == 0 else r
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(clean(data), fh, indent=2, ensure_ascii=False)
        fh.write("\n")


def new_workbook(path: Path):
    """An xlsxwriter workbook in which no input string can become a formula, link or number."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
        },
    )
    wb.set_properties({"created": FIXED_TIMESTAMP, "author": "commissioning"})
    return wb
