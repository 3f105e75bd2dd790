"""Findings from `aws imagebuilder list-image-scan-findings` output saved to files (the offline dry run).

The whole export is read and checked before the first page is handed on: it must be complete (no
page left with a token), name one image build version, and hold no finding twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gate.errors import InputError, ShapeError
from gate.jsondocs import pages_of, require_complete, require_unique
from gate.model import Finding
from gate.sources.codec import parse_finding

WHAT = "the output of `aws imagebuilder list-image-scan-findings`"
KIND = "an Image Builder scan findings export"


def _is_page(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("findings"), list)


def _is_inspector(page: dict[str, Any]) -> bool:
    return any(isinstance(f, dict) and "findingArn" in f for f in page["findings"])


def read_export(paths: Sequence[Path]) -> list[tuple[str, list[Finding]]]:
    """Every page of every file, parsed and checked as one export: `(where, findings)` per page."""
    pages = pages_of(paths, _is_page, kind=KIND, needs="'findings' list", what=WHAT)
    for page in pages:
        if _is_inspector(dict(page.value)):
            raise InputError(f"{page.path}: this is Inspector `list-findings` output, not Image Builder's",
                             hint="pass it with --finding-details")
    require_complete(pages)
    parsed: list[tuple[str, list[Finding]]] = []
    for page in pages:
        findings: list[Finding] = []
        for i, raw in enumerate(page.value["findings"]):
            try:
                findings.append(parse_finding(raw))
            except ShapeError as e:
                raise InputError(f"{page.where}, finding {i + 1}: {e}", hint=f"expected {WHAT}") from None
        parsed.append((page.where, findings))
    require_unique(((f"{where}, finding {i + 1}", f.key) for where, page in parsed
                    for i, f in enumerate(page)), "finding")
    _one_build(parsed)
    return parsed


def _one_build(parsed: list[tuple[str, list[Finding]]]) -> None:
    arns: dict[str, str] = {}
    for where, page in parsed:
        for i, f in enumerate(page):
            if f.image_build_version_arn:
                arns.setdefault(f.image_build_version_arn, f"{where}, finding {i + 1}")
    if len(arns) > 1:
        named = sorted(arns.items())
        raise InputError(
            f"the findings name {len(arns)} image build versions: "
            + "; ".join(f"{arn} ({where})" for arn, where in named[:3]),
            hint="gate judges one build: export the findings of one imageBuildVersionArn")


class ExportSource:
    """Reads every page of every file; a finding that does not parse stops the run (nothing dropped)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)

    @property
    def target(self) -> str:
        return ", ".join(str(p) for p in self.paths)

    def pages(self) -> Iterator[list[Finding]]:
        for _, page in read_export(self.paths):
            yield page
