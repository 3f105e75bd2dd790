"""Findings from `aws imagebuilder list-image-scan-findings` output saved to files (the offline dry run).

The whole export is read and checked before the first page is handed on: it must be complete (no
page left with a token), name one image build version, and hold no finding twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from gate.errors import InputError, ShapeError
from gate.jsondocs import pages_of, read_documents, require_complete, require_unique
from gate.model import Finding, ScanSummary
from gate.sources.codec import parse_finding
from gate.sources.imagedoc import check_image_builder_export, check_on_demand_export, read_image
from gate.sources.ondemand_export import EventEnrichment, OnDemandFiles, claims
from gate.sources.scantype import output_amis

WHAT = "the output of `aws imagebuilder list-image-scan-findings`"
KIND = "an Image Builder scan findings export"


def _is_page(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("findings"), list)


def _is_inspector(page: dict[str, Any]) -> bool:
    return any(isinstance(f, dict) and "findingArn" in f for f in page["findings"])


def read_export(paths: Sequence[Path], *, loaded: Mapping[Path, list[Any]] | None = None,
                ) -> list[tuple[str, list[Finding]]]:
    """Every page of every file, parsed and checked as one export: `(where, findings)` per page."""
    pages = pages_of(paths, _is_page, kind=KIND, needs="'findings' list", what=WHAT, loaded=loaded)
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
    """Reads every page of every file; a finding that does not parse stops the run (nothing dropped).

    `image`: the build's saved `get-image` answer (`--image`), checked as a live run checks it.
    """

    def __init__(self, paths: Sequence[Path], image: Path | None = None) -> None:
        self.paths = tuple(paths)
        self.image_path = image
        self._read: tuple[dict[Path, list[Any]], OnDemandFiles, bool] | None = None
        self.image: Mapping[str, Any] | None = None
        """The `get-image` `image`, once `pages` has read it."""
        self.notes: tuple[str, ...] = ()
        """What every report must say about how far the export could be checked."""

    @property
    def output_amis(self) -> tuple[str, ...]:
        """The build's output AMIs when `--image` names them: VEX products may, as in a live run."""
        return output_amis(self.image) if self.image is not None else ()

    @property
    def target(self) -> str:
        return ", ".join(str(p) for p in self.paths)

    def _documents(self) -> tuple[dict[Path, list[Any]], OnDemandFiles, bool]:
        """Each file read and sorted once: Image Builder pages, or on-demand scan output (EC2 or events)."""
        if self._read is None:
            loaded: dict[Path, list[Any]] = {}
            claimed = False
            ondemand = OnDemandFiles()  # EC2 `get-image-findings` output and on-demand scan events
            for path in self.paths:
                docs = read_documents(path, WHAT)
                if claims(docs):
                    ondemand.add(path, docs)
                    claimed = True
                else:
                    loaded[path] = docs
            if loaded and claimed:
                raise InputError("--findings mixes Image Builder exports with EC2 on-demand scan output",
                                 hint="gate judges one scan of one build: give the files of one of them")
            self._read = (loaded, ondemand, claimed)
        return self._read

    def event_enricher(self) -> EventEnrichment:
        """What on-demand scan events among these files say about exploits, from the same single read."""
        return EventEnrichment(self._documents()[1])

    def pages(self) -> Iterator[list[Finding]]:
        loaded, ondemand, _ = self._documents()
        path = self.image_path
        image = self.image = read_image(path) if path is not None else None
        if loaded:
            parsed = read_export(list(loaded), loaded=loaded)
            findings = [f for _, page in parsed for f in page]
            builds = {f.image_build_version_arn for f in findings if f.image_build_version_arn}
            self.notes = check_image_builder_export(image, path, findings, builds, self.target)
            for _, page in parsed:
                yield page
            return
        found, _, _ = ondemand.result()
        self.notes = check_on_demand_export(image, path, unproven=not found and not ondemand.completed,
                                            amis=ondemand.amis, events=bool(ondemand.event_files),
                                            target=self.target)
        if found:
            yield found

    def summary(self) -> ScanSummary:
        return ScanSummary(output_amis=self.output_amis, image=self.image, notes=self.notes)
