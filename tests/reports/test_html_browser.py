"""The HTML report in a real browser (headless Chromium): its script runs under the CSP, pages, sorts and
filters; no table cell wraps inside a word at 1280 or 1920 px; screenshots land in the test's tmp dir."""

from __future__ import annotations

import os
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.outcome import Evaluation
from gate.reports.html import HtmlReport
from gate.reports.interface import ReportOptions
from tests.conftest import EXAMPLES
from tests.reports.browser import Browser
from tests.reports.sample import CI_EVALUATION, EVALUATION, HOSTILE_EVALUATION, many

pytestmark = pytest.mark.slow

WIDTHS = (1280, 1920)
# Every word of every text node in the table, measured with a Range: one client rect means it sits on one
# line. Words longer than 60 characters are not words a person reads (hostile padding) and may break.
WRAPPED_WORDS = """(() => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector('#findings tbody'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('details:not([open])')) continue;
    const re = /\\S+/g;
    let m;
    while ((m = re.exec(node.data)) !== null) {
      if (m[0].length > 60) continue;
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  return broken;
})()"""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Browser:  # type: ignore[misc]
    with Browser() as b:
        yield b


def write(tmp_path: Path, evaluation: Evaluation, name: str) -> Path:
    path = tmp_path / name
    path.write_text(HtmlReport().render(evaluation, ReportOptions()), encoding="utf-8")
    return path


