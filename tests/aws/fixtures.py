"""Fixtures for the AWS-facing code: the emulator, clients pointed at it, and a fake clock (imported by conftests)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from gate.aws.retry import Backoff, Caller
from gate.aws.session import Clients, make_clients, make_session
from tests.emulator import Emulator
from tests.emulator.fixture import emulator

__all__ = ["emulator"]


class FakeTime:
    """A monotonic clock that only moves when something sleeps; records every pause."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def caller(fake_time: FakeTime) -> Caller:
    """gate's retry layer with instant, recorded backoff pauses."""
    return Caller(Backoff(base=0.01, max_attempts=4, sleep=fake_time.sleep, clock=fake_time.clock))


@pytest.fixture
def aws_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Emulator:
    """Point boto3's standard configuration at the emulator, away from any real AWS settings."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    return emulator


@functools.cache
def _shared_session() -> boto3.Session:
    """One session for every test: loading the service models takes most of a client's start-up."""
    return make_session(None, None)


def open_clients(max_attempts: int = 6) -> Clients:
    """Clients for the emulator `aws_env` points boto3 at (endpoints are read per client)."""
    return make_clients(_shared_session(), max_pool=10, max_attempts=max_attempts)


@pytest.fixture
def clients(aws_env: Emulator) -> Iterator[Clients]:
    made = open_clients()
    yield made
    made.close()
