"""Progress on standard error: what is being done, silenced by ``--quiet`` and off a terminal.

Uses ``rich`` (a well-kept library for terminal progress) so that long phases show a
live line instead of silence; nothing is printed when standard error is not a terminal,
so logs and CI stay clean.

For tests of the "nothing half-written" guarantee, the environment variable
``COMMISSIONING_PAUSE="<text>:<seconds>"`` makes the run sleep when a phase whose message
contains ``<text>`` starts (for instance ``solving the aligned:5`` or ``writing:5``), so a
test can kill the process in that phase reliably. It has no other effect.
"""

from __future__ import annotations

import os
import sys
import time


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
