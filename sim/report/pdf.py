"""The one-page briefing as PDF: Chromium's print-to-PDF of :func:`render_briefing`'s page.

The page's print CSS (``@page`` A4, ``body.briefing``) sizes the briefing to one sheet; the
charts tell series apart by dash and hatching, so the print stays legible in black and white.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from sim.report.png import PngExportUnavailable, find_chromium


class PdfExportFailed(RuntimeError):
    """Chromium ran but wrote no PDF."""


def html_to_pdf(html: str, out: str | Path, timeout_s: float = 120.0) -> Path:
    """Print ``html`` to ``out`` with headless Chromium (offline; atomically replaced)."""
    browser = find_chromium()
    dst = Path(out)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pdf-") as tmp:
        page = Path(tmp) / "briefing.html"
        page.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "briefing.pdf"
        cmd = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={Path(tmp) / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=15000", "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}", page.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfExportFailed(f"PDF export with {browser} failed: {exc}") from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            raise PdfExportFailed(
                f"PDF export with {browser} wrote no file (exit {proc.returncode}): "
                f"{proc.stderr[-500:]}"
            )
        tmp_dst = dst.with_name(f".{dst.name}.tmp")
        tmp_dst.write_bytes(pdf.read_bytes())
        os.replace(tmp_dst, dst)
    return dst


__all__ = ["PdfExportFailed", "PngExportUnavailable", "html_to_pdf"]
