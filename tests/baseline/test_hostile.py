"""Hostile text in a baseline report (its pipeline, target and fixed findings) stays inert in every output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from gate.reports.registry import Format
from tests.baseline.test_chain import FEEDS, check, export
from tests.cli.actions_runner import assert_only_gate_annotations
from tests.cli.hostile import MARK, PAYLOAD, RAW_CONTROL


@pytest.fixture
def hostile_baseline(isolated_env: Path) -> Path:
    code, report = check(isolated_env, 1, "first")
    assert code == ExitCode.VIOLATION
    doc = json.loads(report.read_text())
    doc["pipeline"] = doc["target"] = doc["build"] = f"arn {PAYLOAD}"
    gone = next(f for f in doc["findings"] if f["packages"][0]["name"] == "zlib")
    gone["vulnerabilityId"] = f"CVE-{PAYLOAD}"
    gone["packages"][0]["name"] = f"zlib{PAYLOAD}"
    gone["severity"] = f"MEDIUM{PAYLOAD}"
    report.write_text(json.dumps(doc))
    return report


@pytest.mark.parametrize("fmt", list(Format), ids=str)
def test_every_format_is_inert_in_actions(fmt: Format, hostile_baseline: Path, isolated_env: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(isolated_env / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(isolated_env / "outputs.txt"))
    capsys.readouterr()
    argv = ["check", "--findings", str(export(isolated_env / "e2.json", 2)), *FEEDS, "--policy", "ratchet",
            "--as-of", "2026-10-01", "--baseline", str(hostile_baseline), "--baseline-any-pipeline",
            "--report", f"{fmt}=-"]
    assert main(argv) == ExitCode.VIOLATION
    out, err = capsys.readouterr()
    summary = (isolated_env / "summary.md").read_text()
    assert MARK in out + summary  # the hostile text reached the outputs, as text
    assert_only_gate_annotations(out, err)
    assert not RAW_CONTROL.search(err), RAW_CONTROL.findall(err)
    if fmt in (Format.TABLE, Format.MARKDOWN):
        assert not RAW_CONTROL.search(out), RAW_CONTROL.findall(out)


def test_the_refusal_naming_a_hostile_pipeline_is_one_inert_line(hostile_baseline: Path, isolated_env: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, _ = check(isolated_env, 2, str(hostile_baseline))
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert not RAW_CONTROL.search(err), RAW_CONTROL.findall(err)
    assert_only_gate_annotations(err)


def test_a_report_may_not_replace_its_own_baseline(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = check(isolated_env, 1, "first")
    before = report.read_bytes()
    capsys.readouterr()
    code, _ = check(isolated_env, 2, str(report), name="build1")  # --report json=build1.json, the baseline
    assert code == ExitCode.USAGE
    assert "would overwrite the input" in capsys.readouterr().err
    assert report.read_bytes() == before
