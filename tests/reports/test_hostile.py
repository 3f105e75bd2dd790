"""Hostile finding text stays inert in every format: no markup, no commands, no terminal control."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gate.model import FeedInfo
from gate.outcome import Evaluation
from gate.reports import escape, github_runner
from gate.reports.html import HtmlReport
from gate.reports.interface import ReportFormat, ReportOptions
from gate.reports.json_report import JsonReport
from gate.reports.junit import JunitReport
from gate.reports.markdown import MarkdownReport
from gate.reports.sarif import SarifReport
from gate.reports.table import TableReport
from tests.reports.sample import EVALUATED_AT, EVALUATION, HOSTILE, HOSTILE_BITS, HOSTILE_EVALUATION, HUGE

FORMATS: list[ReportFormat] = [
    SarifReport(), JunitReport(), MarkdownReport(), HtmlReport(), TableReport(), JsonReport(),
]


def _render(fmt: ReportFormat, options: ReportOptions = ReportOptions()) -> str:
    return fmt.render(HOSTILE_EVALUATION, options)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_output_is_encodable_utf8(fmt: ReportFormat) -> None:
    _render(fmt).encode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_unicode_survives(fmt: ReportFormat) -> None:
    text = _render(fmt)
    assert "ünïcødé 漢字 🚀" in text


class _Collector(HTMLParser):
    """Records every start tag with its attributes, and the text inside each script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def test_html_has_no_markup_from_data() -> None:
    page = _render(HtmlReport())
    parser = _Collector()
    parser.feed(page)
    parser.close()
    names = [tag for tag, _ in parser.tags]
    assert names.count("script") == 2  # our script, and the findings as inert JSON (type=application/json)
    assert "img" not in names
    assert "b" not in names
    assert "alert(1)" not in parser.scripts[1]
    assert "<" not in parser.scripts[0]
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert not (value or "").lower().startswith("javascript:"), (tag, name)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_script_never_writes_markup() -> None:
    page = _render(HtmlReport())
    script = page[page.rindex("<script>") :]
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "document.write" not in script


def _cells(row: str) -> int:
    """Count table cells the way GFM splits them: at pipes not escaped by a backslash."""
    count, escaped = 0, False
    for char in row.strip():
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            count += 1
    return count - 1


def test_markdown_is_inert() -> None:
    text = _render(MarkdownReport())
    assert "<script" not in text
    assert "<img" not in text
    assert not re.search(r"(?<!\\)\]\(javascript:", text)
    assert "@octocat" not in text
    assert "\x1b" not in text
    header_cells = None
    for line in text.splitlines():
        if line.startswith("| Vulnerability"):
            header_cells = _cells(line)
        elif line.startswith("|") and header_cells is not None:
            assert _cells(line) == header_cells, line[:200]
        elif not line.startswith("|"):
            header_cells = None
    for line in text.splitlines():
        assert not line.startswith(("# ", "> ", "::", "1. ")), line[:200]
        if line.startswith("#"):
            assert line.startswith(("## ", "### ")), line[:200]


def test_markdown_clips_huge_titles() -> None:
    text = _render(MarkdownReport())
    assert len(text) < len(HUGE)


def test_annotations_are_one_command_each() -> None:
    lines = github_runner.annotations(HOSTILE_EVALUATION, "image-recipe.yaml")
    assert len(lines) == 2
    for line in lines:
        assert "\n" not in line
        assert "\r" not in line
        assert re.match(r"^::(error|warning) title=[^:]*,file=image-recipe\.yaml::", line), line[:200]
        data = line.split("::", 2)[2]
        assert "::" in data  # present, but only inside the message, where the runner ignores it
        assert "%0A::warning::x" not in data  # the literal `%` is encoded as %25
        assert "%250A::warning::x" in data
        assert "\x1b" not in line


def test_workflow_property_cannot_end_the_property_list() -> None:
    value = escape.workflow_property("a,b::c\r\nd%")
    assert value == "a%2Cb%3A%3Ac%0D%0Ad%25"


def test_table_has_no_control_characters() -> None:
    for color in (False, True):
        text = _render(TableReport(), ReportOptions(color=color))
        data_controls = re.sub(r"\x1b\[[0-9;]*m", "", text) if color else text
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", data_controls)
        assert "\\x1b[31mred" in text


def test_junit_keeps_text_as_text() -> None:
    text = _render(JunitReport())
    root = etree.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuite"
    assert not root.findall(".//script")
    failure = root.find(".//failure")
    assert failure is not None
    assert "<script>alert(1)</script>" in (failure.text or "")


