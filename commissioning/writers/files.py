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
import glob
import json
import math
import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

from commissioning.errors import OutputError
from commissioning.inputs.schema import FORMULA_START

FIXED_TIMESTAMP = datetime(2000, 1, 1)  # workbook metadata date: runs are reproducible


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def check_target(out: Path, force: bool, inputs: Iterable[Path] = (), folder: bool = False) -> None:
    """Refuse to overwrite inputs, write inside a case folder, or replace without ``force``; with
    ``folder`` (the output is a folder), refuse a file in its place before any work is done."""
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
    if folder and out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    _check_parent(out)


def _check_parent(out: Path) -> None:
    """Refuse, before any work is done, an output whose folder cannot be made or written: the
    nearest existing folder above it must be a folder, and writable."""
    above = out.resolve().parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise OutputError(f"cannot write {out}: {above} is a file, not a folder")
    if not os.access(above, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {out}: the folder {above} is not writable")


def _work_beside(out: Path, make):
    """``make(parent)`` (a hidden work folder or file beside ``out``), the folder above made first;
    what the system refuses is an :class:`OutputError` naming the path, not a crash."""
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        sweep_leftovers(parent, out.name)
        return make(parent)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e} ({e.filename or parent})") from None


@contextlib.contextmanager
def output_folder(out: str | Path, force: bool = False, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a fresh folder to fill; on success it replaces ``out`` in one rename.

    A failure (or a kill) leaves ``out`` as it was; the hidden work folder is removed on
    failure and is named ``.<out>.partial-<pid>-*`` so that a leftover from a kill is
    plainly not a result. A kill cannot clean up after itself, so the next run writing to
    the same ``out`` sweeps the leftovers of runs whose process is gone
    (:func:`sweep_leftovers`). An existing ``out`` is swapped with the new folder in one
    step where the system allows it (Linux), so there is no moment without results.
    """
    out = Path(out)
    inputs = list(inputs)
    check_target(out, force, inputs, folder=True)
    parent = out.resolve().parent
    work = Path(_work_beside(out, lambda d: tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=d)))
    os.chmod(work, 0o777 & ~_umask())  # mkdtemp makes it private; results are for the team
    try:
        yield work
        _fsync_tree(work)
        if out.exists():
            if not out.is_dir():
                raise OutputError(f"{out} exists and is not a folder")
            if _exchange(work, out):
                shutil.rmtree(work, ignore_errors=True)  # now holds the previous results
                return
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=parent))
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
    fd, tmp = _work_beside(out, lambda d: tempfile.mkstemp(prefix=f".{out.name}.partial-{os.getpid()}-",
                                                          suffix=out.suffix, dir=d))
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes it private
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, out)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def sweep_leftovers(parent: Path, name: str) -> None:
    """Remove what killed runs left beside ``name``: ``.<name>.partial-<pid>-*`` work folders
    or files, and ``.<name>.old-<pid>-*`` previous results, of processes that no longer run.

    Leftovers of a live process (another run writing the same output right now) and names
    without a process id are left alone. Previous results whose run was killed between
    its two renames (where the system cannot swap in one step) are put back when ``name``
    is missing.
    """
    for kind in ("old", "partial"):
        prefix = f".{name}.{kind}-"
        for p in sorted(parent.glob(glob.escape(prefix) + "*")):
            pid = p.name[len(prefix):].split("-", 1)[0]
            if not pid.isdigit() or _running(int(pid)):
                continue
            try:
                if kind == "old" and p.is_dir() and not (parent / name).exists():
                    os.replace(p, parent / name)
                elif p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()
            except OSError:  # someone else swept it first, or it cannot be removed: harmless
                pass


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or cannot tell: keep it
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not glibc, or glibc before 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


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


def _csv_column(column) -> list:
    """One column's cells as :func:`_csv_cell` would write them, decided once per column."""
    import pandas as pd

    values = column.to_numpy()
    if pd.api.types.is_float_dtype(column.dtype):
        # Python's round (correctly rounded, as _csv_cell), not numpy's scale-and-round.
        return ["" if v != v else repr(0.0 if r == 0 else r)
                for v, r in ((v, round(v, 6)) for v in values.astype(float).tolist())]
    if pd.api.types.is_integer_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        if column.isna().any():  # nullable Int64 / boolean: a missing value is an empty cell
            return ["" if pd.isna(v) else v for v in column.astype(object).tolist()]
        return values.tolist()
    return [_csv_cell(v) for v in values.tolist()]


def write_frame_csv(path: Path, frame, columns: list[str] | None = None) -> None:
    """Write a pandas DataFrame with :func:`write_csv`'s escaping and rounding, column by column."""
    cols = columns or list(frame.columns)
    cells = [_csv_column(frame[c]) for c in cols]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        w.writerows(zip(*cells))


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
