"""The report-format seam: a pure function from an evaluation to text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

from gate.outcome import Evaluation


@dataclass(frozen=True)
class ReportOptions:
    """Knobs that some formats honour; every format must accept all of them."""

    color: bool = False
    sarif_location: str | None = None
    """Repository path SARIF results point at (the Dockerfile or image recipe)."""
    max_bytes: int | None = None
    """Upper bound on the rendered size, for formats that must fit a limit (Markdown summary)."""
    verbose: bool = False
    """List every finding in the terminal summary instead of a bounded digest (`gate check --verbose`)."""


class ReportFormat(Protocol):
    """Renders without side effects; the CLI decides where the text goes."""

    name: str

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str: ...


@runtime_checkable
class StreamingFormat(Protocol):
    """A format that can also write its bytes as it renders them, so a large report never exists whole."""

    def write(self, evaluation: Evaluation, options: ReportOptions, out: BinaryIO) -> None: ...
