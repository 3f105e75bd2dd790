"""The HTML page: stable hooks for browser tests, inline assets allowed by hash, nothing fetched."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace

from gate.reports.html import HtmlReport
from gate.reports.interface import ReportOptions
from tests.reports.sample import EVALUATION, HOSTILE_EVALUATION, many

PAGE = HtmlReport().render(EVALUATION, ReportOptions())


def _hash(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _data(page: str = PAGE) -> dict:  # type: ignore[type-arg]
    block = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
    assert block
    return json.loads(block.group(1))


def test_dom_hooks() -> None:
    assert '<table id="findings">' in PAGE
    assert '<input id="filter"' in PAGE
    assert len(_data()["rows"]) == len(EVALUATION.results)
    for decision in ("fail", "warn", "excepted", "pass"):
        assert f'class="decision-filter" value="{decision}" checked' in PAGE
    assert PAGE.count("<th data-sort=") == 6
    for hook in ('id="page-size"', 'id="previous"', 'id="next"', 'id="chart-decisions"', 'id="chart-epss"'):
        assert hook in PAGE


def test_assets_are_inline_and_allowed_by_hash() -> None:
    style = re.search(r"<style>(.*?)</style>", PAGE, re.S)
    script = re.search(r"<script>(.*?)</script>", PAGE, re.S)  # the data block has a type: not run, not hashed
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


def test_rows_carry_why_provenance_and_exceptions() -> None:
    data = _data()
    strings = data["strings"]
    rows = {row["id"]: row for row in data["rows"]}
    assert "fail kev-listed: kev is true" in [strings[i] for i in rows["CVE-2024-3094"]["w"]]
    assert ("epss 0.85, percentile 0.994 (first-epss, scored 2025-08-28, 84 days old)"
            in [strings[i] for i in rows["CVE-2024-3094"]["x"]])
    assert ("exception EXC-openssl-2023 expired on 2025-10-31 and no longer applies"
            in [strings[i] for i in rows["CVE-2023-5678"]["w"]])
    assert [strings[i] for i in rows["CVE-2023-4911"]["ex"]] == [
        "EXC-glibc-tunables: Build hosts run no setuid binaries from this image; tracked in SEC-412. — owner "
        "platform-team, expires 2026-01-31 (in 72 days)"]
    assert rows["CVE-2023-29383"]["es"] == "0.00009"


def test_repeated_text_is_stored_once() -> None:
    strings = _data()["strings"]
    assert len(strings) == len(set(strings))


def test_data_block_cannot_be_closed_by_finding_text() -> None:
    page = HtmlReport().render(HOSTILE_EVALUATION, ReportOptions())
    block = page[page.index('<script type="application/json" id="data">') :]
    block = block[: block.index("</script>")]
    assert "<" not in block.split(">", 1)[1]
    assert "<script>alert(1)</script>" in json.dumps(_data(page), ensure_ascii=False)


def test_pictures_do_not_grow_with_findings() -> None:
    def svg_size(n: int) -> int:
        page = HtmlReport().render(replace(EVALUATION, results=many(n)), ReportOptions())
        return sum(len(m) for m in re.findall(r"<svg.*?</svg>", page, re.S))

    assert svg_size(4000) < 60_000
    assert svg_size(4000) - svg_size(400) < 20_000
