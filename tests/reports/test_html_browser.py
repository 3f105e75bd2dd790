"""The HTML report in a real browser (headless Chromium): scripts run under its CSP, sorting and filtering work."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from gate.reports.html import HtmlReport
from gate.reports.interface import ReportOptions
from tests.reports.browser import Browser
from tests.reports.sample import EVALUATION, HOSTILE_EVALUATION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Browser:  # type: ignore[misc]
    with Browser() as b:
        yield b


def write(tmp_path: Path, evaluation: object, name: str) -> Path:
    path = tmp_path / name
    path.write_text(HtmlReport().render(evaluation, ReportOptions()), encoding="utf-8")  # type: ignore[arg-type]
    return path


RANKS = "[...document.querySelectorAll('#findings tbody tr')].map(r => Number(r.cells[1].dataset.value))"


def visible_keys(browser: Browser) -> list[str]:
    return list(browser.js("[...document.querySelectorAll('#findings tr.finding')]"
                           ".filter(r => !r.hidden).map(r => r.dataset.decision)"))


def test_report_renders_sorts_and_filters(browser: Browser, tmp_path: Path) -> None:
    browser.open(write(tmp_path, EVALUATION, "report.html"))
    total = len(EVALUATION.results)
    # The script ran (the CSP hash matches): it wrote the "shown" counter.
    assert browser.js("document.getElementById('shown').textContent") == f"{total} of {total} findings shown"
    assert browser.js("document.getElementById('verdict').textContent").strip() == "gate: FAIL"
    # Sort by severity (click twice: ascending then descending) and check the order follows data-value.
    header = "document.querySelector('#findings th:nth-child(2)')"
    browser.js(f"{header}.click()")
    ranks = browser.js(RANKS)
    assert ranks == sorted(ranks)
    browser.js(f"{header}.click()")
    ranks = browser.js(RANKS)
    assert ranks == sorted(ranks, reverse=True)
    assert browser.js(f"{header}.getAttribute('aria-sort')") == "descending"
    # Filter by decision checkbox: untick everything but "fail".
    browser.js("document.querySelectorAll('input.decision-filter').forEach(b => {"
               " b.checked = b.value === 'fail'; b.dispatchEvent(new Event('change')); })")
    failed = sum(1 for r in EVALUATION.results if r.decision.value == "fail")
    assert visible_keys(browser) == ["fail"] * failed
    # Free-text filter on a CVE id.
    browser.js("document.querySelectorAll('input.decision-filter').forEach(b => {"
               " b.checked = true; b.dispatchEvent(new Event('change')); })")
    first = EVALUATION.results[0].finding.vulnerability_id
    browser.js(f"const f = document.getElementById('filter'); f.value = {first!r};"
               " f.dispatchEvent(new Event('input'));")
    shown = browser.js("[...document.querySelectorAll('#findings tr.finding')].filter(r => !r.hidden)"
                       ".map(r => r.textContent.includes(" + repr(first) + "))")
    assert shown and all(shown)
    png = Path(os.environ.get("GATE_SCREENSHOT", tmp_path / "report.png"))
    browser.screenshot(png)
    width, height = struct.unpack(">II", png.read_bytes()[16:24])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert width == 1400 and height > 600


def test_hostile_text_stays_text_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    browser.open(write(tmp_path, HOSTILE_EVALUATION, "hostile.html"))
    assert browser.js("document.querySelectorAll('script').length") == 1  # only our own
    assert browser.js("typeof window.pwned") == "undefined"
    assert browser.js("document.querySelectorAll('#findings img, #findings iframe, #findings svg').length") == 0
    assert "<script>" in browser.js("document.getElementById('findings').textContent")
