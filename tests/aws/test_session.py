"""Sessions and clients: the standard chain, clear usage errors, and the client configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.utils import parse_timestamp

from gate.aws.session import epoch_timestamp, make_clients, make_session
from gate.enrichment.inspector import InspectorEnricher
from gate.errors import AwsError, ExitCode, UsageError
from gate.run import Plan, gather
from gate.sources.imagebuilder import ImageBuilderSource
from tests.emulator import Emulator, image_arn, image_scan_finding


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS configuration at all; returns the config file path tests may write."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return config


def test_no_region_is_a_usage_error(no_aws: Path) -> None:
    with pytest.raises(UsageError, match="no AWS region configured") as err:
        make_session(None, None)
    assert "--region" in (err.value.hint or "")
    assert err.value.exit_code == ExitCode.USAGE


def test_region_from_argument_environment_or_profile(no_aws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_session("eu-west-1", None).region_name == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert make_session(None, None).region_name == "eu-central-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert make_session(None, None).region_name == "us-west-2"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    no_aws.write_text("[profile ci]\nregion = ap-south-1\n")
    assert make_session(None, "ci").region_name == "ap-south-1"


def test_a_missing_profile_is_a_usage_error(no_aws: Path) -> None:
    with pytest.raises(UsageError, match="AWS profile 'nope' is not configured") as err:
        make_session("us-east-1", "nope")
    assert "--profile" in (err.value.hint or "")


def test_clients_are_sized_and_retry(no_aws: Path) -> None:
    clients = make_clients(make_session("us-east-1", None), max_pool=12, retry_mode="adaptive", max_attempts=4)
    try:
        config = clients.inspector2.meta.config
        assert getattr(config, "max_pool_connections", None) == 12
        assert getattr(config, "retries", None) == {"mode": "adaptive", "total_max_attempts": 4}
        assert getattr(config, "connect_timeout", None) == 10
        assert getattr(config, "read_timeout", None) == 60
        assert clients.region == "us-east-1"
    finally:
        clients.close()


def test_no_credentials_is_an_aws_error_naming_the_call(no_aws: Path, emulator: Emulator,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_IMAGEBUILDER", emulator.url)
    clients = make_clients(make_session("us-east-1", None))
    try:
        source = ImageBuilderSource(clients, image_build_version_arn=image_arn())
        with pytest.raises(AwsError, match="no usable AWS credentials for imagebuilder:GetImage") as err:
            list(source.pages())
    finally:
        clients.close()
    assert "aws sso login" in (err.value.hint or "")
    assert emulator.calls == []


def test_an_unreachable_endpoint_is_an_aws_error(no_aws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_ENDPOINT_URL_IMAGEBUILDER", "http://127.0.0.1:9")
    clients = make_clients(make_session("us-east-1", None), max_attempts=1)
    try:
        source = ImageBuilderSource(clients, image_build_version_arn=image_arn())
        with pytest.raises(AwsError, match="cannot reach AWS for imagebuilder:GetImage"):
            list(source.pages())
    finally:
        clients.close()


def test_epoch_timestamps_are_read_as_the_same_instant_in_utc() -> None:
    read = epoch_timestamp(1736942400.25)
    assert read == datetime(2025, 1, 15, 12, 0, 0, 250000, tzinfo=UTC)
    assert read.tzinfo is UTC
    assert epoch_timestamp(1736942400) == parse_timestamp(1736942400)  # botocore's own: local time, same instant
    assert epoch_timestamp("2025-01-15T12:00:00Z") == read.replace(microsecond=0)  # strings: botocore's parser


@pytest.mark.parametrize("value", [1e20, -1e20, float("inf"), float("nan")])
def test_a_timestamp_out_of_range_fails_as_botocore_fails(value: float) -> None:
    with pytest.raises((RuntimeError, ValueError)) as ours:
        epoch_timestamp(value)
    with pytest.raises((RuntimeError, ValueError)) as theirs:
        parse_timestamp(value)
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_clients_read_wire_timestamps_as_utc(aws_env: Emulator) -> None:
    aws_env.add_image(image_arn(), [image_scan_finding("CVE-2024-1000")])
    plain: Any = boto3.client("imagebuilder")
    clients = make_clients(make_session(None, None))
    try:
        by_image = [{"name": "imageBuildVersionArn", "values": [image_arn()]}]
        ours = clients.imagebuilder.list_image_scan_findings(filters=by_image)["findings"][0]["firstObservedAt"]
        theirs = plain.list_image_scan_findings(filters=by_image)["findings"][0]["firstObservedAt"]
    finally:
        clients.close()
        plain.close()
    assert ours == theirs
    assert ours.tzinfo is UTC  # botocore's default gives dateutil's tzlocal()


def test_an_inspector_client_that_cannot_be_made_is_a_usage_error_at_its_first_use(
        aws_env: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Inspector client is made in a thread while Image Builder lists; its failure must still stop the run.
    aws_env.add_image(image_arn(), [image_scan_finding("CVE-2024-1000")])
    monkeypatch.setenv("AWS_ENDPOINT_URL_INSPECTOR2", "not a url")
    clients = make_clients(make_session(None, None))
    enricher = InspectorEnricher(clients, scope_arn=image_arn(), cache=None)
    plan = Plan(source=ImageBuilderSource(clients, image_build_version_arn=image_arn()), live=enricher,
                closers=(clients.close,))
    try:
        with pytest.raises(UsageError, match="cannot create the Inspector client: Invalid endpoint") as err:
            gather(plan)
    finally:
        plan.close()
    assert err.value.exit_code == ExitCode.USAGE
    assert aws_env.count("GetImage") == 1
    assert aws_env.count("ListFindings") == 0
