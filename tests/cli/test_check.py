"""`gate check` end to end on the bundled example: verdicts, exit codes, the JSON report and its schema."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.conftest import EXAMPLES

DEMO = [
    "check",
    "--findings", str(EXAMPLES / "findings.json"),
    "--finding-details", str(EXAMPLES / "inspector-findings.json"),
    "--finding-details", str(EXAMPLES / "finding-details.json"),
    "--kev-catalog", str(EXAMPLES / "kev.json"),
    "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
    # NOTE: the example scan is of 2025-08-29, the day after its bundled KEV/EPSS files: the demo's day.
    "--as-of", "2025-08-30",
]
FEEDS = ["--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
         "--max-feed-age", "3650d"]  # the bundled feeds are of 2025-08; these tests are not about their age


def report_schema() -> dict:  # type: ignore[type-arg]
    return json.loads(resources.files("gate").joinpath("schemas/report-v1.schema.json").read_text())


def test_demo_fails_with_the_blocking_findings(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = isolated_env / "report.json"
    assert main([*DEMO, "--report", f"json={out_path}"]) == ExitCode.VIOLATION
    report = json.loads(out_path.read_text())
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert report["verdict"] == "fail"
    assert report["summary"]["total"] == 347
    failed = sorted({f["vulnerabilityId"] for f in report["findings"] if f["decision"] == "fail"})
    assert failed == sorted([
        "CVE-2023-44487", "CVE-2023-4863", "CVE-2024-1086", "CVE-2024-38475", "CVE-2025-24813",
        "CVE-2025-27363", "CVE-2024-38473", "CVE-2025-26465", "CVE-2024-45337",
    ])
    webp = next(f for f in report["findings"] if f["vulnerabilityId"] == "CVE-2023-4863")
    assert webp["kev"] is True
    assert {f["kev"] for f in report["findings"]} == {True, False}  # the KEV catalog answered every CVE
    assert webp["matchedRules"] == ["known-exploited", "kev-overdue", "likely-exploited", "high"]
    assert webp["enrichment"]["kev"]["provenance"]["source"] == "inspector:BatchGetFindingDetails"
    out = capsys.readouterr().out
    assert "CVE-2023-4863" in out
    assert "libwebp 1.2.4-1.amzn2023.0.5 → 0:1.2.4-1.amzn2023.0.6" in out
    assert "· EPSS 0.94\n" in out


def test_warnings_only_exit_0(isolated_env: Path) -> None:
    policy = isolated_env / "warn.yaml"
    policy.write_text("version: 1\nrules:\n  - {id: high, when: severity == \"HIGH\", action: warn}\n")
    out_path = isolated_env / "r.json"
    assert main([*DEMO, "--policy", str(policy), "--report", f"json={out_path}"]) == ExitCode.PASS
    report = json.loads(out_path.read_text())
    assert report["verdict"] == "pass"
    assert report["summary"]["warned"] == 100
    assert report["summary"]["failed"] == 0


def test_json_to_stdout_keeps_stdout_clean(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--report", "json=-"]) == ExitCode.VIOLATION
    captured = capsys.readouterr()
    assert json.loads(captured.out)["verdict"] == "fail"
    assert "To ship, update these packages" in captured.err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["check"], ExitCode.USAGE, "give exactly one of --findings"),
        (["check", "--findings", "x.json", "--snapshot", "y.json"], ExitCode.USAGE, "give exactly one of"),
        (["check", "--findings", "missing.json", *FEEDS], ExitCode.INCOMPLETE, "missing.json: no such file"),
        ([*DEMO, "--report", "pdf=x.pdf"], ExitCode.USAGE, "unknown format 'pdf'"),
        ([*DEMO, "--report", "json"], ExitCode.USAGE, "expected FORMAT=PATH"),
        ([*DEMO, "--as-of", "yesterday"], ExitCode.USAGE, "--as-of 'yesterday'"),
        ([*DEMO, "--policy", "nope"], ExitCode.USAGE, "no shipped policy named 'nope'"),
        (["frobnicate"], ExitCode.USAGE, "invalid choice"),
    ],
)
def test_usage_and_input_errors(argv: list[str], code: int, message: str, isolated_env: Path,
                                capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(isolated_env)
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_not_an_export_is_exit_2_with_one_line(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = isolated_env / "bad.json"
    bad.write_text('{"hello": "world"}')
    assert main(["check", "--findings", str(bad), *FEEDS]) == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert err == (f"gate: error: {bad}: not an Image Builder scan findings export (no 'findings' list) "
                   "(expected the output of `aws imagebuilder list-image-scan-findings`)")


def test_bad_epss_file_is_exit_2(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = isolated_env / "epss.csv"
    bad.write_text("cve,epss,percentile\nCVE-2024-1,2.0,0.5\n")
    argv = [*DEMO]
    argv[argv.index("--epss-scores") + 1] = str(bad)
    assert main(argv) == ExitCode.USAGE
    assert f"{bad}:2: score 2.0 is outside 0..1" in capsys.readouterr().err


def test_unreadable_input_writes_an_error_report_and_exits_3(isolated_env: Path) -> None:
    out_path = isolated_env / "r.json"
    code = main(["check", "--findings", str(isolated_env / "gone.json"), *FEEDS, "--report", f"json={out_path}"])
    assert code == ExitCode.INCOMPLETE
    report = json.loads(out_path.read_text())
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert report["verdict"] == "error"
    assert "no such file" in report["errors"][0]


def test_traceback_only_with_verbose(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(isolated_env / "gone.json")
    assert main(["check", "--findings", missing, *FEEDS]) == ExitCode.INCOMPLETE
    assert "Traceback" not in capsys.readouterr().err
    assert main(["-v", "check", "--findings", missing, *FEEDS]) == ExitCode.INCOMPLETE
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(("feeds", "field"), [
    ([], "`kev`"),
    (["--epss-scores", str(EXAMPLES / "epss-scores.csv.gz")], "`kev`"),
    (["--kev-catalog", str(EXAMPLES / "kev.json")], "`epss`"),
])
def test_a_rule_no_source_can_answer_stops_the_run(feeds: list[str], field: str, isolated_env: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out_path = isolated_env / "r.json"
    code = main(["check", "--findings", str(EXAMPLES / "findings.json"), *feeds, "--as-of", "2026-11-21",
                 "--report", f"json={out_path}"])
    assert code == ExitCode.INCOMPLETE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert field in err and "no source in this run can answer" in err and "--allow-unanswerable" in err
    assert json.loads(out_path.read_text())["verdict"] == "error"


def test_strict_offline_names_the_missing_data_once(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--findings", str(EXAMPLES / "findings.json"), "--policy", "strict", *FEEDS,
                 "--as-of", "2026-11-21"])
    assert code == ExitCode.INCOMPLETE
    err = capsys.readouterr().err
    assert err == ("gate: error: rule 'exploit-observed' reads `exploit_observed`, which no source in this run can "
                   "answer: supply a live run (--image-build-version-arn) or --finding-details FILE; 1 more cannot "
                   "be answered either (`gate policy show strict` lists the data each rule needs; or pass "
                   "--allow-unanswerable to judge such rules as not matching)\n")


def test_allow_unanswerable_is_explicit_and_reported(isolated_env: Path) -> None:
    out_path = isolated_env / "r.json"
    code = main(["check", "--findings", str(EXAMPLES / "findings.json"), "--as-of", "2026-11-21",
                 "--allow-unanswerable", "--report", f"json={out_path}"])
    assert code == ExitCode.VIOLATION
    report = json.loads(out_path.read_text())
    assert any(n.startswith("--allow-unanswerable: rule 'known-exploited' reads `kev`") for n in report["notes"])
    rules = {r for f in report["findings"] if f["decision"] == "fail" for r in f["matchedRules"]}
    assert "critical-unknown" in rules
    assert [f["kev"] for f in report["findings"]] == [None] * 347  # unknown is null, never false


def test_python_dash_m_gate_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "gate", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("gate ")


def test_github_mode_fences_the_summary_from_workflow_commands(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(DEMO) == ExitCode.VIOLATION
    lines = capsys.readouterr().out.splitlines()
    stop = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[stop].split("::")[2]
    resume = lines.index(f"::{token}::")
    assert len(token) == 32 and stop < resume
    # Every command gate means to issue comes after commands are resumed; nothing inside the fence is one.
    assert all(not line.startswith("::") for line in lines[stop + 1:resume])
    assert sum(line.startswith("::error ") for line in lines[resume + 1:]) == 9
