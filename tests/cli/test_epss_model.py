"""A policy's `epss_model`: EPSS of another model (or of none named) stops the run unless the policy allows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.conftest import EXAMPLES

RUN = ["check", "--findings", str(EXAMPLES / "findings.json"), "--as-of", "2025-08-30",
       "--kev-catalog", str(EXAMPLES / "kev.json")]
EPSS = ["--epss-scores", str(EXAMPLES / "epss-scores.csv.gz")]  # model v2025.03.14
RULES = "rules:\n  - id: likely\n    action: fail\n    when: epss > 0.5\n"


def policy(tmp_path: Path, pin: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(f"version: 1\nname: pinned\nepss_model: {pin}\n{RULES}")
    return str(path)


def test_another_model_stops_the_run(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = isolated_env / "r.json"
    code = main([*RUN, *EPSS, "--policy", policy(isolated_env, "v2023.03.01"), "--report", f"json={report}"])
    assert code == ExitCode.INCOMPLETE
    err = capsys.readouterr().err
    assert "EPSS thresholds were set for model v2023.03.01; the feed is model v2025.03.14" in err
    assert json.loads(report.read_text())["verdict"] == "error"


def test_allowed_another_model_is_judged_with_a_note(isolated_env: Path) -> None:
    report = isolated_env / "r.json"
    code = main([*RUN, *EPSS, "--policy", policy(isolated_env, "{pin: v2023.03.01, allow_other: true}"),
                 "--report", f"json={report}"])
    document = json.loads(report.read_text())
    assert code == ExitCode.VIOLATION and document["verdict"] == "fail"
    assert [n for n in document["notes"] if "model v2023.03.01" in n] == [
        "EPSS thresholds were set for model v2023.03.01; the feed is model v2025.03.14 "
        f"({EXAMPLES / 'epss-scores.csv.gz'}) (allowed by the policy's epss_model.allow_other)"]


def test_the_pinned_model_runs_and_each_score_names_its_model(isolated_env: Path) -> None:
    report = isolated_env / "r.json"
    assert main([*RUN, *EPSS, "--policy", policy(isolated_env, "v2025.03.14"),
                 "--report", f"json={report}"]) == ExitCode.VIOLATION
    document = json.loads(report.read_text())
    scored = [f["enrichment"]["epss"] for f in document["findings"] if f["enrichment"].get("epss")]
    assert scored and {e["model"] for e in scored} == {"v2025.03.14"}
    assert not [n for n in document["notes"] if "EPSS thresholds" in n]


def test_scores_from_a_source_naming_no_model_stop_a_pinned_run(isolated_env: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # Inspector's EPSS (saved finding details) names no model: the pin cannot be honoured.
    code = main([*RUN, "--finding-details", str(EXAMPLES / "inspector-findings.json"),
                 "--policy", policy(isolated_env, "v2025.03.14")])
    assert code == ExitCode.INCOMPLETE
    assert "names no model" in capsys.readouterr().err


@pytest.mark.parametrize("pin", ["2025", "{pin: v2025.03.14, allow: true}", "{allow_other: true}", "[v2025.03.14]",
                                 "'v2025.03.14; rm -rf'"])
def test_a_malformed_pin_is_a_policy_error(pin: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*RUN, *EPSS, "--policy", policy(isolated_env, pin)]) == ExitCode.USAGE
    assert "p.yaml:3:" in capsys.readouterr().err
