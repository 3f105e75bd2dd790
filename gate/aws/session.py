"""boto3 sessions and the two clients gate uses, configured once for its concurrency and retry needs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound

from gate import __version__
from gate.errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_imagebuilder import ImagebuilderClient
    from mypy_boto3_inspector2 import Inspector2Client

RetryMode = Literal["standard", "adaptive", "legacy"]

CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection; AWS endpoints answer in well under a second."""
READ_TIMEOUT = 60.0
"""Seconds to wait for a response; the slowest calls (ListFindings with filters) take a few."""


@dataclass(frozen=True)
class Clients:
    """The Image Builder and Inspector clients of one run; thread-safe, shared by source and enricher."""

    imagebuilder: ImagebuilderClient
    inspector2: Inspector2Client

    @property
    def region(self) -> str:
        return self.imagebuilder.meta.region_name

    def close(self) -> None:
        """Release both clients' connection pools."""
        self.imagebuilder.close()
        self.inspector2.close()


def make_session(region: str | None, profile: str | None) -> boto3.Session:
    """A session from the standard credential chain; the region must be known before any call."""
    try:
        session = boto3.Session(profile_name=profile or None, region_name=region or None)
    except ProfileNotFound as e:
        raise UsageError(
            f"AWS profile {profile!r} is not configured",
            hint="pass --profile with a profile from ~/.aws/config, or unset AWS_PROFILE",
        ) from e
    except BotoCoreError as e:
        raise UsageError(f"cannot read the AWS configuration: {e}",
                         hint="check ~/.aws/config and the AWS_* environment variables") from e
    if session.region_name:
        return session
    # NOTE: the AWS CLI v2 and most CI actions set AWS_REGION; this botocore only reads AWS_DEFAULT_REGION.
    fallback = os.environ.get("AWS_REGION")
    if fallback:
        return boto3.Session(profile_name=profile or None, region_name=fallback)
    raise UsageError("no AWS region configured",
                     hint="pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or set region in the profile")


def client_config(*, max_pool: int, retry_mode: RetryMode, max_attempts: int) -> Config:
    """Timeouts, a pool as large as the concurrency, and botocore's retries for throttling and 5xx."""
    return Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_pool_connections=max(1, max_pool),
        retries={"mode": retry_mode, "total_max_attempts": max(1, max_attempts)},
        tcp_keepalive=True,
        user_agent_extra=f"gate/{__version__}",
    )


def make_clients(
    session: boto3.Session,
    *,
    max_pool: int = 10,
    retry_mode: RetryMode = "standard",
    max_attempts: int = 6,
) -> Clients:
    """Both clients; endpoints come from boto3 itself (`AWS_ENDPOINT_URL_IMAGEBUILDER`, `…_INSPECTOR2`).

    `max_pool` should cover the enricher's workers plus the source's one thread. Inspector's
    `ThrottlingException` and both services' 5xx are retried by botocore; Image Builder's
    `CallRateLimitExceededException` is not, and `gate.aws.retry` handles it.
    """
    config = client_config(max_pool=max_pool, retry_mode=retry_mode, max_attempts=max_attempts)
    try:
        imagebuilder = session.client("imagebuilder", config=config)
    except BotoCoreError as e:
        raise UsageError(f"cannot create the Image Builder client: {e}",
                         hint="check --region and the AWS_* environment variables") from e
    try:
        inspector2 = session.client("inspector2", config=config)
    except BotoCoreError as e:
        imagebuilder.close()
        raise UsageError(f"cannot create the Inspector client: {e}",
                         hint="check --region and the AWS_* environment variables") from e
    return Clients(imagebuilder=imagebuilder, inspector2=inspector2)
