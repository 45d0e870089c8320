"""Writing a frontier (``commissioning frontier``): ``frontier.csv``, ``frontier.png``, ``frontier.xlsx``.

The figures are :mod:`commissioning.analysis.frontier`'s; this lays them out and computes
nothing new (a figure in £m is the same figure, shown in millions).

* ``frontier.csv`` — :meth:`~commissioning.analysis.frontier.Frontier.frame`, one row per
  point, the baseline first (:data:`~commissioning.analysis.frontier.FRONTIER_COLUMNS`).
* ``frontier.png`` — a line chart for a board (matplotlib, its Agg canvas: no display, no
  global backend switched): money moved from today in £m across (and, on the top axis, as a
  share of today's money), the objective up, one line per level with a marker per point,
  today's figure as a dashed line, each level's optimum labelled.
* ``frontier.xlsx`` — the *Frontier* sheet (the run in words, the table, and a native
  scatter-with-lines chart of the same points: one series per level and today's point) and
  the *Run record*. It prints on A4 like the other workbooks
  (:func:`commissioning.writers.printing.setup_print`).
"""

from __future__ import annotations

import math
from pathlib import Path

from commissioning.analysis.frontier import FRONTIER_COLUMNS, FRONTIER_LEVELS, Frontier
from commissioning.analysis.record import run_record
from commissioning.case.labels import run_label
from commissioning.writers.files import write_frame_csv
from commissioning.writers.printing import column_pixels, document_name, layout, setup_print, wrapped_row
from commissioning.writers.record import write_run_record
from commissioning.writers.style import NOTE, SHARE_FORMAT, TITLE, WRAP, Book, text_height

SHEET = "Frontier"
LEVEL_WORDS = {"baseline": "Today (baseline)", "aligned": "Aligned: today's rules, coordinated",
               "pooled": "Pooled: with the local pool"}
COLOURS = {"aligned": "#1F77B4", "pooled": "#D62728", "baseline": "#595959"}
# How money is shown on a chart's axis, by the size of the largest figure: (divisor, suffix, words,
# Excel number format). The example moves tens of millions; a hand-worked case a few thousand.
MONEY_SCALES = ((1e6, "m", "£ million", '£#,##0.0,,"m"'), (1e3, "k", "£ thousand", '£#,##0.0,"k"'),
                (1.0, "", "£", "£#,##0"))
CHART_HEIGHT_PX = 440
TABLE_ROWS_A_PAGE = 28  # rows of the table that print on its first page (landscape A4)


def _headings(fr: Frontier) -> dict[str, str]:
    return {
        "level": "Level", "step": "Step", "max_moved_share": "Limit on money moved (share of today's)",
        "money_moved": "Money moved (£)", "money_moved_share": "Money moved (share of today's)",
        "objective_value": f"Objective ({fr.unit})", "outcomes": "Outcomes", "participants": "Participants",
        "value": "Public value (£)", "share_of_dividend": "Share of the level's dividend", "status": "Status",
    }


def write_frontier_outputs(fr: Frontier, folder: Path) -> None:
    """frontier.csv, frontier.png and frontier.xlsx into ``folder``."""
    write_frame_csv(folder / "frontier.csv", fr.frame(), FRONTIER_COLUMNS)
    write_frontier_chart(fr, folder / "frontier.png")
    write_frontier_workbook(fr, folder / "frontier.xlsx")


def _scale_of(most: float) -> tuple[float, str, str, str]:
    return next((s for s in MONEY_SCALES if abs(most) >= s[0] * 10), MONEY_SCALES[-1])


def money_scale(fr: Frontier) -> tuple[float, str, str, str]:
    """How the frontier's money moved is shown: in £ million when it runs to tens of millions, and so on."""
    moved = [p.money_moved for p in fr.points if p.solved and p.money_moved == p.money_moved]
    return _scale_of(max([*moved, 0.0]) or fr.today_money)


