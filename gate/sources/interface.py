"""The finding-source seam: anything that can hand over an image's findings page by page; and the kinds of
saved document `--findings` reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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


class ExportReader(Protocol):
    """The `--findings` files of one kind, collected file by file, then checked and read as a whole."""

    def add(self, path: Path, docs: Sequence[Any]) -> None:
        """Take one file's documents (its kind claimed them); refuse what is not of the kind after all."""
        ...

    def read(self, image: Mapping[str, Any] | None, image_path: Path | None,
             target: str) -> tuple[tuple[str, ...], list[Sequence[Finding]]]:
        """The notes every report must carry and every page, checked as a whole and against the build's saved
        `get-image` answer when given; a `GateError` rather than a short read."""
        ...

    def enrichers(self) -> tuple[Any, ...]:
        """What the files say besides findings, as `enrichment.interface.Enricher`s (sources do not import
        enrichment): EventBridge events say what Inspector would. Most kinds have none."""
        ...


@dataclass(frozen=True)
class ExportKind:
    """One kind of saved document `--findings` reads: whether it claims a file, and what reads those it claims.

    `sources.export.KINDS` lists every kind; a file goes to the first that claims it, as `scantype` picks the
    live path from `GetImage`.
    """

    label: str
    """As an error names files of this kind: `Image Builder exports`."""
    claims: Callable[[Sequence[Any]], bool]
    reader: Callable[[], ExportReader]
