"""The board pack as a PDF: the agreement workbook printed by LibreOffice.

``commissioning agree … --pdf`` writes ``agreement.pdf`` beside ``agreement.xlsx``: the
sheets as they print (A4, each sheet's own orientation and scale, print titles, footers;
lookup tables left out of the print area). LibreOffice (``soffice``) does the printing, run
headless with a fresh user profile so that no setting of the machine's own LibreOffice
changes the result. Where it is not installed the command says so before doing any work.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from commissioning.errors import OutputError

TIMEOUT = 600  # seconds: a cold start of LibreOffice on a busy machine is slow


def soffice() -> str | None:
    """The LibreOffice program on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def export_pdf(book: Path, out_dir: Path) -> Path:
    """Print ``book`` to ``out_dir/<name>.pdf`` with LibreOffice; the PDF's path."""
    program = soffice()
    if program is None:
        raise OutputError("a PDF needs LibreOffice (soffice) on PATH: install it (Debian: apt install "
                          "libreoffice-calc), or leave out --pdf")
    with tempfile.TemporaryDirectory(prefix="commissioning-lo-") as profile:
        cmd = [program, "--headless", "--norestore", "--nologo", f"-env:UserInstallation={Path(profile).as_uri()}",
               "--convert-to", "pdf", "--outdir", str(out_dir), str(book)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise OutputError(f"LibreOffice did not print {book.name} to PDF within {TIMEOUT} seconds") from None
    pdf = out_dir / (book.stem + ".pdf")
    if not pdf.exists():
        said = (proc.stderr or proc.stdout).strip().splitlines()
        raise OutputError(f"LibreOffice could not print {book.name} to PDF (exit {proc.returncode}"
                          + (f": {said[-1]}" if said else "") + ")")
    return pdf
