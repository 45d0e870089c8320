"""Progress on standard error: what is being done, silenced by ``--quiet`` and off a terminal.

Uses ``rich`` (a well-kept library for terminal progress) so that long phases show a live
line — "building need caps 12,000/23,000 rows", "measuring asks 4/12" — instead of silence.
Nothing is printed when standard error is not a terminal, so logs and CI stay clean.

Call it with a message for a phase (``progress("solving the aligned model")``), or use
:meth:`Progress.counted` for a phase with a known number of steps::

    with progress.counted("measuring asks", total=12) as advance:
        for ask in asks:
            ...
            advance()

For tests of the "nothing half-written" guarantee, the environment variable
``COMMISSIONING_PAUSE="<text>:<seconds>"`` makes the run sleep when a phase whose message
contains ``<text>`` starts (for instance ``solving the aligned:5`` or ``writing:5``), so a
test can kill the process in that phase reliably. It has no other effect.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Callable, Iterator


def _pause_rule() -> tuple[str, float] | None:
    raw = os.environ.get("COMMISSIONING_PAUSE", "")
    if ":" not in raw:
        return None
    text, _, seconds = raw.rpartition(":")
    try:
        return text, float(seconds)
    except ValueError:
        return None


class Progress:
    """Says what phase a run is in on standard error (through ``rich``), only when that is a
    terminal and ``quiet`` is off; see the module docstring for ``COMMISSIONING_PAUSE``."""

    def __init__(self, quiet: bool = False):
        self.enabled = not quiet and sys.stderr.isatty()
        self._console = None
        self._pause = _pause_rule()
        if self.enabled:
            from rich.console import Console

            self._console = Console(stderr=True)

    def __call__(self, message: str) -> None:
        if self._console is not None:
            self._console.log(message)
        if self._pause and self._pause[0] in message:
            time.sleep(self._pause[1])

    @contextlib.contextmanager
    def counted(self, description: str, total: int, unit: str = "") -> Iterator[Callable[..., None]]:
        """A bar for a phase of ``total`` steps; yields ``advance(steps=1, what=None)``."""
        self(f"{description} ({total:,}{' ' + unit if unit else ''})")
        if self._console is None:
            yield lambda steps=1, what=None: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

        with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                 console=self._console, transient=True) as bar:
            task = bar.add_task(description, total=total)

            def advance(steps: int = 1, what: str | None = None) -> None:
                bar.update(task, advance=steps, description=f"{description}: {what}" if what else description)

            yield advance


def silent() -> Progress:
    """A reporter that says nothing (library use, tests)."""
    return Progress(quiet=True)
