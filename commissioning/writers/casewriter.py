"""Writing a case back out: one ``.xlsx`` workbook, or a folder of CSVs plus ``case.yaml``.

``commissioning convert`` reads a case in one form and writes it in the other; reading the
result gives back the same :class:`~commissioning.case.model.Case` (only each rule's ``origin``
differs, since it names the file or sheet the rule came from).

How values are laid out (the contract of ``case-format``):

* Tables and columns carry the contract's names, in the order of :mod:`commissioning.inputs.schema`.
  Required tables are always written; ``footprints``, ``rates`` and ``rules`` only when
  the case has rows for them, and so is ``provision``: a provision table with a header and
  no rows reads as no provision recorded (:mod:`commissioning.inputs.validate`), so a case read
  from files never holds an empty one, and one made in code without rows is left out.
* Codes and text are written as text — in a workbook always as string cells, so that text
  such as ``=HYPERLINK(...)`` never becomes a formula; in CSV through
  :func:`~commissioning.writers.files.write_csv`, which makes such text inert with a leading
  apostrophe (the reader takes it off again).
* Lists are joined with ``;``, booleans written ``yes``/``no``, empty values left empty.
* Dates: ISO text ``2025-04-01`` in CSV; real date cells shown as ``yyyy-mm-dd`` in a
  workbook, so that Excel sorts and filters them as dates (ISO text before March 1900,
  where Excel's calendar is wrong).
* Numbers: whole numbers without a decimal point; other numbers in full precision in CSV
  (the shortest text that reads back as exactly the same number) and as number cells in
  a workbook (xlsx keeps 16 significant digits).
* Settings: ``name`` is always written (otherwise the name would follow the file name);
  every other setting only where it differs from its default. In a workbook the ``case``
  sheet lists every setting, leaving the ones at their default empty, with the meaning
  of each as a comment on its key; a nested setting (``transition``, ``protect``) is a
  dotted key for each of its keys (``transition.max_change``), and a floor per code is one
  cell of text (``LTU: 0.9; ALL: 0.5``).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from commissioning.inputs import schema as S
from commissioning.inputs.settings import NESTED_SETTINGS, sheet_keys
from commissioning.errors import OutputError
from commissioning.case.model import Case, Settings
from commissioning.writers.files import new_workbook, output_file, output_folder, write_csv
from commissioning.writers.style import CASE_HEADER, ISO_DATE_FORMAT

# Model field behind each contract column, where the names differ.
_FIELD_OF = {
    "areas": {"area_code": "code", "area_name": "name"},
    "cohorts": {"cohort_code": "code", "cohort_name": "name"},
    "pots": {"pot_code": "code", "pot_name": "name"},
    "departments": {"from": "start"},
}
_OPTIONAL_WHEN_NONEMPTY = ("footprints", "rates", "provision", "rules", "outcomes", "deflators", "departments")
_NOT_A_FOLDER = (".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".txt", ".yaml", ".yml")

# Excel's serial dates are wrong before 1 March 1900 (its phantom 29 February 1900);
# earlier dates are written as ISO text, which reads back the same.
EXCEL_SAFE_DATES = date(1900, 3, 1)
MIN_WIDTH, MAX_WIDTH = 8, 60


def write_case(case: Case, out: Path, force: bool = False, source: Path | None = None) -> None:
    """Write ``case`` as one workbook when ``out`` ends in ``.xlsx``, else as a folder of CSVs.

    The write is atomic: ``out`` appears complete or not at all, it is never the
    ``source`` case itself, and an existing ``out`` is replaced only with ``force``.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        with output_file(out, force, inputs=[source]) as tmp:
            _write_workbook(case, tmp)
    elif suffix in _NOT_A_FOLDER:
        raise OutputError(f"cannot write a case as '{out.name}': give a name ending in .xlsx for a workbook, "
                          "or a folder name for CSV files")
    else:
        with output_folder(out, force, inputs=[source]) as folder:
            _write_folder(case, folder)


# ---- what to write --------------------------------------------------------------------------
def case_tables(case: Case) -> dict[str, list[list[Any]]]:
    """Every table to write, in contract order: name -> rows of model values in column order."""
    out: dict[str, list[list[Any]]] = {}
    for name in S.TABLE_ORDER:
        records = getattr(case, name)
        if name in _OPTIONAL_WHEN_NONEMPTY and not records:  # none, or provision not supplied
            continue
        fields = [_FIELD_OF.get(name, {}).get(c, c) for c in S.TABLES[name].column_names]
        out[name] = [[getattr(rec, f) for f in fields] for rec in records]
    return out


