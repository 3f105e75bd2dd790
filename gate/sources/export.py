"""Findings from `aws imagebuilder list-image-scan-findings` output saved to files (the offline dry run)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gate.errors import InputError, ShapeError
from gate.jsondocs import read_documents
from gate.model import Finding
from gate.sources.codec import parse_finding
from gate.sources.ondemand_export import OnDemandFiles, claims

WHAT = "the output of `aws imagebuilder list-image-scan-findings`"


def _is_finding(obj: Any) -> bool:
    return isinstance(obj, dict) and "packageVulnerabilityDetails" in obj


def _pages(doc: Any, path: Path) -> list[list[Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("findings"), list):
        if doc["findings"] and any(isinstance(f, dict) and "findingArn" in f for f in doc["findings"]):
            raise InputError(f"{path}: this is Inspector `list-findings` output, not Image Builder's",
                             hint="pass it with --finding-details")
        return [doc["findings"]]
    if isinstance(doc, list):
        if all(_is_finding(item) for item in doc):
            return [doc]
        pages: list[list[Any]] = []
        for item in doc:
            pages.extend(_pages(item, path))
        return pages
    raise InputError(f"{path}: not an Image Builder scan findings export (no 'findings' list)",
                     hint=f"expected {WHAT}")


class ExportSource:
    """Reads every page of every file; a finding that does not parse stops the run (nothing dropped)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)

    @property
    def target(self) -> str:
        return ", ".join(str(p) for p in self.paths)

    def pages(self) -> Iterator[list[Finding]]:
        ondemand = OnDemandFiles()  # EC2 `get-image-findings` output and on-demand scan events
        for path in self.paths:
            docs = read_documents(path, WHAT)
            if claims(docs):
                ondemand.add(path, docs)
                continue
            for p, page in enumerate(pg for doc in docs for pg in _pages(doc, path)):
                parsed: list[Finding] = []
                for i, raw in enumerate(page):
                    try:
                        parsed.append(parse_finding(raw))
                    except ShapeError as e:
                        raise InputError(f"{path}: page {p + 1}, finding {i + 1}: {e}",
                                         hint=f"expected {WHAT}") from None
                yield parsed
        yield from ondemand.pages()
