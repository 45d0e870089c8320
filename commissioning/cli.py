"""The command line: ``commissioning validate|convert|template|map|optimise|explain|agree|check|compare``.

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

from .errors import CommissioningError, Problem


class Context:
    def __init__(self, debug: bool = False, quiet: bool = False):
        self.debug = debug
        self.quiet = quiet


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
    if quiet or not warnings:
        return
    _echo_err(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}:")
    for w in warnings:
        _echo_err(f"  - {w}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show a traceback for errors (for developers).")
@click.option("--quiet", "-q", is_flag=True, help="No progress or warnings on standard error.")
@click.version_option(package_name="commissioning")
@click.pass_context
def main(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Line up employment-and-skills funding pots against need, and write the agreement.

    CASE is a folder of CSV files (plus case.yaml) or one .xlsx workbook.
    """
    ctx.obj = Context(debug=debug, quiet=quiet)


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), help="Also check a scenario file against the case.")
@click.pass_obj
@handle_errors
def validate(obj: Context, case: Path, scenario: Path | None) -> None:
    """Check a case (and optionally a scenario); list every problem with its place."""
    from .validate import summary_lines, validate_path

    v = validate_path(case)
    print_warnings(v.warnings, obj.quiet)
    if not v.ok:
        from .errors import CaseError

        raise CaseError(v.errors)
    if scenario is not None:
        from .scenario import apply_scenario, load_scenario

        sc = load_scenario(scenario, v.case)
        apply_scenario(v.case, sc)
        click.echo(f"Scenario '{sc.name}' is valid against the case.")
    for line in summary_lines(v.case):
        click.echo(line)
    click.echo("Valid." if not v.warnings else f"Valid, with {len(v.warnings)} warning(s).")


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.pass_obj
@handle_errors
def convert(obj: Context, case: Path, out: Path, force: bool) -> None:
    """Turn a case folder into a workbook (OUT ends in .xlsx), or a workbook into a folder."""
    from .casewriter import write_case
    from .validate import load_case

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
    from .template import write_template

    write_template(out, force=force)
    click.echo(f"Wrote {out}")


@main.command(name="map")
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Folder to write the map into.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.pass_obj
@handle_errors
def map_command(obj: Context, case: Path, out: Path, force: bool) -> None:
    """Map today's provision against need: coverage, duplication, gaps with reasons, idle money.

    Writes coverage.csv, flags.csv, map.json and map.xlsx into OUT.
    """
    from .mapbook import map_summary_lines, write_map_outputs
    from .mapping import provision_map
    from .outputs import output_folder
    from .validate import load_case

    c = load_case(case)
    pm = provision_map(c)
    with output_folder(out, force, inputs=[case]) as work:
        write_map_outputs(pm, c, work)
    for line in map_summary_lines(pm):
        click.echo(line)
    click.echo(f"Wrote {out}: coverage.csv, flags.csv, map.json, map.xlsx")


@main.command()
@click.argument("case", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--solver", type=click.Choice(["cbc", "highs"]), default="cbc", show_default=True,
              help="CBC is bundled with PuLP; HiGHS (highspy) is faster on large cases.")
@click.option("--time-limit", type=float, default=None, help="Seconds per solve; the best answer so far is "
              "kept and marked not proven optimal.")
@click.option("--scenario", type=click.Path(path_type=Path), help="A scenario file overlaying the case.")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.pass_obj
@handle_errors
def optimise(obj: Context, case: Path, out: Path, solver: str, time_limit: float | None, scenario: Path | None,
             force: bool) -> None:
    """Compute baseline, aligned and pooled allocations, and the dividends between them."""
    from optimiser.levels import optimise_case

    from .outputs import check_target, output_folder
    from .progress import Progress
    from .results_writer import write_run_outputs
    from .scenario import load_case_with_scenario

    check_target(out, force, [case] + ([scenario] if scenario else []))
    c, warnings = load_case_with_scenario(case, scenario)
    print_warnings(warnings, obj.quiet)
    progress = Progress(obj.quiet)
    run = optimise_case(c, solver=solver, time_limit=time_limit, progress=progress)
    from optimiser.explain import explain_run

    explanation = explain_run(run, progress=progress)
    with output_folder(out, force, [case] + ([scenario] if scenario else [])) as work:
        progress(f"writing outputs to {out}")
        write_run_outputs(run, work, explanation=explanation)
    _print_run(run)
    click.echo(f"Wrote {out}")


def _print_run(run) -> None:
    L = run.levels
    click.echo(f"Scenario '{run.scenario}': {run.status} ({run.solver}, objective {run.objective})")
    click.echo(f"  {'level':<9} {'allocated':>16} {'participants':>13} {'outcomes':>11} {'value':>16}")
    for name in ("baseline", "aligned", "pooled"):
        t = L[name].totals
        click.echo(f"  {name:<9} {'£' + format(t['allocated'], ',.0f'):>16} {t['participants']:>13,.0f} "
                   f"{t['outcomes']:>11,.0f} {'£' + format(t['value'], ',.0f'):>16}")
    d = run.dividends()
    click.echo(f"  alignment dividend: {d['alignment']['outcomes']:+,.0f} outcomes; "
               f"devolution dividend: {d['devolution']['outcomes']:+,.0f} outcomes")


@main.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--top", type=int, default=3, show_default=True, help="How many asks to describe.")
@click.pass_obj
@handle_errors
def explain(obj: Context, results: Path, top: int) -> None:
    """Tell, in plain English, what a finished run found: what binds, gaps, idle money, asks."""
    from .narrative import narrate

    for line in narrate(results, top=top):
        click.echo(line)


def run() -> None:  # pragma: no cover - console entry for `python -m commissioning`
    sys.exit(main())
