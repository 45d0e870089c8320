"""Running ``python -m commissioning`` as a user would, in a process of its own, for CLI tests.

One place for how a test starts the command: from the project's root, with the project on
``PYTHONPATH`` and without ``COMMISSIONING_PAUSE`` (a test's own pause must not leak in),
standard output and error captured as text.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command_env() -> dict[str, str]:
    """The environment a command runs in: this one, the project importable, no pause."""
    env = {k: v for k, v in os.environ.items() if k != "COMMISSIONING_PAUSE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def start(*args) -> subprocess.Popen:
    """``python -m commissioning ARGS`` started, not waited for."""
    return subprocess.Popen([sys.executable, "-m", "commissioning", *map(str, args)], cwd=ROOT, env=command_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
