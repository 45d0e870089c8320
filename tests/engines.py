"""The outside programs some tests drive (LibreOffice, Gnumeric), and what to do without them.

On a developer's machine a test that needs a missing program is skipped, saying which; in
CI (the ``CI`` environment variable set, as .ci/run does, which also installs them) it
fails instead, so that a broken install can never pass as a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def need(program: str | None, name: str) -> str:
    """``program`` (a path found on PATH), or skip — or, in CI, fail — saying ``name`` is missing."""
    if program is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not on PATH, but CI is set: .ci/run should have installed it")
        pytest.skip(f"{name} is not on PATH")
    return program


# ---- LibreOffice: recalculate a workbook from scratch ------------------------------------------
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
TIMEOUT = 240  # seconds: a cold start on a busy CI machine is slow

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculate(files: list[Path], work: Path) -> dict[str, Path]:
    """Open each file in LibreOffice with recalculation forced, save as .xlsx; return the outputs by name."""
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    out = work / "recalculated"
    out.mkdir()
    cmd = [SOFFICE, "--headless", "--norestore", "--nologo", f"-env:UserInstallation={profile.as_uri()}",
           "--calc", "--convert-to", "xlsx", "--outdir", str(out), *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    results = {f.name: out / f.name for f in files}
    missing = [n for n, p in results.items() if not p.exists()]
    assert not missing, f"LibreOffice did not convert {missing}: {proc.stdout}\n{proc.stderr}"
    return results
