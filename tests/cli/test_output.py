"""Reports land as a user expects: umask modes, FIFOs written in place, clashing paths refused, no stale verdict."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.cli.guard import ReportGuard
from gate.cli.main import main
from gate.cli.output import ReportSpec, parse_report_spec, prepare_reports
from gate.cli.signals import Cancelled
from gate.errors import ExitCode, UsageError
from gate.reports.interface import ReportOptions
from gate.reports.registry import Format
from tests.cli.hostile import FEEDS
from tests.conftest import EXAMPLES

FINDINGS = ["check", "--findings", str(EXAMPLES / "findings.json"), "--as-of", "2026-11-21", *FEEDS]


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_report_mode_comes_from_the_umask(mask: int, mode: int, isolated_env: Path, umask: None) -> None:
    os.umask(mask)
    path = isolated_env / "r.json"
    path.write_text("{}")
    path.chmod(0o600)  # an earlier file's mode is not kept either: the report is a new file
    assert main([*FINDINGS, "--report", f"json={path}"]) == ExitCode.VIOLATION
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert json.loads(path.read_text())["verdict"] == "fail"


def test_fifo_is_written_in_place_and_its_reader_gets_the_whole_report(isolated_env: Path) -> None:
    fifo = isolated_env / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    assert main([*FINDINGS, "--report", f"json={fifo}"]) == ExitCode.VIOLATION
    reader.join()
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO, not replaced by a file
    assert json.loads(received[0])["summary"]["total"] == 347
    assert [p.name for p in isolated_env.iterdir() if p.name != "cache"] == ["report.fifo"]


def test_a_symlinked_report_updates_its_target(isolated_env: Path) -> None:
    target = isolated_env / "real.json"
    target.write_text("old")
    link = isolated_env / "link.json"
    link.symlink_to(target)
    assert main([*FINDINGS, "--report", f"json={link}"]) == ExitCode.VIOLATION
    assert link.is_symlink()
    assert json.loads(target.read_text())["verdict"] == "fail"


def _clash_pairs(d: Path) -> dict[str, tuple[str, str]]:
    (d / "a.json").write_text("{}")
    (d / "link.json").symlink_to(d / "a.json")
    os.link(d / "a.json", d / "hard.json")
    return {
        "same path": (f"json={d}/new.json", f"sarif={d}/new.json"),
        "dot segment": (f"json={d}/new.json", f"sarif={d}/./new.json"),
        "symlink": (f"json={d}/a.json", f"sarif={d}/link.json"),
        "hard link": (f"json={d}/a.json", f"sarif={d}/hard.json"),
        "two to stdout": ("json=-", "sarif=-"),
        "- and /dev/stdout": ("json=-", "html=/dev/stdout"),
        "/dev/stderr twice": ("json=/dev/stderr", "html=/dev/fd/2"),
    }


@pytest.mark.parametrize("case", ["same path", "dot segment", "symlink", "hard link", "two to stdout",
                                  "- and /dev/stdout", "/dev/stderr twice"])
def test_two_reports_to_one_place_exit_2_before_any_work(case: str, isolated_env: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _clash_pairs(isolated_env)[case]
    before = sorted(p.name for p in isolated_env.iterdir())
    code = main(["check", "--findings", str(isolated_env / "missing.json"), "--report", first, "--report", second])
    assert code == ExitCode.USAGE  # not 3: the missing findings file was never looked at
    out, err = capsys.readouterr()
    assert "write to the same place" in err
    assert out == ""
    assert sorted(p.name for p in isolated_env.iterdir()) == before
    assert (isolated_env / "a.json").read_text() == "{}"


def test_distinct_paths_do_not_clash(isolated_env: Path) -> None:
    specs = [parse_report_spec(f"json={isolated_env}/a.json"), parse_report_spec(f"sarif={isolated_env}/b.json"),
             parse_report_spec("html=-")]
    prepared = prepare_reports(specs)
    assert [s.stream for s in prepared] == [None, None, "stdout"]
    with pytest.raises(UsageError):
        prepare_reports([*specs, parse_report_spec("table=/proc/self/fd/1")])


def _pass_report(path: Path) -> None:
    path.write_text(json.dumps({"verdict": "pass"}))


def test_placeholder_replaces_an_earlier_verdict_before_any_work(isolated_env: Path) -> None:
    report = isolated_env / "gate.json"
    _pass_report(report)
    specs = prepare_reports([ReportSpec(Format.JSON, str(report)), ReportSpec(Format.JUNIT, "-", "stdout")])
    now = datetime(2026, 11, 21, tzinfo=UTC)
    with ReportGuard(specs, ReportOptions(), {}, now=now, policy_name="default"):
        during = json.loads(report.read_text())
        assert during["verdict"] == "error"
        assert "in progress" in during["errors"][0]


@pytest.mark.parametrize("error", [Cancelled(15), KeyboardInterrupt(), RuntimeError("boom")],
                         ids=["SIGTERM", "KeyboardInterrupt", "crash"])
def test_leaving_early_writes_error_reports_with_the_reason(error: BaseException, isolated_env: Path) -> None:
    report = isolated_env / "gate.json"
    _pass_report(report)
    specs = prepare_reports([ReportSpec(Format.JSON, str(report))])
    guard = ReportGuard(specs, ReportOptions(), {}, now=datetime.now(UTC), policy_name="default")
    with pytest.raises(type(error)), guard:
        raise error
    after = json.loads(report.read_text())
    assert after["verdict"] == "error"
    assert "in progress" not in after["errors"][0]
    if isinstance(error, Cancelled):
        assert "SIGTERM" in after["errors"][0]
    assert sorted(p.name for p in isolated_env.iterdir()) == ["gate.json"]  # no temporary file left


def test_an_invalid_policy_leaves_an_error_report_not_the_old_pass(isolated_env: Path) -> None:
    report = isolated_env / "gate.json"
    _pass_report(report)
    assert main([*FINDINGS, "--policy", "nope", "--report", f"json={report}"]) == ExitCode.USAGE
    after = json.loads(report.read_text())
    assert after["verdict"] == "error"
    assert "no shipped policy named 'nope'" in after["errors"][0]


def test_an_unwritable_report_path_fails_before_any_work(isolated_env: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    blocker = isolated_env / "file"
    blocker.write_text("")
    code = main(["check", "--findings", str(isolated_env / "missing.json"), "--report", f"json={blocker}/r.json"])
    assert code == ExitCode.INCOMPLETE
    err = capsys.readouterr().err
    assert "cannot write report" in err
    assert "missing.json" not in err


def test_verbose_is_accepted_anywhere(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(isolated_env / "gone.json")
    for argv in (["-v", "check", "--findings", missing], ["check", "-v", "--findings", missing],
                 ["check", "--findings", missing, "--verbose"]):
        assert main(argv) == ExitCode.INCOMPLETE
        assert "Traceback" in capsys.readouterr().err
    assert main(["check", "--findings", missing]) == ExitCode.INCOMPLETE
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--findings", "--policy", "--kev-catalog"])
def test_a_report_over_an_input_is_refused_and_the_input_kept(option: str, isolated_env: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    victim = isolated_env / "input.json"
    victim.write_text("precious")
    argv = ["check", "--findings", str(EXAMPLES / "findings.json"), option, str(victim)]
    assert main([*argv, "--report", f"json={isolated_env}/./input.json"]) == ExitCode.USAGE
    assert "would overwrite the input" in capsys.readouterr().err
    assert victim.read_text() == "precious"


def test_a_placeholder_that_cannot_be_written_still_replaces_the_other_verdicts(isolated_env: Path) -> None:
    report = isolated_env / "gate.json"
    _pass_report(report)
    blocker = isolated_env / "file"
    blocker.write_text("")
    # the unwritable one comes first, so its failure interrupts the placeholders before gate.json's
    code = main([*FINDINGS, "--report", f"sarif={blocker}/r.sarif", "--report", f"json={report}"])
    assert code == ExitCode.INCOMPLETE
    assert json.loads(report.read_text())["verdict"] == "error"
