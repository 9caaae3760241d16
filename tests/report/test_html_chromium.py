"""The HTML report, rendered by a real browser: the problems' count bars and the tokens must be on the screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, invoke

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Token backgrounds from tokaudit/report/html.py: boundaries alternate between these colours.
TOKEN_COLOURS = {(0x7F, 0xDB, 0xFF), (0xFF, 0xDC, 0x00)}
# The distinct-problems list draws each error's count as a bar of this colour (`.bar.error`).
ERROR_BAR = (0xE4, 0x57, 0x2E)
CARD_BORDER = (0xC0, 0x39, 0x2B)  # `.f.error`'s left border


def _bars(image: Any, colour: tuple[int, int, int]) -> list[tuple[int, int]]:
    """Each horizontal bar of `colour`, top to bottom: (top row, width in pixels)."""
    width, height = image.size
    px = image.load()
    rows = {}
    for y in range(height):
        xs = [x for x in range(width) if px[x, y] == colour]
        if xs:
            rows[y] = max(xs) - min(xs) + 1
    bars: list[tuple[int, int]] = []
    for y in sorted(rows):
        if bars and y - 1 in rows:
            bars[-1] = (bars[-1][0], max(bars[-1][1], rows[y]))
        else:
            bars.append((y, rows[y]))
    return bars


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed (CI installs it)")
def test_html_report_shows_count_bars_and_both_sides_tokens_in_headless_chromium(tmp_path: Path) -> None:
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

    # The page opens with the distinct problems: one bar per problem, drawn to scale with its count,
    # above the first token card.
    shares = [float(w) for w in re.findall(r'class="bar error" style="width:([\d.]+)%"', html)]
    assert len(shares) == 7 and max(shares) == 100.0, shares  # the demo: 7 distinct problems (README)
    bars = _bars(image, ERROR_BAR)
    assert len(bars) == len(shares), bars
    longest = max(w for _, w in bars)
    assert longest > 100, bars  # a real bar, not a hairline
    for (_, w), share in zip(bars, shares):
        assert abs(w / longest - share / 100) < 0.03, (bars, shares)
    cards = _bars(image, CARD_BORDER)  # an error card's left border: a tall, narrow bar
    assert cards and bars[-1][0] < cards[0][0], (bars, cards)
