"""The run record: what produced a set of outputs, deterministic, so that it can be reproduced.

Result files that omit the solver's version and options cannot be reproduced; users of
comparable tools ask for exactly this. :func:`run_record` gathers, with no time of day:

* the engine's name and version, and its git commit (with a flag for local changes) when it
  runs from a checkout;
* Python's version and those of the packages that decide the figures (PuLP and the CBC it
  bundles, highspy, which is HiGHS of the same version, numpy, pandas);
* the solver used, why it was chosen, its time limit and the options it ran with
  (:func:`optimiser.solve.options_used`);
* the SHA-256 of every input file, the scenario's included (``Case.sources``);
* the case's fingerprint and scenario, and its stated GSS code vintage and price base
  (``gss_vintage``, ``price_base`` in ``case.yaml``; "not stated" when absent).

It is written into ``summary.json`` (``run_record``) and onto every workbook (a *Run
record* sheet, :mod:`commissioning.writers.record`).
"""

from __future__ import annotations

import functools
import importlib.metadata as metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

from optimiser.solve import options_used

from commissioning.case.model import Case

PACKAGES = ("pulp", "highspy", "numpy", "pandas", "scipy", "xlsxwriter", "openpyxl", "pydantic")


def run_record(case: Case, solver: str | None = None, choice: str | None = None,
               time_limit: float | None = None) -> dict[str, Any]:
    """The run record of outputs made from ``case`` (and, when one ran, ``solver``)."""
    return {
        "engine": engine(),
        "software": software(),
        "solver": {"name": solver, "choice": choice, "time_limit": time_limit,
                   "options": options_used(solver, time_limit) if solver else {}},
        "inputs": [{"file": name, "sha256": digest} for name, digest in case.sources],
        "case": {"fingerprint": case.fingerprint(), "scenario": case.scenario,
                 "gss_vintage": _setting(case, "gss_vintage"), "price_base": _setting(case, "price_base")},
    }


def _setting(case: Case, key: str) -> str | None:
    value = getattr(case.settings, key, None)
    return None if value in (None, "") else str(value)


@functools.cache
def engine() -> dict[str, Any]:
    """The engine's name, version and (from a checkout) commit and whether it has local changes."""
    import commissioning

    here = Path(commissioning.__file__).resolve().parent.parent
    commit, dirty = None, False
    try:
        top = subprocess.run(["git", "-C", str(here), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=5)
        if top.returncode == 0 and Path(top.stdout.strip()).resolve() == here:
            commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                                    timeout=5).stdout.strip() or None
            status = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=5).stdout
            dirty = bool(status.strip())
    except (OSError, subprocess.SubprocessError):  # no git here: an installed copy, not a checkout
        pass
    return {"name": "commissioning", "version": commissioning.__version__, "commit": commit, "local_changes": dirty}


@functools.cache
def software() -> dict[str, Any]:
    """Python's version and the versions of the packages (and the CBC binary) the figures depend on."""
    packages: dict[str, str] = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    packages["cbc (bundled with pulp)"] = _cbc_version()
    return {"python": platform.python_version(), "packages": packages}


def _cbc_version() -> str:
    try:
        import pulp

        out = subprocess.run([pulp.PULP_CBC_CMD(msg=False).path, "-quit"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError, ImportError):
        return "unknown (the CBC binary could not be run)"
    for line in out.splitlines():
        if line.strip().startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown (CBC did not say its version)"


def record_of_run(run) -> dict[str, Any]:
    """The run record of an optimisation run (:class:`optimiser.levels.RunResult`)."""
    return run_record(run.case, run.solver, run.solver_reason or run.solver, run.time_limit)
