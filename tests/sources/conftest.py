"""The AWS fixtures (emulator, clients, fake clock) for the tests in this folder."""

from tests.aws.fixtures import aws_env, caller, clients, emulator, fake_time

__all__ = ["aws_env", "caller", "clients", "emulator", "fake_time"]