def test_sarif_keeps_text_as_data() -> None:
    log = json.loads(_render(SarifReport()))
    message = log["runs"][0]["results"][0]["message"]["text"]
    assert HOSTILE_BITS[2] in message
    assert len(message) < len(HUGE)


def test_hostile_fixture_carries_every_attack() -> None:
    for bit in ("<script>", "```", "::error::", "%0A", "\r\n::set-output", "\x1b", "🚀"):
        assert bit in HOSTILE
    assert len(HUGE) > 100_000


def test_json_keeps_text_as_data() -> None:
    doc = json.loads(_render(JsonReport()))
    titles = [f["title"] for f in doc["findings"]]
    assert any(HOSTILE_BITS[0] in (t or "") for t in titles)


_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                          "\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
"""What `escape.neutralise` shows as `\\x1b`: none of it may reach a page raw (tab, LF and CR aside)."""


def _outside_assets(page: str) -> str:
    """The page without gate's own CSS and JS (trusted package data): everything drawn from data."""
    return re.sub(r"<style>.*?</style>|<script>.*?</script>", "", page, flags=re.DOTALL)


@pytest.mark.parametrize("severity", ["HIGH\x1b[5m|<b>", "\u202eHGIH\u2066", "LOW\x85next\u2028line", "LOW \ud800"])
def test_html_shows_no_raw_control_character_anywhere(severity: str) -> None:
    # EC2's SeverityLabel is free text (only upper-cased), and the severity chart labels its bars with it.
    results = tuple(replace(r, finding=replace(r.finding, severity=severity)) for r in HOSTILE_EVALUATION.results)
    page = HtmlReport().render(replace(HOSTILE_EVALUATION, results=results), ReportOptions())
    page.encode("utf-8")  # a lone surrogate is replaced, or writing the report fails
    found = [page[max(m.start() - 60, 0):m.start() + 5] for m in _RAW_CONTROL.finditer(_outside_assets(page))]
    assert found == []
    assert 'id="chart-decisions"' in page


def _everywhere(text: str) -> Evaluation:
    """The sample run with `text` in every string the HTML page shows around (and in) the table."""
    results = tuple(
        replace(r, finding=replace(
            r.finding, vulnerability_id=f"CVE-1 {text}", severity=f"HIGH {text}", title=text, description=text,
            remediation_text=text, source_url=f"https://x/{text}",
            packages=tuple(replace(p, name=f"p {text}", version=text, fixed_in_version=text)
                           for p in r.finding.packages)),
            matches=tuple(replace(m, rule_id=text, reasons=(text,)) for m in r.matches))
        for r in EVALUATION.results)
    return replace(
        EVALUATION, results=results, policy_name=text, policy_source=text, target=text, notes=(text, f"`{text}`"),
        errors=(text,), stale_exceptions=(text,), expired_exceptions=(text,),
        feeds=(FeedInfo(text, text, EVALUATED_AT, text),),
        rules=tuple(replace(rule, id=text, when=text, description=text) for rule in EVALUATION.rules),
        exceptions=tuple(replace(e, id=text, vulnerability=text, reason=text, owner=text)
                         for e in EVALUATION.exceptions))


def _markup(page: str) -> set[tuple[str, str]]:
    """Each element and attribute name the page holds (an injected one would add to these)."""
    parser = _Collector()
    parser.feed(page)
    parser.close()
    return {(tag, "") for tag, _ in parser.tags} | {(tag, name) for tag, attrs in parser.tags for name, _ in attrs}


_PLAIN_MARKUP = _markup(HtmlReport().render(_everywhere("x"), ReportOptions())) | {("code", "")}
_PIECES = st.sampled_from(["<", ">", "&", '"', "'", "`", "{", "}", "{0}", "{0.__class__}", "%s", "\x00", "\x1b", "\x85",
                           "\u2028", "\u202e", "\ud800", "\ufeff", "\r", "\n", "\t", " ", "a", "é", "]]>", "<!--",
                           "</script>", "<b>", "<img src=x onerror=alert(1)>", 'x" onclick="y', "-->", "\\", "##[",
                           "::", "w" * 70])


@settings(max_examples=60, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_no_text_anywhere_adds_markup_or_raw_controls(text: str) -> None:
    page = HtmlReport().render(_everywhere(text), ReportOptions())
    page.encode("utf-8")
    assert _markup(page) <= _PLAIN_MARKUP
    assert not _RAW_CONTROL.search(_outside_assets(page))
