"""Everything gate prints, read by a simulated GitHub Actions runner: hostile text never becomes a command."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gate.cli import streams
from gate.cli.main import main
from gate.errors import ExitCode
from gate.reports.registry import Format
from tests.aws.fixtures import aws_env
from tests.cli.actions_runner import Runner, assert_only_gate_annotations, parse
from tests.cli.hostile import FEEDS, MARK, PAYLOAD, RAW_CONTROL, hostile_finding, write_findings
from tests.conftest import EXAMPLES
from tests.emulator import Emulator, Faults, image_arn, image_scan_finding
from tests.github_outputs import parse_outputs

__all__ = ["aws_env"]


@pytest.fixture
def actions(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GitHub Actions mode with a step summary and outputs file, as the runner sets them."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(isolated_env / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(isolated_env / "outputs.txt"))
    monkeypatch.chdir(isolated_env)
    return isolated_env


# -- the simulated runner itself: each of these must be caught, or the tests below prove nothing --

@pytest.mark.parametrize("text", [
    "::add-mask::x", "  \t::add-mask::x", "ok\r::add-mask::x", "ok\n::ADD-MASK::x", "prefix ##[add-mask]x",
    "\u00a0::add-mask::x",
])
def test_runner_sees_injected_commands(text: str) -> None:
    assert [c.name for c in Runner().feed(text).executed] == ["add-mask"]


def test_runner_honours_stop_commands_and_only_its_token() -> None:
    runner = Runner().feed("::stop-commands::abc\n::add-mask::x\n::other::\n##[abc]\n::add-mask::y\n")
    assert [c.data for c in runner.executed] == ["y"]
    assert Runner().feed("::stop-commands::abc\n::add-mask::x\n").stop_token == "abc"
    assert parse("::unknown::x", {"error"}) is None


# -- reports and the summary on stdout --

@pytest.mark.parametrize("fmt", list(Format), ids=str)
def test_every_format_to_stdout_is_inert_in_actions(fmt: Format, actions: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    findings = write_findings(actions / "findings.json")
    argv = ["check", *FEEDS, "--findings", str(findings), "--sarif-location", PAYLOAD, "--report", f"{fmt}=-"]
    assert main(argv) == ExitCode.VIOLATION
    out, err = capsys.readouterr()
    # NOTE: OpenVEX lists accepted risks only, and this run accepted none, so no finding text reaches it.
    assert (MARK in out) is (fmt is not Format.OPENVEX)  # the hostile text did reach the report
    executed = assert_only_gate_annotations(out, err)
    assert [c.name for c in executed] == ["error"] * 3  # gate's own annotations still work
    if fmt is Format.OPENVEX:
        assert json.loads(out)["statements"] == []  # escaped, not fenced: still one JSON document
    if fmt in (Format.JSON, Format.SARIF):
        # escaped, not fenced: stdout stays one valid JSON document that still holds the text
        assert any("\n::add-mask::" in s for s in _strings(json.loads(out)))
    assert parse_outputs((actions / "outputs.txt").read_text())["verdict"] == "fail"


@pytest.mark.parametrize("fmt", list(Format), ids=str)
def test_no_raw_control_characters_reach_a_terminal(fmt: Format, isolated_env: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    findings = write_findings(isolated_env / "findings.json")
    assert main(["check", *FEEDS, "--findings", str(findings), "--report", f"{fmt}=-"]) == ExitCode.VIOLATION
    out, err = capsys.readouterr()
    assert (MARK in out) is (fmt is not Format.OPENVEX)  # OpenVEX: nothing was accepted, so no finding text
    assert not RAW_CONTROL.search(out), RAW_CONTROL.findall(out)
    assert not RAW_CONTROL.search(err), RAW_CONTROL.findall(err)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_json_on_stdout_is_the_same_document(actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings = write_findings(actions / "findings.json")
    report = actions / "r.json"
    argv = ["check", *FEEDS, "--findings", str(findings), "--as-of", "2026-01-01"]
    assert main([*argv, "--report", "json=-"]) == ExitCode.VIOLATION
    from_stdout = json.loads(capsys.readouterr().out)
    assert main([*argv, "--report", f"json={report}"]) == ExitCode.VIOLATION
    from_file = json.loads(report.read_text())
    from_stdout.pop("evaluatedAt", None)
    from_file.pop("evaluatedAt", None)
    assert from_stdout == from_file
    assert any(PAYLOAD in s for s in _strings(from_file))


def test_the_fence_token_is_random_and_closes_on_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    streams.fenced("no final newline\r")
    streams.fenced("no final newline")
    out = capsys.readouterr().out
    runner = Runner().feed(out)
    assert runner.stop_token is None and len(set(runner.fences)) == 2


# -- diagnostics on stderr --

def _hostile_details(path: Path) -> Path:
    path.write_text(json.dumps({"findings": [], "findingDetails": [],
                                "errors": [{"findingArn": f"arn:{PAYLOAD}", "errorCode": f"X{PAYLOAD}"}]}))
    return path


def _hostile_policy(path: Path) -> Path:
    path.write_text(f"version: 1\nrules:\n  - id: {json.dumps(PAYLOAD)}\n    when: {json.dumps(PAYLOAD)}\n"
                    "    action: fail\n")
    return path


ERROR_CASES = {
    "missing findings path": lambda d: ["check", *FEEDS, "--findings", str(d / f"gone{PAYLOAD}.json")],
    "unknown policy": lambda d: ["check", "--findings", str(EXAMPLES / "findings.json"), "--policy", PAYLOAD],
    "invalid policy": lambda d: ["check", "--findings", str(EXAMPLES / "findings.json"),
                                 "--policy", str(_hostile_policy(d / "p.yaml"))],
    "policy validate": lambda d: ["policy", "validate", str(_hostile_policy(d / "p.yaml"))],
    "unwritable report": lambda d: ["check", "--findings", str(EXAMPLES / "findings.json"),
                                    "--report", f"json=/proc/{PAYLOAD}/r.json"],
    "finding-details errors": lambda d: ["check", "--findings", str(EXAMPLES / "findings.json"),
                                         "--finding-details", str(_hostile_details(d / "details.json"))],
    "bad --report": lambda d: ["check", "--report", PAYLOAD],
    "bad --as-of": lambda d: ["check", "--findings", str(EXAMPLES / "findings.json"), "--as-of", PAYLOAD],
    "unknown command": lambda d: [PAYLOAD],
    "verbose traceback": lambda d: ["check", *FEEDS, "--findings", str(d / f"gone{PAYLOAD}.json"), "-v"],
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_error_paths_are_inert(case: str, actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(ERROR_CASES[case](actions))
    out, err = capsys.readouterr()
    assert code in (ExitCode.USAGE, ExitCode.INCOMPLETE)
    assert MARK in out + err
    assert_only_gate_annotations(out, err)
    assert not RAW_CONTROL.search(err.replace("\n", "")), RAW_CONTROL.findall(err)
    assert "internal error" not in err


def test_hostile_environment_is_inert(actions: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATE_CACHE_TTL", PAYLOAD)
    assert main(["check", "--findings", str(EXAMPLES / "findings.json")]) == ExitCode.USAGE
    out, err = capsys.readouterr()
    assert MARK in err
    assert_only_gate_annotations(out, err)


def test_hostile_region_and_aws_error_message_are_inert(aws_env: Emulator, actions: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    arn = image_arn()
    aws_env.add_image(arn, [image_scan_finding("CVE-2024-1")])
    assert main(["check", "--image-build-version-arn", arn, "--region", f"us-east-1{PAYLOAD}"]) != 0
    out, err = capsys.readouterr()
    assert MARK in err  # botocore's message quotes the region
    assert_only_gate_annotations(out, err)
    assert main(["check", "--image-build-version-arn", arn + f"\r{PAYLOAD}", "--no-cache"]) != 0
    out, err = capsys.readouterr()
    assert_only_gate_annotations(out, err)
    aws_env.faults = Faults(forbidden=frozenset({"GetImage", "ListImageScanFindings"}), error_message=PAYLOAD)
    assert main(["check", "--image-build-version-arn", arn, "--no-cache"]) == ExitCode.INCOMPLETE
    out, err = capsys.readouterr()
    assert MARK in err  # botocore's message, quoting the hostile text, reached stderr
    assert_only_gate_annotations(out, err)
    assert len(err.strip().splitlines()) == 1


def test_fetch_to_dev_stdout_is_inert(aws_env: Emulator, actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arn = image_arn()
    aws_env.add_image(arn, [hostile_finding(1)])
    assert main(["fetch", "--image-build-version-arn", arn, "--no-cache", "-o", "/dev/stdout"]) == 0
    out, err = capsys.readouterr()
    assert not (actions / "dev").exists()
    snapshot = json.loads(out)  # one valid document, the hostile text escaped inside it
    assert any(PAYLOAD in s for s in _strings(snapshot))
    assert_only_gate_annotations(out, err)


def test_library_warnings_are_inert(actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A live run (the ARN is refused before any call) installs gate's last-resort log handler.
    logging.lastResort = logging._StderrHandler(logging.WARNING)  # type: ignore[attr-defined]
    assert main(["check", "--image-build-version-arn", "not an arn"]) == 2
    capsys.readouterr()
    # NOTE: pytest's own log handlers are on the root logger, so hand the record to the last resort.
    assert getattr(logging.lastResort, "gate_inert", False)
    logging.lastResort.handle(logging.makeLogRecord({"name": "botocore", "levelno": logging.WARNING,
                                                     "msg": "retrying %s", "args": (PAYLOAD,)}))
    out, err = capsys.readouterr()
    assert MARK in err
    assert_only_gate_annotations(out, err)
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("argv", [
    ["check", "--image-build-version-arn", "not an arn"],
    ["check", "--image-pipeline-arn", "not an arn", "--baseline", "previous"],
    ["fetch", "--image-build-version-arn", "not an arn", "-o", "findings.json"],
], ids=["check", "baseline-previous", "fetch"])
def test_library_python_warnings_are_inert_too(argv: list[str], tmp_path: Path) -> None:
    # urllib3 and botocore also speak through the warnings module (urllib3's InsecureRequestWarning
    # quotes the host), which Python prints raw, one line of the message after another. A fresh
    # interpreter: pytest records warnings itself, and has loaded logging already.
    code = ("import sys, warnings\n"
            "from gate.cli.main import main\n"
            "assert 'logging' not in sys.modules\n"
            f"assert main({argv!r}) == 2\n"
            "import urllib3\n"
            f"warnings.warn({PAYLOAD!r}, urllib3.exceptions.InsecureRequestWarning)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert MARK in done.stderr and "InsecureRequestWarning" in done.stderr
    assert not RAW_CONTROL.search(done.stderr)
    assert_only_gate_annotations(done.stdout, done.stderr)
    assert len(done.stderr.splitlines()) == 2  # the usage error, then the warning: one line each