def resize(browser: Browser, width: int, height: int = 1000) -> None:
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def shot(browser: Browser, path: Path) -> tuple[int, int]:
    browser.screenshot(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def decisions_shown(browser: Browser) -> list[str]:
    return list(browser.js("[...document.querySelectorAll('#findings tr.finding')].map(r => r.dataset.decision)"))


def test_report_renders_sorts_and_filters(browser: Browser, tmp_path: Path) -> None:
    resize(browser, 1280)
    browser.open(write(tmp_path, CI_EVALUATION, "report.html"))
    total = len(EVALUATION.results)
    # The script ran (the CSP hash matches): it drew the rows and wrote the counter.
    assert browser.js("document.getElementById('shown').textContent") == f"{total} of {total} findings shown"
    assert browser.js("document.getElementById('verdict').textContent").strip() == "gate: FAIL"
    assert decisions_shown(browser) == [r.decision.value for r in sorted(
        EVALUATION.results, key=lambda r: ["fail", "warn", "excepted", "pass"].index(r.decision.value))]
    ranks = "[...document.querySelectorAll('#findings tbody tr td.severity')].map(c => c.textContent)"
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED"]
    header = "document.querySelector('#findings th[data-sort=\"r\"]')"
    browser.js(f"{header}.click()")
    assert [order.index(s) for s in browser.js(ranks)] == sorted(order.index(s) for s in browser.js(ranks))
    browser.js(f"{header}.click()")
    shown = [order.index(s) for s in browser.js(ranks)]
    assert shown == sorted(shown, reverse=True)
    assert browser.js(f"{header}.getAttribute('aria-sort')") == "descending"
    browser.js("document.querySelectorAll('input.decision-filter').forEach(b => {"
               " b.checked = b.value === 'fail'; b.dispatchEvent(new Event('change')); })")
    assert decisions_shown(browser) == ["fail"] * sum(1 for r in EVALUATION.results if r.decision.value == "fail")
    browser.js("document.querySelectorAll('input.decision-filter').forEach(b => {"
               " b.checked = true; b.dispatchEvent(new Event('change')); })")
    browser.js("const f = document.getElementById('filter'); f.value = 'glibc-common';"
               " f.dispatchEvent(new Event('input'));")
    assert decisions_shown(browser) == ["excepted"]
    why = browser.js("document.querySelector('#findings td.why').textContent")
    assert "EXC-glibc-tunables: Build hosts run no setuid binaries" in why
    assert "owner platform-team, expires 2026-01-31 (in 72 days)" in why
    assert browser.js("document.querySelectorAll('svg.chart').length") == 2


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example judged by the CLI, as a user would open it."""
    out = tmp_path_factory.mktemp("demo") / "report.html"
    os.environ.pop("GITHUB_ACTIONS", None)
    code = main(["check", "--findings", str(EXAMPLES / "findings.json"),
                 "--finding-details", str(EXAMPLES / "inspector-findings.json"),
                 "--finding-details", str(EXAMPLES / "finding-details.json"),
                 "--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
                 "--no-cached-feeds", "--as-of", "2025-08-30",  # the day after the scan, as ./dev demo
                 "--report", f"html={out}"])
    assert code == 1
    return out


@pytest.mark.parametrize("width", WIDTHS)
def test_no_cell_wraps_inside_a_word(browser: Browser, demo_page: Path, tmp_path: Path, width: int) -> None:
    resize(browser, width)
    browser.open(demo_page)
    assert browser.js("document.querySelectorAll('#findings tbody tr').length") == 100  # the first page
    assert browser.js(WRAPPED_WORDS) == []
    # Readable: the table fits the window, no sideways scrolling.
    assert browser.js("document.querySelector('.scroll').scrollWidth <= document.querySelector('.scroll').clientWidth")
    assert shot(browser, tmp_path / f"report-{width}.png") == (width, 1000)
    browser.js("document.getElementById('controls').scrollIntoView()")
    shot(browser, tmp_path / f"report-{width}-table.png")
    print(f"screenshots: {tmp_path}/report-{width}*.png")


def test_hostile_text_stays_text_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    resize(browser, 1280)
    browser.open(write(tmp_path, HOSTILE_EVALUATION, "hostile.html"))
    assert browser.js("document.querySelectorAll('script').length") == 2  # our script and the inert data
    assert browser.js("typeof window.pwned") == "undefined"
    assert browser.js("document.querySelectorAll('#findings img, #findings iframe, #findings svg').length") == 0
    assert "<script>" in browser.js("document.getElementById('findings').textContent")
    shot(browser, tmp_path / "hostile.png")


def test_a_hundred_thousand_findings_page_and_filter(browser: Browser, tmp_path: Path) -> None:
    resize(browser, 1280)
    page = write(tmp_path, replace(EVALUATION, results=many(100_000)), "large.html")
    browser.open(page)
    assert browser.js("document.querySelectorAll('#findings tbody tr').length") == 100
    assert browser.js("document.getElementById('page').textContent") == "page 1 of 1000"
    browser.js("document.getElementById('next').click()")
    assert browser.js("document.querySelector('#findings tbody tr .id').textContent") == "CVE-2025-000400"
    browser.js("const f = document.getElementById('filter'); f.value = 'pkg99999 ';"
               " f.dispatchEvent(new Event('input'));")
    assert browser.js("document.getElementById('shown').textContent") == "1 of 100000 findings shown"
    assert browser.js(WRAPPED_WORDS) == []
    shot(browser, tmp_path / "large.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_charts_scale_with_the_page_and_show_every_decision(browser: Browser, demo_page: Path, width: int) -> None:
    resize(browser, width)
    browser.open(demo_page)
    charts = browser.js("[...document.querySelectorAll('svg.chart')].map(c => c.getBoundingClientRect().width)")
    assert all(w > 0.35 * width for w in charts), charts  # side by side, about half the page each
    # One blocking finding among the 235 MEDIUM ones is a segment one can see (and point at), not a pixel.
    medium_fail = browser.js("(() => { const r = [...document.querySelectorAll('#chart-decisions rect')]"
                             ".find(e => e.textContent.startsWith('MEDIUM fail')); "
                             "return r.getBoundingClientRect().width; })()")
    assert medium_fail >= 8
    kev = browser.js("[...document.querySelectorAll('#findings td.kev')].map(c => c.textContent)")
    assert set(kev) == {"yes", "no"}  # every CVE was asked: "no", never a blank
    kinds = browser.js("[...document.querySelectorAll('#findings td.score .score-kind')].map(c => c.textContent)")
    assert set(kinds) <= {"Inspector", "CVSS"} and kinds
