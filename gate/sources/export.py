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
from gate.sources import ondemand_export
from gate.sources.codec import parse_finding
from gate.sources.imagedoc import check_image_builder_export, read_image
from gate.sources.interface import ExportKind, ExportReader
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


class _ImageBuilderFiles:
    """`list-image-scan-findings` exports: read and checked as one export."""

    def __init__(self) -> None:
        self._loaded: dict[Path, list[Any]] = {}

    def add(self, path: Path, docs: Sequence[Any]) -> None:
        self._loaded[path] = list(docs)

    def read(self, image: Mapping[str, Any] | None, image_path: Path | None,
             target: str) -> tuple[tuple[str, ...], list[Sequence[Finding]]]:
        parsed = read_export(list(self._loaded), loaded=self._loaded)
        findings = [f for _, page in parsed for f in page]
        builds = {f.image_build_version_arn for f in findings if f.image_build_version_arn}
        notes = check_image_builder_export(image, image_path, findings, builds, target)
        return notes, [page for _, page in parsed]

    def enrichers(self) -> tuple[Any, ...]:
        return ()


IMAGE_BUILDER = ExportKind(label="Image Builder exports", claims=lambda docs: True, reader=_ImageBuilderFiles)
"""Claims whatever no other kind does, so it comes last: its reader then says what is not an export."""
KINDS: tuple[ExportKind, ...] = (ondemand_export.KIND, IMAGE_BUILDER)
"""Every kind of `--findings` document, in the order they are asked to claim a file."""


class ExportSource:
    """Reads every page of every file; a finding that does not parse stops the run (nothing dropped).

    `image`: the build's saved `get-image` answer (`--image`), checked as a live run checks it.
    """

    def __init__(self, paths: Sequence[Path], image: Path | None = None) -> None:
        self.paths = tuple(paths)
        self.image_path = image
        self._readers: dict[ExportKind, ExportReader] | None = None
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

    def _documents(self) -> dict[ExportKind, ExportReader]:
        """Each file read once and handed to the first kind that claims it (`KINDS`); one kind per run."""
        if self._readers is None:
            readers: dict[ExportKind, ExportReader] = {}
            for path in self.paths:
                docs = read_documents(path, WHAT)
                kind = next(k for k in KINDS if k.claims(docs))
                readers.setdefault(kind, kind.reader()).add(path, docs)
            if len(readers) > 1:
                used = [k.label for k in reversed(KINDS) if k in readers]
                raise InputError(f"--findings mixes {' with '.join(used)}",
                                 hint="gate judges one scan of one build: give the files of one of them")
            self._readers = readers
        return self._readers

    def enrichers(self) -> tuple[Any, ...]:
        """What the files say besides findings (on-demand scan events: exploits), from the same single read."""
        return tuple(e for reader in self._documents().values() for e in reader.enrichers())

    def event_enricher(self) -> ondemand_export.EventEnrichment:
        """The on-demand scan events' enricher alone (provides nothing when the files hold no events)."""
        reader = self._documents().get(ondemand_export.KIND)
        files = reader if isinstance(reader, ondemand_export.OnDemandFiles) else ondemand_export.OnDemandFiles()
        return ondemand_export.EventEnrichment(files)

    def pages(self) -> Iterator[Sequence[Finding]]:
        readers = self._documents()
        path = self.image_path
        image = self.image = read_image(path) if path is not None else None
        for reader in readers.values():
            self.notes, pages = reader.read(image, path, self.target)
            yield from pages

    def summary(self) -> ScanSummary:
        return ScanSummary(output_amis=self.output_amis, image=self.image, notes=self.notes)
