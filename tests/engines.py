"""The outside programs some tests drive (LibreOffice, Gnumeric), and what to do without them.

On a developer's machine a test that needs a missing program is skipped, saying which; in
CI (the ``CI`` environment variable set, as .ci/run does, which also installs them) it
fails instead, so that a broken install can never pass as a skip.
"""

from __future__ import annotations

import os

import pytest


def need(program: str | None, name: str) -> str:
    """``program`` (a path found on PATH), or skip — or, in CI, fail — saying ``name`` is missing."""
    if program is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not on PATH, but CI is set: .ci/run should have installed it")
        pytest.skip(f"{name} is not on PATH")
    return program
