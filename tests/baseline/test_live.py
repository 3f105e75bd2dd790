"""`--baseline previous`: the pipeline's previous build read live from the emulator, over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.aws.fixtures import aws_env
from tests.baseline.builds import BUILDS, CREATED, GLIBC, OPENSSL, PIPELINE, WEBP, ZLIB, findings, seed
from tests.baseline.test_chain import FEEDS, by_id
from tests.emulator import Emulator, image_arn

__all__ = ["aws_env"]

NEW_ONLY = "version: 1\nrules:\n  - {id: new-critical, when: new and severity == \"CRITICAL\", action: fail}\n"


def live(tmp: Path, *target: str, baseline: str = "previous", as_of: str = "2026-10-01",
         policy: str = "ratchet") -> tuple[int, dict[str, Any]]:
    report = tmp / "live.json"
    code = main(["check", *target, "--baseline", baseline, *FEEDS, "--policy", policy, "--as-of", as_of,
                 "--no-cache", "--wait-timeout", "0", "--report", f"json={report}"])
    return code, json.loads(report.read_text()) if report.exists() else {}


@pytest.fixture
def pipeline(aws_env: Emulator, isolated_env: Path) -> Emulator:
    seed(aws_env, (1, 2))
    return aws_env


def test_previous_build_of_the_newest(pipeline: Emulator, isolated_env: Path) -> None:
    code, report = live(isolated_env, "--image-pipeline-arn", PIPELINE)
    assert code == ExitCode.VIOLATION
    assert report["target"] == BUILDS[2]
    assert report["baseline"] == {"source": BUILDS[1], "target": BUILDS[1], "pipeline": PIPELINE}
    found = by_id(report)
    assert (found[OPENSSL]["baseline"], found[OPENSSL]["firstSeen"]) == ("unchanged", "2026-09-01")
    assert (found[GLIBC]["baseline"], found[GLIBC]["decision"]) == ("new", "fail")
    assert found[WEBP]["baseline"] == "new"
    assert [x["vulnerabilityId"] for x in report["fixed"]] == [ZLIB]
    # the previous build's findings only: Inspector is asked about this build, never the previous one
    assert pipeline.count("ListImageScanFindings") == 2
    assert pipeline.violations == []


def test_previous_build_from_a_build_arn(pipeline: Emulator, isolated_env: Path) -> None:
    code, report = live(isolated_env, "--image-build-version-arn", BUILDS[2], policy=str(_new_only(isolated_env)))
    assert code == ExitCode.VIOLATION
    assert [f["vulnerabilityId"] for f in report["findings"] if f["decision"] == "fail"] == [GLIBC]
    assert report["pipeline"] == PIPELINE


def test_previous_skips_builds_made_later_and_failed_builds(aws_env: Emulator, isolated_env: Path) -> None:
    seed(aws_env, (1, 2, 3))
    aws_env.add_image(image_arn("web", "1.0.0", 9), [], pipeline_arn=PIPELINE, date_created="2026-09-15T10:00:00Z",
                      status="FAILED", scanning_enabled=False)
    code, report = live(isolated_env, "--image-build-version-arn", BUILDS[2], policy=str(_new_only(isolated_env)))
    assert code == ExitCode.VIOLATION
    assert report["baseline"]["target"] == BUILDS[1]


def test_the_first_build_has_everything_new(aws_env: Emulator, isolated_env: Path) -> None:
    seed(aws_env, (1,))
    code, report = live(isolated_env, "--image-pipeline-arn", PIPELINE, as_of="2026-09-01",
                        policy=str(_new_only(isolated_env)))
    assert code == ExitCode.VIOLATION
    assert {f["baseline"] for f in report["findings"]} == {"new"}
    assert any("is the first finished build" in n for n in report["notes"])


def test_previous_needs_a_pipeline(aws_env: Emulator, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    aws_env.add_image(BUILDS[1], findings(1), date_created=CREATED[1])
    code, _ = live(isolated_env, "--image-build-version-arn", BUILDS[1])
    assert code == ExitCode.USAGE
    assert "was not built by an image pipeline" in capsys.readouterr().err


def test_previous_needs_a_live_run(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.baseline.builds import export

    code, _ = live(isolated_env, "--findings", str(export(isolated_env / "e.json", 2)))
    assert code == ExitCode.USAGE
    assert "--baseline previous reads the pipeline's previous build from AWS" in capsys.readouterr().err


def test_a_previous_build_whose_scan_failed_cannot_complete(aws_env: Emulator, isolated_env: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    aws_env.add_image(BUILDS[1], findings(1), pipeline_arn=PIPELINE, date_created=CREATED[1], scan_states=["FAILED"])
    seed(aws_env, (2,))
    code, report = live(isolated_env, "--image-pipeline-arn", PIPELINE)
    assert code == ExitCode.INCOMPLETE
    assert f"the image scan of {BUILDS[1]} ended FAILED" in capsys.readouterr().err
    assert report["verdict"] == "error"


def _new_only(tmp: Path) -> Path:
    path = tmp / "new-only.yaml"
    path.write_text(NEW_ONLY)
    return path
