"""The HTML report, rendered by a real browser: the tokens must be on the screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, invoke

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Token backgrounds from tokaudit/report/html.py: boundaries alternate between these colours.
TOKEN_COLOURS = {(0x7F, 0xDB, 0xFF), (0xFF, 0xDC, 0x00)}


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed (CI installs it)")
def test_html_report_shows_both_sides_tokens_in_headless_chromium(tmp_path: Path) -> None:
    from PIL import Image

    assert CHROMIUM, "CI must install Debian's chromium (see .ci/run)"
    page = tmp_path / "report.html"
    result = invoke("diff", ROOT / "configs" / "mistral-7b.yaml", "--format", "html", "--output", page)
    assert result.exit_code == 1
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "http" not in html.split("<body>")[0]  # self-contained
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = Image.open(shot).convert("RGB")
    colours = {colour: n for n, colour in image.getcolors(maxcolors=1 << 24) or []}
    counts = {c: colours.get(c, 0) for c in TOKEN_COLOURS}
    # Both alternating token colours are painted, over a real area (many token boxes, both sides).
    assert all(n > 2000 for n in counts.values()), counts
