"""Writing an optimisation run: ``allocations.csv``, ``summary.json``, ``results.xlsx`` (and, with
an explanation, ``flags.csv``, ``asks.csv``, ``package.csv`` and ``realism.csv``).

Writers lay out result objects; they compute nothing new. The summary
(:mod:`commissioning.analysis.summary`) is the contract's (``outputs.md``): ``scenario``, ``status``, ``objective``, ``budget``, ``need_people``,
``levels`` (each with ``allocated``, ``participants``, ``outcomes``, ``value``,
``unmet_people``, ``idle_amount``) and ``dividends`` (``alignment`` = aligned − baseline,
``devolution`` = pooled − aligned). More keys follow them, among them
``pool_not_poolable`` (the pots a scenario pools although marked ``poolable = no``),
``scenario_applied`` and ``rules_changed`` (:func:`commissioning.inputs.scenario.changes_rules`),
which the labels of ``explain`` and ``compare`` read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


from commissioning.analysis.realism import realism_frame

from optimiser.levels import RunResult

from commissioning.analysis.summary import explanation_summary, summary_record
from commissioning.writers.files import write_frame_csv, write_json

# CSVs longer than this are written by the asks' worker process, when there is one, while
# this process writes the workbook (below it, sending the frame costs more than it saves).
AWAY_ABOVE_ROWS = 1000
ALLOCATION_CSV_COLUMNS = ["scenario", "level", "pot_code", "area_code", "cohort_code", "year", "amount",
                          "participants", "outcomes", "value", "programme", "unit_cost", "outcome_rate"]


def write_run_outputs(run: RunResult, folder: Path, extra_summary: dict[str, Any] | None = None,
                      explanation=None, progress=None, workers=None) -> None:
    """Write every output of a run into ``folder``.

    With ``workers`` (the asks' worker process, :mod:`commissioning.analysis.workers`), the two large
    CSVs are written there while this process writes the workbook: the same function on the
    same frames, so the same bytes. A worker that fails is said on standard error and its
    files are written here.
    """
    say = progress or (lambda _: None)
    # Every row carries the run's status, so a figure copied out of a run stopped by its time
    # limit still says it is the best found, not proven optimal.
    status = run.status
    csvs = [(folder / "allocations.csv", run.allocations_frame().assign(status=status),
             ALLOCATION_CSV_COLUMNS + ["status"])]
    if run.case.valuation.valued:
        from commissioning.analysis.value import VALUE_COLUMNS, run_value_frame

        frame = run_value_frame(run)
        csvs.append((folder / "value.csv", frame.assign(status=status), VALUE_COLUMNS + ["status"]))
    extra = dict(extra_summary or {})
    if explanation is not None:
        from commissioning.analysis.asks import ASK_COLUMNS

        from commissioning.analysis.flags import FLAG_COLUMNS
        from commissioning.analysis.realism import REALISM_COLUMNS

        csvs.append((folder / "flags.csv", explanation.flags.assign(status=status), FLAG_COLUMNS + ["status"]))
        csvs.append((folder / "asks.csv", explanation.asks.assign(status=status), ASK_COLUMNS + ["status"]))
        csvs.append((folder / "realism.csv", realism_frame(explanation).assign(status=status),
                     REALISM_COLUMNS + ["status"]))
        if getattr(explanation, "package", None) is not None:
            from commissioning.analysis.package import PACKAGE_COLUMNS

            csvs.append((folder / "package.csv", explanation.package.steps.assign(status=status),
                         PACKAGE_COLUMNS + ["status"]))
        extra.update(explanation_summary(explanation))
    away = []
    for job in csvs:
        if getattr(workers, "extra", 0) and len(job[1]) > AWAY_ABOVE_ROWS:
            try:
                away.append((job, workers.submit(write_frame_csv, *job)))
                continue
            except Exception as e:  # the worker is gone: write it here
                away.append((job, e))
                continue
        write_frame_csv(*job)
    write_json(folder / "summary.json", summary_record(run, extra).to_json())
    say("writing the results workbook")
    from commissioning.writers.resultsbook import write_results_workbook

    write_results_workbook(run, folder / "results.xlsx", explanation=explanation)
    for job, pending in away:
        try:
            if isinstance(pending, Exception):
                raise pending
            pending.result()
        except Exception as e:
            import sys

            print(f"commissioning: the second process could not write {job[0].name} ({type(e).__name__}: {e}); "
                  "writing it here instead", file=sys.stderr)
            write_frame_csv(*job)
