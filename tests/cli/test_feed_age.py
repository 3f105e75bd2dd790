"""`gate check` refuses stale, undated, future-dated, empty or header-only feeds; the age limit is configurable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.cli.test_check import DEMO
from tests.conftest import EXAMPLES
from tests.e2e.seed import seed_example
from tests.emulator import Emulator

OLD_FEEDS = [*DEMO[:DEMO.index("--as-of")], "--as-of", "2026-11-21"]
"""The demo judged on 2026-11-21 with its KEV of 2025-08-25 and EPSS of 2025-08-28, at the default limit."""


def _policy(folder: Path, extra: str) -> str:
    path = folder / "p.yaml"
    path.write_text(f"version: 1\n{extra}rules:\n  - {{id: kev, when: kev, action: fail}}\n")
    return str(path)


def test_old_feeds_stop_the_run_naming_the_feed_its_date_and_the_fix(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = isolated_env / "r.json"
    assert main([*OLD_FEEDS, "--report", f"json={report}"]) == ExitCode.INCOMPLETE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "CISA KEV from " in err[0]
    assert "is data of 2025-08-25, 453 days before the evaluation time 2026-11-21 (limit 30 days)" in err[0]
    assert "gate feeds update" in err[0]
    assert json.loads(report.read_text())["verdict"] == "error"


def test_judged_as_of_the_feeds_date_they_are_fresh(isolated_env: Path) -> None:
    argv = [*OLD_FEEDS[:OLD_FEEDS.index("--as-of")], "--as-of", "2025-08-29"]
    assert main(argv) == ExitCode.VIOLATION


@pytest.mark.parametrize(("flag", "policy", "code"), [
    (None, "max_feed_age: 460d\n", ExitCode.VIOLATION),
    (None, "max_feed_age: 400d\n", ExitCode.INCOMPLETE),  # EPSS 2025-08-28 is 449 days old
    ("460d", None, ExitCode.VIOLATION),
    ("30d", "max_feed_age: 460d\n", ExitCode.INCOMPLETE),  # the flag wins over the policy
    ("11040h", None, ExitCode.VIOLATION),
])
def test_the_limit_comes_from_the_flag_then_the_policy(isolated_env: Path, flag: str | None, policy: str | None,
                                                        code: ExitCode) -> None:
    argv = list(OLD_FEEDS)
    if flag:
        argv += ["--max-feed-age", flag]
    if policy:
        argv += ["--policy", _policy(isolated_env, policy)]
    assert main(argv) == code


@pytest.mark.parametrize("value", ["0d", "30", "forever", "99999999999d", "-1d"])
def test_a_bad_limit_is_a_usage_error(isolated_env: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*OLD_FEEDS, "--max-feed-age", value]) == ExitCode.USAGE
    assert "--max-feed-age" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0d", "forever", "3651d", "30"])
def test_a_bad_policy_limit_is_a_policy_error(isolated_env: Path, value: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*OLD_FEEDS, "--policy", _policy(isolated_env, f"max_feed_age: '{value}'\n")]) == ExitCode.USAGE
    assert "max_feed_age" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "body", "message"), [
    ("kev.json", '{"dateReleased": "2026-11-20T00:00:00Z", "vulnerabilities": []}', "has no entries"),
    ("kev.json", '{"vulnerabilities": [{"cveID": "CVE-2021-44228"}]}', "has no dateReleased"),
    ("epss.csv", "#model_version:v1,score_date:2026-11-20T00:00:00Z\ncve,epss,percentile\n", "has no scores"),
    ("epss.csv", "cve,epss,percentile\nCVE-2021-44228,0.9,0.9\n", "no '#model_version"),
    ("kev.json", '{"dateReleased": "2099-01-01T00:00:00Z", "vulnerabilities": [{"cveID": "CVE-2021-44228"}]}',
     "is dated 2099-01-01T00:00:00+00:00, after today"),
])
def test_empty_or_undated_feed_files_are_invalid_input(isolated_env: Path, name: str, body: str, message: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = isolated_env / name
    path.write_text(body)
    flag = "--kev-catalog" if name == "kev.json" else "--epss-scores"
    argv = list(DEMO)
    argv[argv.index(flag) + 1] = str(path)
    assert main(argv) == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_a_live_run_with_stale_feeds_stops_before_any_page(emulator: Emulator, isolated_env: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    arn = seed_example(emulator)
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    feeds = ["--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz")]
    assert main(["check", "--image-build-version-arn", arn, *feeds, "--as-of", "2026-11-21"]) == ExitCode.INCOMPLETE
    assert emulator.count("ListImageScanFindings") == 0
    assert emulator.count("ListFindings") == 0
