"""The command line: ``commissioning validate|convert|template|map|optimise|explain|agree|check|compare|sensitivity|robust|frontier``.

Exit codes: 0 success (warnings allowed); 1 ``check`` found a breach; 2 bad input or an
output that cannot be written; 3 infeasible; 4 solver trouble. A user error is a short
message, never a traceback (``--debug`` shows one).
"""

from __future__ import annotations

import functools
import sys
import traceback
from pathlib import Path

import click

from commissioning.analysis.forms import FORM_KEYS
from commissioning.errors import CommissioningError, OutputError, Problem


class Context:
    """The flags every command is handed: ``--debug`` (show tracebacks) and ``--quiet``.

    Either can be given before the command (``commissioning --quiet optimise …``) or after it
    (``commissioning optimise … --quiet``); both positions mean the same, and a flag given in
    either is on.
    """

    def __init__(self, debug: bool = False, quiet: bool = False):
        self.debug = debug
        self.quiet = quiet


_DEBUG_HELP = "Show a traceback for errors (for developers)."
_QUIET_HELP = "No progress or warnings on standard error."


def _set_flag(name: str):
    """A callback turning the Context's flag ``name`` on when the option is given after the command."""

    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            setattr(ctx.ensure_object(Context), name, True)

    return callback


def _add_common_flags(cmd: click.Command) -> None:
    """Give ``cmd`` its own ``--debug`` and ``--quiet`` (shown in its ``--help``), which set the
    same Context flags as the group's options. They are not passed to the command's function."""
    taken = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
    if "--debug" not in taken:
        cmd.params.append(click.Option(["--debug"], is_flag=True, expose_value=False, callback=_set_flag("debug"),
                                       help=_DEBUG_HELP))
    if "--quiet" not in taken:
        cmd.params.append(click.Option(["--quiet"] + ([] if "-q" in taken else ["-q"]), is_flag=True,
                                       expose_value=False, callback=_set_flag("quiet"), help=_QUIET_HELP))


class _Group(click.Group):
    """A group whose every command also takes ``--debug`` and ``--quiet`` after its name."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _add_common_flags(cmd)
        super().add_command(cmd, name)


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


def handle_errors(fn):
    """Turn project errors into messages and exit codes; anything else is a bug."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = bool(ctx.find_object(Context) and ctx.find_object(Context).debug)
        try:
            return fn(*args, **kwargs)
        except CommissioningError as e:
            if debug:
                traceback.print_exc()
            _echo_err(f"error: {e}")
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            _echo_err("interrupted: nothing was written")
            ctx.exit(130)
        except MemoryError:
            _echo_err("error: out of memory — the case is too large for this machine")
            ctx.exit(2)
        except BrokenPipeError:  # output piped into a command that stopped reading (head, less)
            sys.stderr.close()
            ctx.exit(0)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as e:  # a bug in this program, not the user's input
            if debug:
                traceback.print_exc()
            _echo_err(f"internal error (a bug in commissioning, please report it): {type(e).__name__}: {e}\n"
                      "run again with --debug for the traceback")
            ctx.exit(70)

    return wrapper


def print_warnings(warnings: list[Problem], quiet: bool = False) -> None:
    """Print the warnings on standard error under a count line; nothing when quiet or there are none."""
    if quiet or not warnings:
        return
    _echo_err(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}:")
    for w in warnings:
        _echo_err(f"  - {w}")


def solver_option(fn):
    """The ``--solver`` option (auto, cbc or highs; default auto) of every command that solves."""
    return click.option("--solver", type=click.Choice(["auto", "cbc", "highs"]), default="auto", show_default=True,
                        help="auto: HiGHS (through highspy, a dependency), CBC (bundled with PuLP) only where highspy "
                             "is missing.")(fn)


def jobs_option(fn):
    """The ``--jobs`` option of every command that shares its re-solves with a second process."""
    return click.option("--jobs", type=click.IntRange(min=1), default=None,
                        help="Processes for the independent re-solves (default: 2 on a machine with two or more "
                             "cores, for cases above 10,000 eligible cells; 1 makes them all in this process). "
                             "The same figures either way.")(fn)


