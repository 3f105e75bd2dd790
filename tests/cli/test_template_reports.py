"""`--report template:FILE=PATH` on the command line: written like any report, refused like any bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.cli.output import parse_report_spec
from gate.errors import ExitCode, UsageError
from tests.cli.hostile import FEEDS
from tests.conftest import EXAMPLES

FINDINGS = ["check", "--findings", str(EXAMPLES / "findings.json"), "--as-of", "2026-11-21", *FEEDS]
CSV = EXAMPLES / "templates" / "blocking.csv.j2"


def test_both_examples_render_a_real_run(isolated_env: Path) -> None:
    out_csv, out_json, report = isolated_env / "b.csv", isolated_env / "s.json", isolated_env / "r.json"
    assert main([*FINDINGS, "--report", f"template:{CSV}={out_csv}", "--report", f"json={report}",
                 "--report", f"template:{EXAMPLES / 'templates' / 'slack.json.j2'}={out_json}"]) == ExitCode.VIOLATION
    document = json.loads(report.read_text())
    rows = list(csv.DictReader(out_csv.read_text().splitlines()))
    assert [r["vulnerabilityId"] for r in rows] == [f["vulnerabilityId"] for f in document["findings"]
                                                    if f["decision"] == "fail"]
    assert rows and {r["verdict"] for r in rows} == {"fail"}
    assert json.loads(out_json.read_text())["text"].startswith(":x: gate: *fail*")


def test_the_spec_keeps_an_equals_sign_in_the_template_path() -> None:
    spec = parse_report_spec("template:a=b.j2=out.txt")
    assert (spec.format, spec.template, spec.path, spec.name) == (None, Path("a=b.j2"), "out.txt", "template:a=b.j2")
    assert parse_report_spec("template:t.j2=-").stream == "stdout"
    with pytest.raises(UsageError, match="expected template:FILE=PATH"):
        parse_report_spec("template:=out.txt")


def test_a_syntax_error_stops_before_any_work(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template, out, report = isolated_env / "t.txt", isolated_env / "out.txt", isolated_env / "r.json"
    template.write_text("ok\n{% if verdict %}\n")
    report.write_text("an earlier run's report")
    assert main([*FINDINGS, "--report", f"json={report}", "--report", f"template:{template}=out.txt"]) == ExitCode.USAGE
    assert f"{template}:2: template error: TemplateSyntaxError" in capsys.readouterr().err
    assert not out.exists() and report.read_text() == "an earlier run's report"  # refused before any placeholder


def test_a_render_error_is_exit_2_and_leaves_no_earlier_output(isolated_env: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # The placeholder (no findings) renders; the verdict's first finding does not.
    template, out, report = isolated_env / "t.txt", isolated_env / "out.txt", isolated_env / "r.json"
    template.write_text("{{ verdict }}\n{% for f in findings %}\n{{ f.severty }}\n{% endfor %}\n")
    out.write_text("pass\n")
    assert main([*FINDINGS, "--report", f"template:{template}={out}", "--report", f"json={report}"]) == ExitCode.USAGE
    assert f"{template}:3: template error: UndefinedError" in capsys.readouterr().err
    assert json.loads(report.read_text())["verdict"] == "error"
    assert out.read_text() == "error\n"  # the error report rendered: never the earlier "pass"


def test_a_template_that_cannot_render_even_the_placeholder_removes_the_old_output(isolated_env: Path) -> None:
    template, out = isolated_env / "t.txt", isolated_env / "out.txt"
    template.write_text("{{ findings[0].vulnerabilityId }}\n")
    out.write_text("CVE-from-an-earlier-run\n")
    assert main([*FINDINGS, "--report", f"template:{template}={out}"]) == ExitCode.USAGE
    assert not out.exists()


@pytest.mark.parametrize(("make", "code", "message"), [
    (lambda p: None, ExitCode.INCOMPLETE, "no such file"),
    (lambda p: p.mkdir(), ExitCode.INCOMPLETE, "is a directory"),
    (lambda p: p.write_bytes(b"{{ verdict }}\xff\xfe"), ExitCode.USAGE, "not UTF-8"),
])
def test_an_unreadable_template_is_refused(make: object, code: ExitCode, message: str, isolated_env: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    template = isolated_env / "t.txt"
    make(template)  # type: ignore[operator]
    assert main([*FINDINGS, "--report", f"template:{template}=out.txt"]) == code
    assert message in capsys.readouterr().err


def test_a_report_over_its_template_is_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = isolated_env / "t.txt"
    template.write_text("{{ verdict }}\n")
    assert main([*FINDINGS, "--report", f"template:{template}={template}"]) == ExitCode.USAGE
    assert "would overwrite the input" in capsys.readouterr().err
    assert template.read_text() == "{{ verdict }}\n"
    assert main([*FINDINGS, "--report", f"json={isolated_env / 't.txt'}",
                 "--report", f"template:{template}=o.txt"]) == ExitCode.USAGE
    assert template.read_text() == "{{ verdict }}\n"


def test_two_reports_to_one_place_are_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = isolated_env / "t.txt"
    template.write_text("{{ verdict }}\n")
    assert main([*FINDINGS, "--report", f"template:{template}=o.txt", "--report", "json=./o.txt"]) == ExitCode.USAGE
    assert "write to the same place" in capsys.readouterr().err


def test_a_template_report_to_stdout_is_fenced_like_any_report(isolated_env: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    template = isolated_env / "t.txt"
    template.write_text("{% for f in findings if f.decision == 'fail' %}{{ f.vulnerabilityId }}\n{% endfor %}")
    assert main([*FINDINGS, "--report", f"template:{template}=-"]) == ExitCode.VIOLATION
    out = capsys.readouterr().out
    assert out.splitlines() and all(line.startswith("CVE-") for line in out.splitlines())
