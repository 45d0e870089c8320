"""Progress on standard error: what is being done, silenced by ``--quiet`` and off a terminal.

Uses ``rich`` (a well-kept library for terminal progress) so that long phases show a
live line instead of silence; nothing is printed when standard error is not a terminal,
so logs and CI stay clean.
"""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, quiet: bool = False):
        self.enabled = not quiet and sys.stderr.isatty()
        self._console = None
        self._t0 = time.perf_counter()
        if self.enabled:
            from rich.console import Console

            self._console = Console(stderr=True)

    def __call__(self, message: str) -> None:
        if self._console is not None:
            self._console.log(message)
