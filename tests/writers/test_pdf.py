"""``agree --pdf``: the board pack printed by LibreOffice, or a clear refusal before any work.

The tiny agreement case (tests/agreementcase.py) for speed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engines import need
from agreementcase import write_agreement_case
from commissioning.cli import main
from commissioning.writers import pdf


def test_without_libreoffice_it_says_so_and_writes_nothing(tmp_path, monkeypatch):
    case = write_agreement_case(tmp_path / "case")
    monkeypatch.setattr(pdf, "soffice", lambda: None)
    res = CliRunner().invoke(main, ["agree", str(case), "--out", str(tmp_path / "out"), "--pdf"])
    assert res.exit_code == 2
    assert "--pdf needs LibreOffice (soffice) on PATH" in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.libreoffice
def test_with_libreoffice_the_board_pack_is_written_beside_the_workbook(tmp_path):
    need(pdf.soffice(), "LibreOffice (soffice)")
    case = write_agreement_case(tmp_path / "case")
    proc = subprocess.run([sys.executable, "-m", "commissioning", "agree", str(case), "--out", str(tmp_path / "out"),
                           "--pdf", "--quiet"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    made = tmp_path / "out" / "agreement.pdf"
    assert made.exists() and made.read_bytes().startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(made)], capture_output=True, text=True).stdout
        pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
        assert 1 <= pages <= 30  # the tiny case's board pack: a handful of pages


@pytest.mark.libreoffice
def test_the_example_board_pack_has_the_pages_the_readme_says(tmp_path):
    """The README quotes the example's page count: the command's board pack has exactly that many."""
    import re

    need(pdf.soffice(), "LibreOffice (soffice)")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    quoted = int(re.search(r"The example prints in (\d+) pages", readme).group(1))
    example = Path(__file__).resolve().parents[2] / "examples" / "west-yorkshire"
    proc = subprocess.run([sys.executable, "-m", "commissioning", "agree", str(example), "--out", str(tmp_path / "out"),
                           "--pdf", "--quiet"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    made = (tmp_path / "out" / "agreement.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", made)) == quoted