def settings_to_write(settings: Settings, outcomes_stated: bool = False) -> dict[str, Any]:
    """``name``, then every setting that differs from its default, in contract order, as case.yaml holds
    them: a nested setting (``transition``, ``protect``) as a mapping of its keys that are set."""
    defaults = Settings()
    out: dict[str, Any] = {}
    for key in S.SETTINGS_KEYS:
        value = getattr(settings, key)
        if key == "objective":
            # One chosen by default (objective_why) is chosen again on reading; one stated is written even
            # when it is the plain default, since a case with an outcomes table would default otherwise.
            if settings.objective_why is not None or (value == defaults.objective and not outcomes_stated):
                continue
        elif key != "name" and value == getattr(defaults, key):
            continue
        if key in NESTED_SETTINGS:  # a floor of one share for every code is written as that share
            value = {k: v["ALL"] if isinstance(v, dict) and list(v) == ["ALL"] else v
                     for k, v in value.model_dump().items() if v is not None and v != {}}
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def sheet_settings(settings: Settings, outcomes_stated: bool = False) -> dict[str, Any]:
    """:func:`settings_to_write` as a workbook's ``case`` sheet holds it: a nested setting as its dotted
    keys (``transition.max_change``), a floor per code as text (``LTU: 0.9; ALL: 0.5``), a list joined
    with ``;``."""
    out: dict[str, Any] = {}
    for key, value in settings_to_write(settings, outcomes_stated).items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": _shares_text(v) if isinstance(v, dict) else v for k, v in value.items()})
        elif isinstance(value, date):  # as ISO text: the case sheet reads a date cell back as its serial
            out[key] = value.isoformat()
        else:
            out[key] = ";".join(value) if isinstance(value, list) else value
    return out


def _shares_text(shares: dict[str, float]) -> str:
    """A floor per code as one cell: ``LTU: 0.9; ALL: 0.5`` (each share as the shortest text that reads
    back as the same number)."""
    return "; ".join(f"{code}: {_plain(share)!r}" for code, share in shares.items())


def _plain(value: Any) -> Any:
    """A model value as a cell value: text, number, date or None (empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (tuple, list)):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _csv_value(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float; write_csv would
        # round to 6 places, which is right for results but not for a faithful copy.
        return repr(value)
    return value


# ---- folder --------------------------------------------------------------------------------
def _write_folder(case: Case, folder: Path) -> None:
    for name, rows in case_tables(case).items():
        write_csv(folder / f"{name}.csv", S.TABLES[name].column_names,
                  ([_csv_value(v) for v in row] for row in rows))
    text = yaml.safe_dump(settings_to_write(case.settings, bool(case.outcomes)), sort_keys=False, allow_unicode=True,
                          default_flow_style=False)
    (folder / "case.yaml").write_text(text, encoding="utf-8")


# ---- workbook ------------------------------------------------------------------------------
def _width(values: list[Any]) -> float:
    longest = max((len(_display(v)) for v in values), default=0)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_workbook(case: Case, path: Path) -> None:
    wb = new_workbook(path)
    bold = wb.add_format(CASE_HEADER)
    dates = wb.add_format({"num_format": ISO_DATE_FORMAT})
    for name, rows in case_tables(case).items():
        columns = S.TABLES[name].column_names
        ws = wb.add_worksheet(name)
        cells = [[_plain(v) for v in row] for row in rows]
        for c, col in enumerate(columns):
            ws.write_string(0, c, col, bold)
            ws.set_column(c, c, _width([col] + [row[c] for row in cells]))
        for r, row in enumerate(cells, start=1):
            for c, value in enumerate(row):
                write_value(ws, r, c, value, dates)
        ws.freeze_panes(1, 0)
        if cells:
            ws.autofilter(0, 0, len(cells), len(columns) - 1)
    _write_settings_sheet(wb, case.settings, bold, bool(case.outcomes))
    wb.close()


def write_value(ws, row: int, col: int, value: Any, date_format) -> None:
    """Write one cell: text as a string cell (never a formula), numbers and dates as such."""
    value = _plain(value)
    if value is None:
        return
    if isinstance(value, str):
        ws.write_string(row, col, value)
    elif isinstance(value, date) and value >= EXCEL_SAFE_DATES:
        ws.write_datetime(row, col, value, date_format)
    elif isinstance(value, date):
        ws.write_string(row, col, value.isoformat())
    elif isinstance(value, (int, float)) and math.isfinite(value):
        ws.write_number(row, col, value)
    else:  # nothing else is in a valid case; keep it visible rather than lose it
        ws.write_string(row, col, str(value))


def _write_settings_sheet(wb, settings: Settings, bold, outcomes_stated: bool = False) -> None:
    ws = wb.add_worksheet("case")
    ws.write_string(0, 0, "key", bold)
    ws.write_string(0, 1, "value", bold)
    values = sheet_settings(settings, outcomes_stated)
    for r, (key, meaning) in enumerate(sheet_keys().items(), start=1):
        ws.write_string(r, 0, key)
        ws.write_comment(r, 0, meaning, {"x_scale": 2})
        value = values.get(key)
        if value is not None:
            write_value(ws, r, 1, value, None)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, max(24.0, _width(list(values.values()))))
    ws.freeze_panes(1, 0)
