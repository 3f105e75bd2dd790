"""The finding-source seam: anything that can hand over an image's findings page by page."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from gate.model import Finding, ScanSummary


class FindingSource(Protocol):
    """Yields findings a page at a time so enrichment can start before the last page arrives.

    A source raises a `GateError` rather than end early: a short listing must never read as clean.
    """

    @property
    def target(self) -> str:
        """What is being judged, for reports (an ARN or file names)."""
        ...

    def pages(self) -> Iterator[Sequence[Finding]]: ...

    def summary(self) -> ScanSummary:
        """What the source learned of the scan besides its findings; asked after the last page."""
        ...
