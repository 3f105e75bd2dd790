"""boto3 sessions and the clients gate uses, configured once for its concurrency and retry needs."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound
from botocore.utils import parse_timestamp

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
    """The AWS clients of one run; thread-safe, shared by source and enricher.

    The Inspector client is still being created (in a thread) while Image Builder answers the first
    calls: loading its service model is most of the time between start-up and the first request.
    The EC2 client is made on first use: only on-demand AMI scans need it, and loading EC2's
    service model costs more than the other two together.
    """

    imagebuilder: ImagebuilderClient
    inspector2_future: Future[Inspector2Client]
    ec2_factory: Callable[[], Any] | None = None
    _ec2: list[Any] = field(default_factory=list, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def inspector2(self) -> Inspector2Client:
        """The Inspector client, once created; a `UsageError` if it could not be."""
        try:
            return self.inspector2_future.result()
        except (BotoCoreError, ValueError) as e:  # ValueError: e.g. AWS_ENDPOINT_URL_INSPECTOR2 is no URL
            raise UsageError(f"cannot create the Inspector client: {e}",
                             hint="check --region and the AWS_* environment variables") from e

    @property
    def region(self) -> str:
        return self.imagebuilder.meta.region_name

    @property
    def ec2(self) -> Any:
        """The EC2 client (`GetImageFindings`), created on first use."""
        with self._lock:
            if not self._ec2:
                if self.ec2_factory is None:
                    raise UsageError("this run has no EC2 client", hint="report this to the gate maintainers")
                self._ec2.append(self.ec2_factory())
            return self._ec2[0]

    def close(self) -> None:
        """Release every client's connection pool (waiting for the Inspector client if still being made)."""
        self.imagebuilder.close()
        if self.inspector2_future.exception() is None:
            self.inspector2_future.result().close()
        with self._lock:
            for client in self._ec2:
                client.close()


def epoch_timestamp(value: str | float) -> datetime:
    """botocore's timestamp parser, with epoch seconds (rest-json's timestamps) read straight into UTC.

    botocore's own turns each number into a local-time datetime through dateutil: about a tenth of a
    live run's CPU for Inspector's 10,000 timestamps (bench/aws_flow.py), in threads that compete with
    the listing for the GIL. The instant is the same; gate reads every timestamp as UTC anyway.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass  # NOTE: out of range here; botocore's parser decides (and words) what happens
    parsed: datetime = parse_timestamp(value)  # type: ignore[arg-type]  # the stub says str; numbers work too
    return parsed


def _botocore_session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=epoch_timestamp)
    return session


def make_session(region: str | None, profile: str | None) -> boto3.Session:
    """A session from the standard credential chain; the region must be known before any call."""
    try:
        session = boto3.Session(profile_name=profile or None, region_name=region or None,
                                botocore_session=_botocore_session())
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
        return boto3.Session(profile_name=profile or None, region_name=fallback, botocore_session=_botocore_session())
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
    """The clients; endpoints come from boto3 itself (`AWS_ENDPOINT_URL_IMAGEBUILDER`, `…_INSPECTOR2`, `…_EC2`).

    `max_pool` should cover the enricher's workers plus the source's one thread. Inspector's
    `ThrottlingException` and both services' 5xx are retried by botocore; Image Builder's
    `CallRateLimitExceededException` is not, and `gate.aws.retry` handles it.
    """
    config = client_config(max_pool=max_pool, retry_mode=retry_mode, max_attempts=max_attempts)
    try:
        imagebuilder = session.client("imagebuilder", config=config)
    except (BotoCoreError, ValueError) as e:
        raise UsageError(f"cannot create the Image Builder client: {e}",
                         hint="check --region and the AWS_* environment variables") from e
    # NOTE: one client is made at a time; a boto3 session is not safe to make clients from concurrently.
    making = threading.Lock()
    inspector2: Future[Inspector2Client] = Future()

    def create() -> None:
        try:
            with making:
                inspector2.set_result(session.client("inspector2", config=config))
        except BaseException as e:  # NOTE: handed to whoever uses the client (or closes the clients)
            inspector2.set_exception(e)

    def ec2() -> Any:
        try:
            with making:
                return session.client("ec2", config=config)
        except BotoCoreError as e:
            raise UsageError(f"cannot create the EC2 client: {e}",
                             hint="check --region and the AWS_* environment variables") from e

    threading.Thread(target=create, name="gate-inspector-client", daemon=True).start()
    return Clients(imagebuilder=imagebuilder, inspector2_future=inspector2, ec2_factory=ec2)
