"""The HTML page: stable hooks for browser tests, inline assets allowed by hash, nothing fetched."""

from __future__ import annotations

import base64
import hashlib
import re

from gate.reports.html import HtmlReport
from gate.reports.interface import ReportOptions
from tests.reports.sample import EVALUATION

PAGE = HtmlReport().render(EVALUATION, ReportOptions())


def _hash(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_dom_hooks() -> None:
    assert '<table id="findings">' in PAGE
    assert '<input id="filter"' in PAGE
    assert PAGE.count('<tr class="finding ') == len(EVALUATION.results)
    for decision in ("fail", "warn", "excepted", "pass"):
        assert f'data-decision="{decision}"' in PAGE
        assert f'class="decision-filter" value="{decision}" checked' in PAGE
    assert PAGE.count("<th data-sort=") == 9


def test_assets_are_inline_and_allowed_by_hash() -> None:
    style = re.search(r"<style>(.*?)</style>", PAGE, re.S)
    script = re.search(r"<script>(.*?)</script>", PAGE, re.S)
    assert style
    assert script
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', PAGE)
    assert csp
    policy = csp.group(1).replace("&#39;", "'")
    assert f"style-src 'sha256-{_hash(style.group(1))}'" in policy
    assert f"script-src 'sha256-{_hash(script.group(1))}'" in policy
    assert policy.startswith("default-src 'none';")


def test_nothing_is_fetched() -> None:
    assert not re.search(r"<(link|img|iframe|object|embed)\b", PAGE)
    assert " src=" not in PAGE
    assert "@import" not in PAGE
    assert "url(" not in PAGE
    for href in re.findall(r'href="([^"]*)"', PAGE):
        assert href.startswith("https://nvd.nist.gov/")


def test_rows_carry_why_and_provenance() -> None:
    assert "<li>fail kev-listed: kev is true</li>" in PAGE
    assert "<li>epss 0.85, percentile 0.994 (first-epss, scored 2025-08-28, 84 days old)</li>" in PAGE
    assert "<li>exception EXC-openssl-2023 expired on 2025-10-31 and no longer applies</li>" in PAGE