def cluster_option(fn):
    """The ``--cluster`` option of every command that makes many independent solves."""
    return click.option("--cluster", "cluster", default=None, metavar="ADDRESS",
                        help="A Dask scheduler (tcp://host:8786) to run the independent solves on; the same "
                             "figures as without it. See the README, 'Running on a cluster'.")(fn)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help=_DEBUG_HELP + " Also accepted after the command.")
@click.option("--quiet", "-q", is_flag=True, help=_QUIET_HELP + " Also accepted after the command.")
@click.version_option(package_name="commissioning")
@click.pass_context
def main(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Line up employment-and-skills funding pots against need, and write the agreement.

    CASE is a folder of CSV files (plus case.yaml) or one .xlsx workbook.
    """
    obj = ctx.ensure_object(Context)
    obj.debug = obj.debug or debug
    obj.quiet = obj.quiet or quiet


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), help="Also check a scenario file against the case.")
@click.pass_obj
@handle_errors
def validate(obj: Context, case: Path, scenario: Path | None) -> None:
    """Check a case (and optionally a scenario); list every problem with its place.

    The summary is of the case as it is run: with the scenario applied, when there is one.
    """
    from commissioning.inputs.validate import summary_lines, validate_path

    v = validate_path(case)
    print_warnings(v.warnings, obj.quiet)
    if not v.ok:
        from commissioning.errors import CaseError

        raise CaseError(v.errors)
    c, warnings = v.case, list(v.warnings)
    if scenario is not None:
        from commissioning.inputs.scenario import apply_scenario, load_scenario

        sc = load_scenario(scenario, c)
        c = apply_scenario(c, sc)
        print_warnings(sc.warnings, obj.quiet)
        warnings += sc.warnings
        click.echo(f"Scenario '{sc.name}' is valid against the case.")
    for line in summary_lines(c):
        click.echo(line)
    click.echo("Valid." if not warnings else f"Valid, with {len(warnings)} warning(s).")


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.pass_obj
@handle_errors
def convert(obj: Context, case: Path, out: Path, force: bool) -> None:
    """Turn a case folder into a workbook (OUT ends in .xlsx), or a workbook into a folder."""
    from commissioning.writers.casewriter import write_case
    from commissioning.inputs.validate import load_case

    c = load_case(case)
    write_case(c, out, force=force, source=case)
    click.echo(f"Wrote {out}")


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.pass_obj
@handle_errors
def template(obj: Context, out: Path, force: bool) -> None:
    """Write a blank input workbook with every sheet, header comments and drop-downs."""
    from commissioning.writers.template import write_template

    write_template(out, force=force)
    click.echo(f"Wrote {out}")


@main.command(name="map")
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Folder to write the map into.")
@click.option("--get-working", "get_working", is_flag=True,
              help="Also write get-working-annex.md, a Get Working plan annex: provision aligned against need, "
                   "duplication and gaps, and the commissioning intentions the optimum implies (solves the case).")
@solver_option
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.pass_obj
@handle_errors
def map_command(obj: Context, case: Path, out: Path, get_working: bool, solver: str, force: bool) -> None:
    """Map today's provision against need: coverage, duplication, gaps with reasons, idle money.

    Writes coverage.csv, flags.csv, map.json and map.xlsx into OUT (and, with --get-working,
    get-working-annex.md).
    """
    from commissioning.writers.mapbook import map_summary_lines, write_map_outputs
    from commissioning.analysis.mapping import provision_map
    from commissioning.writers.files import output_folder
    from commissioning.inputs.validate import load_case

    c = load_case(case)
    pm = provision_map(c)
    annex = None
    if get_working:
        from commissioning.analysis.annex import get_working_annex
        from optimiser.levels import optimise_case

        annex = get_working_annex(c, pm, optimise_case(c, solver=solver))
    with output_folder(out, force, inputs=[case]) as work:
        write_map_outputs(pm, c, work)
        if annex is not None:
            from commissioning.writers.annex import write_annex

            write_annex(annex, work / "get-working-annex.md")
    for line in map_summary_lines(pm):
        click.echo(line)
    click.echo(f"Wrote {out}: coverage.csv, flags.csv, map.json, map.xlsx"
               + (", get-working-annex.md" if annex is not None else ""))


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@solver_option
@click.option("--time-limit", type=float, default=None, help="Seconds per solve; the best answer so far is "
              "kept and marked not proven optimal.")
@click.option("--scenario", type=click.Path(path_type=Path), help="A scenario file overlaying the case.")
@click.option("--pool-join-asks", "pool_joins", type=click.IntRange(min=0), default=None,
              help="How many 'let this pot join the pool' asks to measure. Default: all that rank among the "
              "12 measured asks, but none when the pooled model has over 100,000 variables (each is then a "
              "re-solve of about a minute); those are reported as estimates in summary.json.")
@jobs_option
@click.option("--alternatives", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also find N further allocations of the aligned and pooled levels, each within near_optimal of "
              "the optimum (exactly optimal by default) and as different as possible by pot and area from the "
              "plans before it: alternatives.csv.")
@cluster_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.pass_obj
@handle_errors
def optimise(obj: Context, case: Path, out: Path, solver: str, time_limit: float | None, scenario: Path | None,
             pool_joins: int | None, jobs: int | None, alternatives: int, cluster: str | None, force: bool) -> None:
    """Compute baseline, aligned and pooled allocations, and the dividends between them."""
    from optimiser.levels import optimise_case

    from commissioning.writers.files import check_target, output_folder
    from commissioning.cli.progress import Progress
    from commissioning.writers.results import write_run_outputs
    from commissioning.inputs.scenario import load_case_with_scenario

    check_target(out, force, [case] + ([scenario] if scenario else []), folder=True)
    c, warnings = load_case_with_scenario(case, scenario)
    print_warnings(warnings, obj.quiet)
    progress = Progress(obj.quiet)
    from commissioning.analysis.dropped import AlignedAhead
    from commissioning.analysis.explain import explain_run
    from commissioning.analysis.workers import for_case

    # Started now, so that its imports overlap the optimisation (commissioning.analysis.workers).
    from commissioning.analysis.cluster import runner

    # On a cluster the asks are its tasks (every pool-join ask measured), not the second process's.
    with runner(cluster) as where, for_case(jobs, len(c.eligibility.cells())) as workers:
        # The aligned level's dropped-cohort re-solves begin in the second process while this one
        # solves the pooled level (on a cluster they are its tasks with the rest).
        ahead = None if getattr(where, "address", None) else AlignedAhead(workers)
        run = optimise_case(c, solver=solver, time_limit=time_limit, progress=progress, after_level=ahead)
        explanation = explain_run(run, progress=progress, pool_joins=pool_joins, workers=workers, runner=where,
                                  ahead=ahead)
        alts = None
        if alternatives:
            from optimiser.alternatives import run_alternatives

            alts = run_alternatives(run, alternatives, progress=progress)
        with output_folder(out, force, [case] + ([scenario] if scenario else [])) as work:
            progress(f"writing outputs to {out}")
            write_run_outputs(run, work, explanation=explanation, progress=progress, workers=workers)
            if alts is not None:
                from commissioning.writers.alternatives import write_alternatives

                write_alternatives(alts, work)
    _print_run(run)
    if alts is not None:
        _print_alternatives(alts, run)
    if len(explanation.unmeasured):
        best = explanation.unmeasured.iloc[0]
        click.echo(f"  {len(explanation.unmeasured)} pool-join ask(s) estimated, not measured (the pooled model has "
                   f"{run.levels['pooled'].lp.n:,} variables); the best: {best['detail']}. "
                   "Measure with --pool-join-asks N.")
    click.echo(f"Wrote {out}")


def _print_run(run) -> None:
    from commissioning.case.labels import run_label

    L = run.levels
    click.echo(f"{run_label(run.case.settings.name, run.case.scenario)}: {run.status} "
               f"(solver {run.solver_reason or run.solver}; objective {run.objective})")
    if run.status == "time_limit":
        click.echo("  NOT PROVEN OPTIMAL: the solver stopped at its time limit; these are the best figures found")
    w = 10 if "settlement" in L else 9
    click.echo(f"  {'level':<{w}} {'allocated':>16} {'participants':>13} {'outcomes':>11} {'value':>16}")
    for name in run.level_names:
        t = L[name].totals
        click.echo(f"  {name:<{w}} {'£' + format(t['allocated'], ',.0f'):>16} {t['participants']:>13,.0f} "
                   f"{t['outcomes']:>11,.0f} {'£' + format(t['value'], ',.0f'):>16}")
    d = run.dividends()
    if run.objective in ("outcomes", "coverage"):
        key, unit = ("outcomes", "outcomes") if run.objective == "outcomes" else ("participants", "participants")
        click.echo(f"  alignment dividend: {d['alignment'][key]:+,.0f} {unit}; "
                   f"devolution dividend: {d['devolution'][key]:+,.0f} {unit}")
        if "settlement" in d:
            click.echo(f"  settlement dividend (settlement - aligned): {d['settlement'][key]:+,.0f} {unit}")
    else:
        from commissioning.analysis.value import signed_money
        from optimiser.objective import MEASURE, UNIT_LONG

        key = MEASURE[run.objective]  # value, or in a valued case fiscal, economic or social
        words = UNIT_LONG[run.objective].removeprefix("£ ")
        align, devolve = (L[a].totals[key] - L[b].totals[key] for a, b in (("aligned", "baseline"),
                                                                             ("pooled", "aligned")))
        click.echo(f"  alignment dividend: {signed_money(align)} {words}; devolution dividend: "
                   f"{signed_money(devolve)} {words}")
        if "settlement" in L:
            click.echo(f"  settlement dividend (settlement - aligned): "
                       f"{signed_money(L['settlement'].totals[key] - L['aligned'].totals[key])} {words}")
    if run.objective_why:
        click.echo(f"  objective {run.objective}: {run.objective_why}")
    if run.case.valuation.valued:
        from commissioning.analysis.value import headline, run_value_frame, value_record

        record = value_record(run.case, run_value_frame(run))
        for level, words in (("alignment", "coordination alone"), ("devolution", "pooling on top")):
            click.echo(f"  {headline(run.case, record, level, words)}")
        click.echo(f"  ({record['note']}; value.csv has the figures by level, pot, year and outcome)")


def _print_alternatives(alts, run) -> None:
    from optimiser.objective import UNIT

    from optimiser.alternatives import tolerance

    click.echo(f"  near-optimal alternatives (alternatives.csv), each within {tolerance(run.case):g} of the optimum:")
    for level, found in alts.items():
        for a in found:
            click.echo(f"    {level} {a.number}: {a.objective_value:,.0f} {UNIT[run.objective]} "
                       f"({a.share_of_optimum:.2%} of the optimum); {a.share_reallocated:.0%} of the money in "
                       f"another pot-area pair than the optimum's; {a.share_outside_optimum:.0%} in pairs the "
                       f"optimum leaves unused, {a.share_outside_earlier:.0%} in pairs no earlier plan uses")


@main.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--top", type=int, default=3, show_default=True, help="How many asks to describe.")
@click.pass_obj
@handle_errors
def explain(obj: Context, results: Path, top: int) -> None:
    """Tell, in plain English, what a finished run found: what binds, gaps, idle money, asks."""
    from commissioning.analysis.narrative import narrate

    for line in narrate(results, top=top):
        click.echo(line)


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@solver_option
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: one per scenario, at most one per CPU).")
@cluster_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.pass_obj
@handle_errors
def compare(obj: Context, case: Path, scenarios: tuple[Path, ...], out: Path, solver: str, workers: int | None,
            cluster: str | None, force: bool) -> None:
    """Run every scenario and lay them side by side: comparison.csv, comparison.xlsx.

    Each scenario is solved as `optimise --scenario` would solve it; the first is the one
    the others are compared with.
    """
    from commissioning.analysis.compare import check_scenarios, comparison_lines, run_scenarios
    from commissioning.writers.comparebook import write_comparison_outputs
    from commissioning.writers.files import check_target, output_folder
    from commissioning.analysis.sensitivity import progress_bar

    inputs = [case, *scenarios]
    check_target(out, force, inputs, folder=True)
    c, warnings, _ = check_scenarios(case, list(scenarios))
    print_warnings(warnings, obj.quiet)
    bar, task = progress_bar(len(scenarios), obj.quiet, "Solving scenarios")
    from commissioning.analysis.cluster import runner

    with runner(cluster) as where, bar:
        runs = run_scenarios(case, list(scenarios), solver=solver, workers=workers,
                             on_done=lambda _: bar.advance(task), runner=where)
    with output_folder(out, force, inputs) as work:
        write_comparison_outputs(runs, c, work)
    for line in comparison_lines(runs):
        click.echo(line)
    for r in runs:
        if not r.solved:
            _echo_err(f"warning: scenario '{r.name}' is {r.status}:\n{r.error}")
    click.echo(f"Wrote {out}: comparison.csv, comparison.xlsx, comparison.json, allocations.csv")


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--scenario", type=click.Path(path_type=Path), help="A scenario file overlaying the case.")
@solver_option
@click.option("--steps", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many steps between 'nothing of today's moves' and the optimum (steps + 1 points a level).")
@click.option("--time-limit", type=float, default=None, help="Seconds per solve; the best answer so far is "
              "kept and marked not proven optimal.")
@cluster_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.pass_obj
@handle_errors
def frontier(obj: Context, case: Path, out: Path, scenario: Path | None, solver: str, steps: int,
             time_limit: float | None, cluster: str | None, force: bool) -> None:
    """Trace the objective against money moved from today's provision, for the aligned and pooled levels.

    Each level is solved without a limit on money moved, then again with at most k/STEPS of
    the money its optimum moves (k = 0..STEPS). Writes frontier.csv, frontier.png and
    frontier.xlsx into OUT.
    """
    from commissioning.analysis.frontier import frontier_lines, trace_frontier
    from commissioning.cli.progress import Progress
    from commissioning.inputs.scenario import load_case_with_scenario
    from commissioning.writers.files import check_target, output_folder
    from commissioning.writers.frontier import write_frontier_outputs

    inputs = [case] + ([scenario] if scenario else [])
    check_target(out, force, inputs, folder=True)
    c, warnings = load_case_with_scenario(case, scenario)
    print_warnings(warnings, obj.quiet)
    progress = Progress(obj.quiet)
    from commissioning.analysis.cluster import runner

    with runner(cluster) as where:
        fr = trace_frontier(c, solver=solver, steps=steps, time_limit=time_limit, progress=progress, runner=where)
    with output_folder(out, force, inputs) as work:
        progress(f"writing the frontier to {out}")
        write_frontier_outputs(fr, work)
    for line in frontier_lines(fr):
        click.echo(line)
    click.echo(f"Wrote {out}: frontier.csv, frontier.png, frontier.xlsx")


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), help="A scenario file overlaying the case.")
@click.option("--need-spread", type=click.FloatRange(0.0, 1.0), default=0.1, show_default=True,
              help="Each need cell is drawn within ± this share of its evidence (0 to 1).")
@click.option("--draws", type=click.IntRange(min=1), default=50, show_default=True, help="How many draws to solve.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random draws (same seed, "
              "same figures).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@solver_option
@jobs_option
@cluster_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.pass_obj
@handle_errors
def sensitivity(obj: Context, case: Path, scenario: Path | None, need_spread: float, draws: int, seed: int,
                out: Path, solver: str, jobs: int | None, cluster: str | None, force: bool) -> None:
    """Re-solve with need drawn around its evidence: how robust is each allocation?

    Writes sensitivity.csv (how often each pot–area pairing is funded, and how much) and
    sensitivity.json (the spread of outcomes per level, and the settings).
    """
    from commissioning.writers.files import check_target, output_folder
    from commissioning.inputs.scenario import load_case_with_scenario
    from commissioning.analysis.sensitivity import (progress_bar, run_sensitivity, sensitivity_frame, sensitivity_lines,
                                                    sensitivity_summary)
    from commissioning.writers.sensitivity import write_sensitivity_outputs

    inputs = [case] + ([scenario] if scenario else [])
    check_target(out, force, inputs, folder=True)
    c, warnings = load_case_with_scenario(case, scenario)
    print_warnings(warnings, obj.quiet)
    from commissioning.analysis.cluster import runner
    from commissioning.analysis.workers import NoWorkers, for_case

    bar, task = progress_bar(draws, obj.quiet, "Solving need draws")
    # Without a cluster the draws are shared with a second process (started now, so that its
    # imports overlap the undisturbed solve), where it pays (commissioning.analysis.workers).
    with (NoWorkers() if cluster else for_case(jobs, len(c.eligibility.cells()))) as workers, \
            runner(cluster, workers) as where, bar:
        result = run_sensitivity(c, need_spread, draws, seed=seed, solver=solver,
                                 on_draw=lambda _: bar.advance(task), runner=where)
    with output_folder(out, force, inputs) as work:
        frame = sensitivity_frame(result, c)
        summary = sensitivity_summary(result, frame)
        write_sensitivity_outputs(frame, summary, work)
    for line in sensitivity_lines(summary, frame, area_names={a.code: a.name for a in c.areas}):
        click.echo(line)
    click.echo(f"Wrote {out}: sensitivity.csv, sensitivity.json")


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), help="A scenario file overlaying the case.")
@click.option("--level", type=click.Choice(["aligned", "settlement", "pooled"]), default="pooled", show_default=True,
              help="The level whose rules the plan keeps.")
@click.option("--draws", type=click.IntRange(min=1), default=50, show_default=True,
              help="Draws of need the plan is chosen over.")
@click.option("--test-draws", type=click.IntRange(min=1), default=200, show_default=True,
              help="Fresh draws both plans are judged on (and solved with their need known, for the EVPI).")
@click.option("--need-spread", type=click.FloatRange(0.0, 1.0), default=0.1, show_default=True,
              help="A need row without people_low and people_high is drawn within ± this share of its figure.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws (same seed, same figures).")
@click.option("--tail-weight", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="λ: weight on the mean of the worst draws (CVaR); the objective is (1 − λ) mean + λ CVaR.")
@click.option("--tail-share", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.1, show_default=True,
              help="α: the share of draws that make up the worst tail.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@solver_option
@cluster_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.pass_obj
@handle_errors
def robust(obj: Context, case: Path, scenario: Path | None, level: str, draws: int, test_draws: int,
           need_spread: float, seed: int, tail_weight: float, tail_share: float, out: Path, solver: str,
           cluster: str | None, force: bool) -> None:
    """Choose one plan before need is known: best on average over draws of need.

    Writes robust.csv (the plan, with the point-estimate plan beside it) and robust.json
    (both plans judged in and out of sample, the value of the stochastic solution and the
    expected value of perfect information).
    """
    from commissioning.analysis.cluster import runner
    from commissioning.analysis.robust import RobustSettings, robust_frame, robust_lines, robust_summary, run_robust
    from commissioning.analysis.sensitivity import progress_bar
    from commissioning.cli.progress import Progress
    from commissioning.inputs.scenario import load_case_with_scenario
    from commissioning.writers.files import check_target, output_folder
    from commissioning.writers.robust import write_robust_outputs

    inputs = [case] + ([scenario] if scenario else [])
    check_target(out, force, inputs, folder=True)
    c, warnings = load_case_with_scenario(case, scenario)
    print_warnings(warnings, obj.quiet)
    settings = RobustSettings(level=level, draws=draws, test_draws=test_draws, need_spread=need_spread, seed=seed,
                              tail_weight=tail_weight, tail_share=tail_share, solver=solver)
    progress = Progress(obj.quiet)
    bar, task = progress_bar(test_draws, obj.quiet, "Solving fresh draws with need known")
    with runner(cluster) as where, bar:
        result = run_robust(c, settings, runner=where, progress=progress, on_draw=lambda _: bar.advance(task))
    summary = robust_summary(result)
    with output_folder(out, force, inputs) as work:
        write_robust_outputs(robust_frame(result), summary, work)
    for line in robust_lines(summary):
        click.echo(line)
    click.echo(f"Wrote {out}: robust.csv, robust.json")


@main.command("export")
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--case", "case", required=True, type=click.Path(path_type=Path),
              help="The case the results were computed from (its fingerprint must match).")
@click.option("--scenario", type=click.Path(path_type=Path), help="The scenario the results were computed with.")
@click.option("--format", "fmt", type=click.Choice(["360giving"]), default="360giving", show_default=True,
              help="The open-data standard: 360giving (the 360Giving Data Standard 1.4.3, a package of grants).")
@click.option("--level", type=click.Choice(["baseline", "aligned", "settlement", "pooled"]), default=None,
              help="Whose allocations to publish (default: settlement in a settlement case, else pooled).")
@click.option("--prefix", default=None,
              help="Your registered 360Giving identifier prefix (default 360G-commissioning-<fingerprint>).")
@click.option("--force", is_flag=True, help="Replace 360giving.json and 360giving.csv if they exist.")
@click.pass_obj
@handle_errors
def export(obj: Context, results: Path, case: Path, scenario: Path | None, fmt: str, level: str | None,
           prefix: str | None, force: bool) -> None:
    """Publish a level's allocations from a results folder as open data (360giving.json and 360giving.csv)."""
    from commissioning.analysis import opendata
    import re

    import pandas as pd

    from commissioning.analysis.agreement import drafting_date, lead_body_of, read_results
    from commissioning.analysis.forms import form_of
    from commissioning.errors import CaseError, Problem
    from commissioning.inputs.scenario import load_case_with_scenario
    from commissioning.writers.opendata import write_open_data

    if prefix is not None and not re.fullmatch(r"360G-[A-Za-z0-9-]+", prefix):
        raise CaseError(Problem("--prefix", None, None, f"'{prefix}'",
                                "a 360Giving identifier prefix: 360G- then letters, digits and hyphens"))
    c, warnings = load_case_with_scenario(case, scenario)
    print_warnings(warnings, obj.quiet)
    record, alloc = read_results(results, c)
    level = level or ("settlement" if "settlement" in record.levels else "pooled")
    if level not in record.levels:
        raise CaseError(Problem("summary.json", None, "levels", f"the results have no {level} level",
                                "one of " + ", ".join(record.levels)))
    rows = alloc[alloc["level"] == level].copy()
    for col in ("amount", "participants", "outcomes"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce").fillna(0.0)
    title = form_of("integrated-settlement" if level == "settlement" else "llma").title
    pkg = opendata.package(c, rows, prefix=prefix, lead_body=lead_body_of(c), level=level, title=title,
                           issued=drafting_date())
    problems = opendata.validate(pkg)
    if problems:  # the engine's own output breaking its own schema is a bug, never written
        raise RuntimeError("the 360Giving package breaks the project's schema: " + "; ".join(problems[:5]))
    written = write_open_data(Path(results), pkg, opendata.flattened(pkg), force)
    total = sum(g["amountAwarded"] for g in pkg["grants"])
    click.echo(f"{len(pkg['grants'])} grant records of the {level} level (£{total:,.2f}), valid against the "
               f"360Giving Data Standard {opendata.STANDARD}.3 package schema as the project states it")
    click.echo(f"Wrote {', '.join(str(p) for p in written)}")


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Folder to write agreement.xlsx (with allocations.csv and summary.json) into.")
@click.option("--scenario", type=click.Path(path_type=Path), help="A scenario file overlaying the case.")
@click.option("--from", "from_dir", type=click.Path(path_type=Path),
              help="Reuse the results folder of an earlier 'optimise' instead of solving (its fingerprint must "
                   "match the case and scenario).")
@solver_option
@click.option("--time-limit", type=float, default=None, help="Seconds per solve.")
@click.option("--governance", type=click.Path(path_type=Path),
              help="A governance text to use instead of the form's shipped template (templates/governance*.md).")
@click.option("--form", "form", type=click.Choice(FORM_KEYS), default="llma",
              show_default=True,
              help="The agreement's form: a Local Labour Market Agreement (the pooled level), a Local Employment "
                   "and Skills Agreement (the pooled level, in the LGA's words) or an integrated settlement's "
                   "spending plan and outcomes framework (the settlement level; needs settlement pots).")
@click.option("--pdf", is_flag=True,
              help="Also print the agreement to agreement.pdf (the board pack), with LibreOffice (soffice) on PATH.")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.pass_obj
@handle_errors
def agree(obj: Context, case: Path, out: Path, scenario: Path | None, from_dir: Path | None, solver: str,
          time_limit: float | None, governance: Path | None, form: str, pdf: bool, force: bool) -> None:
    """Write the agreement (agreement.xlsx) a finance team can audit and edit, in the chosen --form."""
    import shutil

    from commissioning.analysis.agreement import AgreementInputs
    from commissioning.writers.agreementbook import write_agreement
    from commissioning.writers.files import check_target, output_folder
    from commissioning.cli.progress import Progress
    from commissioning.inputs.scenario import load_case_with_scenario

    sources = [case] + [p for p in (scenario, from_dir, governance) if p is not None]
    check_target(out, force, sources, folder=True)
    if pdf:
        from commissioning.writers.pdf import soffice

        if soffice() is None:  # said before any work, so nothing is half-written
            raise OutputError("--pdf needs LibreOffice (soffice) on PATH to print the board pack: install it "
                              "(Debian: apt install libreoffice-calc), or leave out --pdf")
    c, warnings = load_case_with_scenario(case, scenario)
    print_warnings(warnings, obj.quiet)
    if form == "integrated-settlement" and not any(p.settlement for p in c.pots):
        from commissioning.errors import CaseError, Problem

        raise CaseError(Problem("pots", None, "settlement", "no pot of the case is in a settlement",
                                "settlement = yes (with a theme) on the pots paid inside the integrated "
                                "settlement, for --form integrated-settlement"))
    progress = Progress(obj.quiet)
    run = explanation = None
    if from_dir is not None:
        inputs = AgreementInputs.from_results(from_dir, c, form)
    else:
        from commissioning.analysis.explain import explain_run
        from optimiser.levels import optimise_case

        from commissioning.analysis.workers import for_case

        from commissioning.analysis.dropped import AlignedAhead

        with for_case(None, len(c.eligibility.cells())) as workers:
            ahead = AlignedAhead(workers)  # as in optimise
            run = optimise_case(c, solver=solver, time_limit=time_limit, progress=progress, after_level=ahead)
            explanation = explain_run(run, progress=progress, workers=workers, ahead=ahead)
        inputs = AgreementInputs.from_run(run, explanation, form)
    with output_folder(out, force, sources) as work:
        progress(f"writing the agreement to {out}")
        if run is not None:
            from commissioning.writers.results import write_run_outputs

            write_run_outputs(run, work, explanation=explanation)
        else:
            for name in ("allocations.csv", "summary.json", "flags.csv", "asks.csv", "package.csv", "realism.csv",
                         "value.csv"):
                if (from_dir / name).exists():
                    shutil.copyfile(from_dir / name, work / name)
        write_agreement(inputs, work / "agreement.xlsx", governance)
        if pdf:
            from commissioning.writers.pdf import export_pdf

            progress("printing the board pack to agreement.pdf with LibreOffice")
            export_pdf(work / "agreement.xlsx", work)
    from commissioning.case.labels import run_label

    total = float(inputs.pooled["amount"].sum())
    click.echo(f"{run_label(inputs.name, c.scenario)}: {inputs.shape.title}, DRAFT, {inputs.start_year} to "
               f"{inputs.end_year}")
    budget = "settlement" if inputs.level == "settlement" else "pooled"
    fenced = inputs.ring_fenced_budget()
    outside = f" (the flexible funds; £{fenced:,.0f} ring-fenced outside it)" if fenced else ""
    click.echo(f"  {budget} budget £{inputs.pooled_budget():,.0f}{outside}; allocated £{total:,.2f}; "
               f"{inputs.levels[inputs.level]['outcomes']:,.0f} outcomes ({inputs.level} level); "
               f"fingerprint {c.fingerprint()}")
    click.echo(f"Wrote {out}: agreement.xlsx{', agreement.pdf' if pdf else ''}, allocations.csv, summary.json")


@main.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--case", "case", required=True, type=click.Path(path_type=Path), help="The case the agreement is for.")
@click.option("--scenario", type=click.Path(path_type=Path), help="The scenario the agreement was drawn with.")
@click.pass_obj
@handle_errors
def check(obj: Context, workbook: Path, case: Path, scenario: Path | None) -> None:
    """Re-check an edited agreement: every budget, need cap, eligibility and rule, and what changed.

    Exit code 0 when everything holds, 1 when something is breached, 2 when the workbook
    (or a cell the checks need) cannot be read.
    """
    from commissioning.analysis.audit import audit_agreement
    from commissioning.inputs.scenario import load_case_with_scenario

    c, warnings = load_case_with_scenario(case, scenario)
    print_warnings(warnings, obj.quiet)
    result = audit_agreement(workbook, c)
    for line in result.lines():
        click.echo(line)
    code = result.exit_code
    if code:
        click.get_current_context().exit(code)


def run() -> None:  # pragma: no cover - console entry for `python -m commissioning`
    """Run the command line and exit with its exit code."""
    sys.exit(main())
