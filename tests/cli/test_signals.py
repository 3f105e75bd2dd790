"""A real gate process cancelled mid-run, or cut off by a closed pipe: no stale verdict, no temporary file, no noise."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gate.cli.main import CLOSED_PIPE, main
from gate.errors import ExitCode
from tests.aws.fixtures import aws_env
from tests.cli.actions_runner import assert_only_gate_annotations
from tests.cli.hostile import FEEDS
from tests.conftest import EXAMPLES
from tests.emulator import Emulator, Faults, image_arn, image_scan_finding

__all__ = ["aws_env"]

GATE = [sys.executable, "-m", "gate"]
DEMO = ["check", "--findings", str(EXAMPLES / "findings.json"), "--as-of", "2026-11-21", *FEEDS]


def _wait_for(condition: object, what: str) -> None:
    # NOTE: a guard against hanging forever, not a timed assertion: nothing here measures speed.
    deadline = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "scan_states", "faults"), [
    # SIGTERM while the listing is on the wire (slow AWS), SIGINT while gate waits for the scan
    (signal.SIGTERM, 143, None, Faults(latency=0.1, latency_by_operation={"ListImageScanFindings": 6.0})),
    (signal.SIGINT, 130, ["SCANNING"], Faults(latency=0.1)),
], ids=["SIGTERM-listing", "SIGINT-waiting-for-scan"])
def test_cancelled_run_leaves_an_error_report_not_the_earlier_pass(
    signum: int, code: int, scan_states: list[str] | None, faults: Faults, aws_env: Emulator, tmp_path: Path
) -> None:
    arn = image_arn()
    aws_env.add_image(arn, [image_scan_finding(f"CVE-2024-{1000 + i}") for i in range(40)], scan_states=scan_states)
    aws_env.faults = faults
    report = tmp_path / "out" / "gate.json"
    report.parent.mkdir()
    report.write_text(json.dumps({"verdict": "pass"}))  # what an earlier run left behind
    env = {**os.environ, **aws_env.env(), "GATE_CACHE_DIR": str(tmp_path / "cache"), "GITHUB_ACTIONS": "true"}
    env.pop("AWS_PROFILE", None)
    proc = subprocess.Popen([*GATE, "check", "--image-build-version-arn", arn, "--report", f"json={report}",
                             "--wait-timeout", "10m"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # NOTE: once GetImage is answered, gate is either sleeping before it asks again (SCANNING) or
    # inside a 6-second ListImageScanFindings: the run cannot end before the signal lands.
    _wait_for(lambda: any(c.operation == "GetImage" for c in aws_env.calls), "gate's first GetImage")
    during = json.loads(report.read_text())
    assert during["verdict"] == "error"  # the placeholder: the old pass is already gone
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    after = json.loads(report.read_text())
    assert after["verdict"] == "error"
    assert signal.Signals(signum).name in after["errors"][0]
    assert sorted(p.name for p in report.parent.iterdir()) == ["gate.json"]  # no temporary file
    assert err.count("gate: error:") == 1 and "Traceback" not in err
    assert_only_gate_annotations(out, err)


@pytest.mark.slow
def test_a_closed_stdout_ends_gate_quietly(tmp_path: Path) -> None:
    report = tmp_path / "gate.json"
    proc = subprocess.Popen([*GATE, *DEMO, "--report", "sarif=-", "--report", f"json={report}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -c 0`; closed before gate writes, so no pipe buffer can hide it
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == CLOSED_PIPE
    assert b"error" not in err and b"Traceback" not in err, err
    # the report asked for on stdout never arrived, so the run did not complete: the file says so
    after = json.loads(report.read_text())
    assert after["verdict"] == "error"
    assert "standard output was closed" in after["errors"][0]


@pytest.mark.slow
def test_a_closed_stderr_ends_gate_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen([*GATE, "check", "--findings", str(tmp_path / "missing.json")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    proc.stderr.close()
    assert proc.wait(timeout=120) == CLOSED_PIPE


def test_policy_schema_into_a_closed_pipe_is_not_an_internal_error(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["policy", "schema"]) == CLOSED_PIPE
    assert capsys.readouterr().err == ""
    assert main(["policy", "schema"]) != ExitCode.INCOMPLETE
