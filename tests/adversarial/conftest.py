"""The AWS fixtures (emulator and its environment) for the adversarial cases."""

from tests.aws.fixtures import aws_env, emulator

__all__ = ["aws_env", "emulator"]
