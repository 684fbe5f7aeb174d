"""The report in a real headless browser (Debian's chromium): it renders, logs no console errors
(a blocked external request or a script would log a Content-Security-Policy violation) and its
DOM holds every section. Skipped where /usr/bin/chromium is absent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from synthrl.report import SECTIONS

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def console_lines(tmp_path: Path, page: Path, shot: Path) -> list[str]:
    """The page's console messages, from chromium's stderr log, while taking a screenshot."""
    result = chromium(
        tmp_path,
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={shot}",
        "--window-size=1280,4000",
        page.as_uri(),
    )
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The check below would notice a script or an external image (positive control)."""
    bad = tmp_path / "bad.html"
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    bad.write_text(
        f'<html><head><meta http-equiv="Content-Security-Policy" content="{csp}"></head>'
        '<body><img src="https://example.invalid/x.png"><script>boom()</script></body></html>'
    )
    lines = console_lines(tmp_path, bad, tmp_path / "bad.png")
    assert any("Content Security Policy" in line for line in lines), lines


def test_report_renders_without_console_errors(complete_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    assert console_lines(tmp_path, complete_report, shot) == []
    with Image.open(shot) as image:
        assert image.size == (1280, 4000)
        low, high = image.convert("L").getextrema()
        assert high - low > 100  # not a blank page


def test_rendered_dom_has_every_section(complete_report: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", complete_report.as_uri()).stdout
    for anchor, title, _ in SECTIONS:
        assert f'<h2 id="{anchor}">{title}</h2>' in dom
    assert "<script" not in dom and dom.count('<img class="plot" src="data:image/png;base64,') == 4
