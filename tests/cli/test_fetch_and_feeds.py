"""`gate fetch`, `gate feeds update` and the shared AWS options, end to end through `main`."""

from __future__ import annotations

import argparse
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from gate.cli import aws_options, config
from gate.cli.main import main
from gate.enrichment.cache import Cache
from gate.enrichment.feeds import cached_feed_paths
from gate.errors import UsageError
from gate.inputs import build_cache, open_live
from gate.snapshot import load_snapshot
from gate.timeutil import parse_duration
from tests.emulator import Emulator, Faults, image_arn, image_scan_finding, pipeline_arn
from tests.enrichment.feed_server import Site, site

__all__ = ["site"]

IMAGE = image_arn()


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    aws_options.add_aws_arguments(parser)
    config.defer(parser)  # GATE_* variables are read after parsing, as `gate check` and `gate fetch` do
    return config.resolve(parser.parse_args(argv), os.environ)


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86400),
                                               ("1.5h", 5400), ("7d", 604800)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_option_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("GATE_WAIT_TIMEOUT", "GATE_CACHE_TTL", "GATE_MAX_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GATE_CACHE_DIR", str(tmp_path))
    inputs = aws_options.inputs_from(_parse())
    assert inputs.wait_timeout == timedelta(minutes=15)
    assert inputs.cache_ttl == timedelta(hours=24)
    assert inputs.max_workers == 8
    assert not inputs.live
    cache = build_cache(inputs)
    assert isinstance(cache, Cache)
    assert cache.directory == tmp_path
    assert build_cache(aws_options.inputs_from(_parse("--no-cache"))) is None
    assert build_cache(aws_options.inputs_from(_parse("--cache-ttl", "0"))) is None
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    assert aws_options.inputs_from(_parse()).wait_timeout == timedelta(0)
    monkeypatch.setenv("GATE_CACHE_TTL", "")  # empty means the default
    assert aws_options.inputs_from(_parse()).cache_ttl == timedelta(hours=24)
    assert aws_options.inputs_from(_parse("--cache-ttl", "7d")).cache_ttl == timedelta(days=7)


