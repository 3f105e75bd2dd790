"""Template reports: the JSON document as context, hostile finding text inert in the shipped examples, the sandbox
refusing attribute walks, and every template error named with its file and line."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from gate.errors import ExitCode, UsageError
from gate.outcome import Evaluation
from gate.reports.interface import ReportOptions
from gate.reports.json_report import JsonReport
from gate.reports.template import TemplateReport, autoescaped, csv_cell, mrkdwn
from tests.conftest import EXAMPLES
from tests.reports.sample import EVALUATION, XZ

TEMPLATES = EXAMPLES / "templates"
EVIL = ('=cmd|\' /C calc\'!A0", "x",\r\n"injected","row"\n</script><script>alert(1)</script>'
        '\x1b[31m\x00\x07\u2028 "}, {"text": "<!channel> <https://evil.example|click>" @here ,;')
"""Quotes, commas, CRLF, a lone LF, a formula, `</script>`, control characters, Slack mentions and links, JSON."""


def hostile() -> Evaluation:
    packages = tuple(replace(p, name="+" + EVIL, version="@" + EVIL, release=None, epoch=None,
                             fixed_in_version="-" + EVIL) for p in XZ.finding.packages)
    finding = replace(XZ.finding, vulnerability_id="CVE-2024-3094" + EVIL, title=EVIL, severity="CRITICAL" + EVIL,
                      packages=packages)
    return replace(EVALUATION, results=(replace(XZ, finding=finding),), target="-" + EVIL,
                   policy_name=EVIL, errors=(EVIL,))


def render(path: Path, evaluation: Evaluation = EVALUATION) -> str:
    return TemplateReport(path, path.read_text()).render(evaluation, ReportOptions())


def inline(tmp_path: Path, source: str, name: str = "t.txt") -> str:
    path = tmp_path / name
    path.write_text(source)
    return render(path)


def test_the_context_is_the_json_reports_document(tmp_path: Path) -> None:
    text = inline(tmp_path, "{{ report|tojson }}|{{ verdict }}|{{ summary.failed }}|{{ findings|length }}")
    whole, verdict, failed, count = text.rsplit("|", 3)
    assert json.loads(whole) == json.loads(JsonReport().render(EVALUATION, ReportOptions()))
    assert (verdict, failed, count) == ("fail", str(EVALUATION.summary.failed), str(len(EVALUATION.results)))


def test_csv_example_keeps_hostile_text_in_its_cells() -> None:
    text = render(TEMPLATES / "blocking.csv.j2", hostile())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:4] == ["verdict", "target", "vulnerabilityId", "severity"]
    assert len(rows) == 2  # the header and the one blocking finding: no injected row
    assert all(len(r) == len(rows[0]) for r in rows)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["title"].startswith("'=cmd|")  # the formula is text
    assert row["target"].startswith("'-") and row["packages"].startswith("'+") and row["installed"].startswith("'@")
    assert all(not cell.lstrip().startswith(("=", "+", "-", "@")) for cell in rows[1] if cell)
    assert "\r" not in text and text.count("\n") == 2 and "\x1b" not in text and "\x00" not in text
    assert "</script>" in row["title"]  # kept as text: a CSV has no markup to escape


def test_csv_example_in_a_run_without_verdict_names_the_error() -> None:
    rows = list(csv.reader(io.StringIO(render(TEMPLATES / "blocking.csv.j2", replace(
        hostile(), results=(), verdict=EVALUATION.verdict.ERROR)), newline="")))
    assert len(rows) == 2 and rows[1][0] == "error" and "injected" in rows[1][-1]


def test_slack_example_is_one_json_message_whatever_the_findings_say() -> None:
    text = render(TEMPLATES / "slack.json.j2", hostile())
    message = json.loads(text)
    assert set(message) == {"text", "blocks"} and len(message["blocks"]) == 2
    body = message["blocks"][1]["text"]["text"]
    assert "<!channel>" not in body and "<https://" not in body and "&lt;!channel&gt;" in body
    assert "</script>" not in text and "\x1b" not in text and "\u2028" not in text
    lines = body.split("\n")
    assert lines[0].startswith("• CVE-2024-3094") and len(lines) == 2  # the finding, the run's error
    assert lines[1].startswith("error: ")


def test_slack_example_passes_plainly() -> None:
    passed = replace(EVALUATION, results=(), verdict=EVALUATION.verdict.PASS)
    message = json.loads(render(TEMPLATES / "slack.json.j2", passed))
    assert message["text"].startswith(":white_check_mark: gate: *pass*") and len(message["blocks"]) == 1


@pytest.mark.parametrize("attack", [
    "{{ verdict.__class__ }}",
    "{{ verdict.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.mro() }}",
    "{{ report.__class__.mro }}",
    "{{ lipsum.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ verdict|attr('__class__') }}",
    "{{ findings.append(1) }}",
    "{{ report.update(verdict='pass') }}",
    "{% set x = report.pop('verdict') %}",
])
def test_the_sandbox_refuses_attribute_tricks(attack: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        inline(tmp_path, "first line\n" + attack)
    assert caught.value.exit_code is ExitCode.USAGE
    assert f"{tmp_path / 't.txt'}:2: template error: " in caught.value.message
    assert "SecurityError" in caught.value.message or "UndefinedError" in caught.value.message


@pytest.mark.parametrize(("source", "line", "kind"), [
    ("a\nb\n{% for x in findings %}\n", 3, "TemplateSyntaxError"),
    ("a\n{{ verdict }\n", 2, "TemplateSyntaxError"),
    ("a\nb\nc\n{{ no_such_name }}\n", 4, "UndefinedError"),
    ("{% for f in findings %}\n{{ f.no_such_field }}\n{% endfor %}\n", 2, "UndefinedError"),
    ("x\n{{ 1 // 0 }}\n", 2, "ZeroDivisionError"),
    ('{% include "other.txt" %}\n', 1, "TemplateNotFound"),
])
def test_a_template_error_names_the_file_and_line(source: str, line: int, kind: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        inline(tmp_path, source)
    assert caught.value.message.startswith(f"{tmp_path / 't.txt'}:{line}: template error: {kind}")
    assert "\n" not in caught.value.diagnostics()


@pytest.mark.parametrize(("name", "on"), [
    ("r.html", True), ("r.HTM", True), ("r.xml", True), ("r.html.j2", True), ("r.xml.jinja2", True),
    ("r.txt", False), ("r.csv.j2", False), ("r.json", False), ("html", False), ("r.j2", False),
])
def test_autoescape_follows_the_extension(name: str, on: bool, tmp_path: Path) -> None:
    assert autoescaped(Path(name)) is on
    text = inline(tmp_path, "{{ findings[0].title }}|{{ '<b>&' }}", name)
    assert text.endswith("&lt;b&gt;&amp;" if on else "<b>&")


@pytest.mark.parametrize(("value", "cell"), [
    (None, ""), (True, "true"), (0.5, "0.5"), (3, "3"), ("a,b", '"a,b"'), ('say "hi"', '"say ""hi"""'),
    ("=1+1", "\"'=1+1\""), ("  @SUM(A1)", "\"'  @SUM(A1)\""), ("\uff1d1", "\"'\uff1d1\""), ("a\r\nb", '"a b"'),
    (["x", None, "y"], '"x; ; y"'),
])
def test_csv_cell(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_mrkdwn_escapes_what_slack_reads_as_markup() -> None:
    assert mrkdwn("<!here> a & b\n<http://x|y>") == "&lt;!here&gt; a &amp; b &lt;http://x|y&gt;"
    assert mrkdwn(None) == ""
