"""The AWS fixtures (emulator, clients, fake clock) for the CLI tests that read an image live."""

from tests.aws.fixtures import aws_env, caller, clients, emulator, fake_time

__all__ = ["aws_env", "caller", "clients", "emulator", "fake_time"]