@pytest.mark.parametrize(("argv", "env", "message"), [
    (["--cache-ttl", "soon"], {}, "--cache-ttl: 'soon' is not a duration"),
    (["--wait-timeout", "-1"], {}, "--wait-timeout: '-1' is not a duration"),
    ([], {"GATE_CACHE_TTL": "99999999999d"}, "GATE_CACHE_TTL: '99999999999d' is longer than the maximum, 3660d"),
    (["--cache-ttl", "1h"], {"GATE_WAIT_TIMEOUT": "1000000000d"}, "GATE_WAIT_TIMEOUT: '1000000000d' is longer"),
])
def test_bad_durations_name_their_option_or_variable(argv: list[str], env: dict[str, str], message: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GATE_WAIT_TIMEOUT", "GATE_CACHE_TTL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(UsageError) as err:
        aws_options.inputs_from(_parse(*argv))
    assert err.value.message.startswith(message)


@pytest.mark.parametrize("argv", [["--max-workers", "0"], ["--max-workers", "x"]])
def test_bad_option_values_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _parse(*argv)
    assert exited.value.code == 2


@pytest.mark.parametrize(("argv", "message"), [
    ([], "exactly one of"),
    (["--image-build-version-arn", IMAGE, "--image-pipeline-arn", pipeline_arn()], "exactly one of"),
    (["--image-build-version-arn", pipeline_arn()], "is not an Image Builder image ARN"),
    (["--image-pipeline-arn", IMAGE], "is not an Image Builder image-pipeline ARN"),
    (["--image-build-version-arn", "i-123"], "is not an Image Builder image ARN"),
    (["--image-build-version-arn", IMAGE + "\r::error::x"], "is not an Image Builder image ARN"),
    (["--image-pipeline-arn", pipeline_arn() + " x"], "is not an Image Builder image-pipeline ARN"),
])
def test_build_live_rejects_bad_targets(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        open_live(aws_options.inputs_from(_parse(*argv)))


@pytest.fixture
def image(aws_env: Emulator) -> Emulator:
    findings = [image_scan_finding(f"CVE-2024-{1000 + i}") for i in range(30)]
    findings.append(image_scan_finding("ALAS2023-2024-500", "MEDIUM"))
    aws_env.add_image(IMAGE, findings, pipeline_arn=pipeline_arn())
    aws_env.add_inspector_finding(vulnerability_id="CVE-2024-1000", resource_tags={"Ec2ImageBuilderArn": IMAGE},
                                  epss=0.5, exploit_available="YES", details={"riskScore": 70, "epssScore": 0.5})
    aws_env.add_vulnerability("CVE-2024-1001", {"epss": {"score": 0.2}})
    return aws_env


def test_fetch_writes_a_snapshot_and_the_second_run_uses_the_cache(
    image: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "snapshot.json"
    argv = ["fetch", "--image-build-version-arn", IMAGE, "-o", str(out), "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    assert f"wrote 31 findings (31 vulnerabilities, 2 with exploit intelligence) for {IMAGE}" in \
        capsys.readouterr().err
    snapshot = load_snapshot(out)
    assert snapshot.target == IMAGE
    assert len(snapshot.findings) == 31
    risk = snapshot.enrichments["CVE-2024-1000"].risk_score
    assert risk is not None
    assert risk.value == 70.0
    assert image.count("SearchVulnerabilities") == 29
    inspector = {"ListFindings", "BatchGetFindingDetails", "SearchVulnerabilities"}
    before = sum(1 for c in image.calls if c.operation in inspector)
    assert main(argv) == 0
    assert sum(1 for c in image.calls if c.operation in inspector) == before
    assert load_snapshot(out).enrichments == snapshot.enrichments
    assert image.violations == []


def test_fetch_records_the_image_document(image: Emulator, tmp_path: Path) -> None:
    """The snapshot keeps the GetImage answer the scan was judged complete by, as `--image` gives a dry run."""
    out = tmp_path / "snapshot.json"
    assert main(["fetch", "--image-build-version-arn", IMAGE, "-o", str(out), "--no-cache"]) == 0
    recorded = json.loads(out.read_text())["image"]
    assert (recorded["arn"], recorded["scanState"], recorded["imageScanningConfiguration"]["imageScanningEnabled"]) \
        == (IMAGE, {"status": "COMPLETED"}, True)
    assert load_snapshot(out).image == recorded


def test_fetch_from_a_pipeline(image: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "snapshot.json"
    assert main(["fetch", "--image-pipeline-arn", pipeline_arn(), "-o", str(out), "--no-cache"]) == 0
    assert load_snapshot(out).target == IMAGE


def test_fetch_of_an_unfinished_scan_exits_3_with_one_line(
    aws_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_env.add_image(IMAGE, [], scan_states=["SCANNING"])
    out = tmp_path / "snapshot.json"
    assert main(["fetch", "--image-build-version-arn", IMAGE, "-o", str(out), "--wait-timeout", "0"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"gate: error: the image scan of {IMAGE} is SCANNING, not COMPLETED")
    assert err.count("\n") == 1
    assert not out.exists()


def test_fetch_when_denied_exits_3_naming_the_action(
    image: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image.faults = Faults(forbidden={"ListFindings"})
    out = tmp_path / "snapshot.json"
    assert main(["fetch", "--image-build-version-arn", IMAGE, "-o", str(out), "--no-cache"]) == 3
    assert "grant the IAM action inspector2:ListFindings" in capsys.readouterr().err
    assert not out.exists()


def test_feeds_update(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["feeds", "update", "--cache-dir", str(tmp_path), "--kev-url", f"{site.url}/kev.json",
            "--epss-url", f"{site.url}/epss.csv.gz"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("CISA KEV: downloaded; catalog 2025.08.25, 1404 entries (data of 2025-08-25) in ")
    assert lines[1].startswith("FIRST EPSS: downloaded; model v2025.03.14, 498 scores (data of 2025-08-28) in ")
    assert None not in cached_feed_paths(tmp_path)
    assert main(argv) == 0
    assert "CISA KEV: not modified" in capsys.readouterr().out


def test_feeds_update_failure_exits_3(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["feeds", "update", "--cache-dir", str(tmp_path), "--kev-url", f"{site.url}/missing.json",
            "--epss-url", f"{site.url}/epss.csv.gz"]
    assert main(argv) == 3
    assert "HTTP 404" in capsys.readouterr().err
