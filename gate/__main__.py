"""`python -m gate`."""

from gate.cli.main import entrypoint

entrypoint()