# ---- the PNG ------------------------------------------------------------------------------------
def write_frontier_chart(fr: Frontier, path: Path) -> None:
    """The frontier as a PNG line chart (see the module docstring)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    frame = fr.frame()
    base = fr.baseline
    fig = Figure(figsize=(10, 6.2), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    unit = fr.unit
    div, suffix, money_words, _ = money_scale(fr)
    solved = frame[frame["objective_value"].notna()]
    low, high = base.objective_value, float(max(base.objective_value, solved["objective_value"].max()))
    places = 0 if high - low >= 20 else 2  # a hand-sized case is a few outcomes apart

    def figure(v: float) -> str:  # an objective value in words
        return f"£{v:,.{places}f}" if fr.objective == "value" else f"{v:,.{places}f}"

    def moved(v: float) -> str:  # money moved, in the chart's unit
        return f"£{v / div:,.{0 if div == 1 else 1}f}{suffix}"

    optima = {}
    for level in FRONTIER_LEVELS:
        rows = solved[solved["level"] == level]
        if rows.empty:
            continue
        ax.plot(rows["money_moved"].to_numpy() / div, rows["objective_value"].to_numpy(), marker="o", markersize=4.5,
                linewidth=2.2, color=COLOURS[level], label=LEVEL_WORDS[level])
        optima[level] = (rows.iloc[0], fr.optimum(level))
    # The higher line is labelled above its optimum, the lower below, so no label sits on a line.
    order = sorted(optima, key=lambda lv: optima[lv][1].objective_value)
    for rank, level in enumerate(order):
        opt = optima[level][1]
        dy, va = (8, "bottom") if rank == len(order) - 1 else (-10, "top")
        ax.annotate(f"{level} optimum: {figure(opt.objective_value)}, {moved(opt.money_moved)} moved",
                    (opt.money_moved / div, opt.objective_value), textcoords="offset points", xytext=(0, dy),
                    ha="right", va=va, fontsize=9, color=COLOURS[level],
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
    # Step 0 of both levels, in words, in the room above today's line.
    if optima:
        starts = ", ".join(f"{level} {figure(optima[level][0]['objective_value'])}" for level in optima)
        ax.text(0.03, 0.3, f"The first point of each line: nothing of today's provision moved (only money no\n"
                f"provision uses is added): {starts} {unit}", transform=ax.transAxes, ha="left", va="center",
                fontsize=9, color="#303030",
                bbox=dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor="#BBBBBB"))
    ax.axhline(base.objective_value, color=COLOURS["baseline"], linestyle="--", linewidth=1.2,
               label=f"{LEVEL_WORDS['baseline']}: {figure(base.objective_value)} {unit}")
    ax.plot([base.money_moved / div], [base.objective_value], marker="D", color=COLOURS["baseline"], markersize=6)
    pad = max(1.0, high - low) * 0.12
    ax.set_ylim(max(0.0, low - pad), high + pad)
    ax.margins(x=0.02)
    if fr.objective == "value":
        ydiv, ysuffix, _, _ = _scale_of(high)
        ax.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _: f"£{v / ydiv:,.{places if ydiv == 1 else 1}f}{ysuffix}"))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.{places}f}"))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"£{v:,.{0 if v == round(v) else 1}f}{suffix}"))
    ax.set_xlabel(f"Money moved from today's provision ({money_words}, over the term)")
    ax.set_ylabel(f"{unit[:1].upper() + unit[1:]} over the term")
    if fr.today_money > 0:
        today = fr.today_money / div
        top = ax.secondary_xaxis("top", functions=(lambda m: m / today, lambda s: s * today))
        top.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        top.set_xlabel(f"Share of today's provision moved (today: {moved(fr.today_money)})", fontsize=9)
    ax.grid(True, color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="best", fontsize=9, frameon=True)
    case = fr.case
    fig.suptitle(f"What moving today's money buys: {case.settings.name}"
                 + (f", scenario '{case.scenario}'" if case.scenario else ""), fontsize=13, fontweight="bold")
    ax.set_title("Each point is the best plan when at most that much of today's provision may move "
                 "(all other rules held)", fontsize=9.5, color="#404040", pad=28)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})


# ---- the workbook -------------------------------------------------------------------------------
def write_frontier_workbook(fr: Frontier, path: Path) -> None:
    """frontier.xlsx (see the module docstring)."""
    book = Book(path)
    name = document_name("Frontier", fr.case.settings.name, fr.case.scenario)
    try:
        _frontier_sheet(book, fr, name)
        write_run_record(book.wb, run_record(fr.case, fr.solver, fr.solver_reason or fr.solver, fr.time_limit),
                         book.title, book.label, footer=name)
    finally:
        book.close()


def _frontier_sheet(book: Book, fr: Frontier, name: str) -> None:
    ws = book.wb.add_worksheet(SHEET)
    wb = book.wb
    title = wb.add_format({**TITLE, **WRAP})
    note = wb.add_format({**NOTE, **WRAP})
    wrap = wb.add_format(WRAP)
    share = wb.add_format({"num_format": SHARE_FORMAT})
    indent = wb.add_format({"indent": 1})
    frame = fr.frame()
    heads = _headings(fr)
    widths = [11.0, 6.0, 14.0, 15.0, 12.0, 13.0, 11.0, 12.0, 15.0, 13.0, 10.0]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    last = len(FRONTIER_COLUMNS) - 1
    wrapped_row(ws, 0, 0, last, f"The price of realism: {fr.unit} against money moved from today's provision",
                title, widths, line=19)
    facts = [
        ("Run", run_label(fr.case.settings.name, fr.case.scenario)),
        ("Status", fr.status if fr.status == "optimal" else
         f"{fr.status}: the best found within the time limit, NOT PROVEN OPTIMAL"),
        ("Solver", fr.solver_reason or fr.solver),
        ("Objective", f"{fr.objective} ({fr.unit})"),
    ]
    row = 2
    for label, value in facts:
        ws.write_string(row, 0, label, book.label)
        wrapped_row(ws, row, 2, last, str(value), wrap, widths[2:])
        row += 1
    ws.write_string(row, 0, "Today's money (£)", book.label)
    book.number(ws, row, 2, fr.today_money, book.money)
    # The chart first (the first printed page), then the table on the pages after it.
    chart_row = row + 2
    chart_rows = CHART_HEIGHT_PX // 20 + 1  # rows of the default 15 pt (20 px)
    row = chart_row + chart_rows + 1
    ws.set_h_pagebreaks([row])
    wrapped_row(ws, row, 0, last,
                "Money moved is the money taken from today's cells, Σ max(0, today − plan) over pot, area, cohort "
                "and year. Step 0 keeps all of today's provision (money no provision uses may still be added); "
                f"the last step, {fr.steps}, is the level's optimum; the steps between are evenly spaced in money "
                "moved. Share of the dividend: (objective − today's) ÷ (the level's optimum − today's). "
                "frontier.csv holds the same rows.", note, widths)
    row += 2
    head = row
    for j, c in enumerate(FRONTIER_COLUMNS):
        ws.write_string(head, j, heads[c], book.header)
    ws.set_row(head, text_height([(heads[c], w) for c, w in zip(FRONTIER_COLUMNS, widths)], bold=True))
    figures = [v for v in frame["objective_value"] if v == v]
    small = max(figures, default=0.0) - min(figures, default=0.0) < 20  # a hand-sized case: show decimals
    count = wb.add_format({"num_format": "#,##0.00"}) if small else book.whole
    formats = {"max_moved_share": share, "money_moved": book.money, "money_moved_share": share,
               "objective_value": book.money if fr.objective == "value" else count,
               "outcomes": count, "participants": count, "value": book.money, "share_of_dividend": share,
               "step": None}
    for i, rec in enumerate(frame.itertuples(index=False)):
        r = head + 1 + i
        for j, c in enumerate(FRONTIER_COLUMNS):
            v = getattr(rec, c)
            if c in ("level", "status"):
                ws.write_string(r, j, str(v), indent if c == "status" else None)
            elif v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v) != "<NA>":
                book.number(ws, r, j, v, formats[c])
    end = head + len(frame)
    _chart(book, fr, frame, head, widths, chart_row)
    # The table's header repeats on the pages it runs over (the chart's page comes before it).
    setup_print(ws, name, repeat_rows=head if len(frame) > TABLE_ROWS_A_PAGE else None,
                print_area=(0, 0, end, last), **layout(widths))


def _chart(book: Book, fr: Frontier, frame, head: int, widths: list[float], at_row: int) -> None:
    """A native scatter chart with straight lines: money moved across, the objective up."""
    ws_name = SHEET
    x_col, y_col = FRONTIER_COLUMNS.index("money_moved"), FRONTIER_COLUMNS.index("objective_value")
    chart = book.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    for level in ("baseline", *FRONTIER_LEVELS):
        rows = [i for i, lv in enumerate(frame["level"]) if lv == level]
        if not rows:
            continue
        first, last = head + 1 + rows[0], head + 1 + rows[-1]
        series = {
            "name": LEVEL_WORDS[level],
            "categories": [ws_name, first, x_col, last, x_col],
            "values": [ws_name, first, y_col, last, y_col],
            "marker": {"type": "diamond" if level == "baseline" else "circle", "size": 8 if level == "baseline" else 5,
                       "fill": {"color": COLOURS[level]}, "border": {"color": COLOURS[level]}},
            "line": {"color": COLOURS[level], "width": 2.25} if level != "baseline" else {"none": True},
        }
        chart.add_series(series)
    chart.set_title({"name": f"{fr.unit[:1].upper() + fr.unit[1:]} against money moved from today"})
    _, _, words, money_format = money_scale(fr)
    chart.set_x_axis({"name": f"Money moved from today's provision ({words})", "num_format": money_format, "min": 0,
                      "major_gridlines": {"visible": True, "line": {"color": "#DDDDDD"}}})
    base = fr.baseline.objective_value
    tops = [v for v in frame["objective_value"] if v == v]
    high = max([base, *tops])
    pad = max(1.0, high - base) * 0.12
    y = {"name": fr.unit, "num_format": _scale_of(high)[3] if fr.objective == "value" else
         ("#,##0" if high - base >= 20 else "#,##0.00"),
         "min": _round_down(max(0.0, base - pad)), "major_gridlines": {"visible": True, "line": {"color": "#DDDDDD"}}}
    chart.set_y_axis(y)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": column_pixels(widths) - 10, "height": CHART_HEIGHT_PX})
    book.wb.get_worksheet_by_name(ws_name).insert_chart(at_row, 0, chart)


def _round_down(v: float) -> float:
    """``v`` rounded down to two significant figures (an axis minimum that reads cleanly)."""
    if v <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(v)) - 1)
    return math.floor(v / step) * step
