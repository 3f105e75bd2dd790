"""One table of the documents `--findings` reads: each kind says what it claims and reads it; `ExportSource`
only hands each file to the first kind that claims it (`export.KINDS`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from gate.errors import InputError
from gate.jsondocs import read_documents
from gate.model import Finding
from gate.sources import export, ondemand_export
from gate.sources.codec import parse_finding
from gate.sources.export import IMAGE_BUILDER, KINDS, ExportSource
from gate.sources.interface import ExportKind
from tests.conftest import DATA, EXAMPLES

EVENT = DATA / "aws-examples" / "inspector2-eventbridge" / "ondemand-ami-scan-findings.event.json"


def test_image_builder_comes_last_and_claims_what_no_other_kind_does() -> None:
    assert KINDS[-1] is IMAGE_BUILDER and ondemand_export.KIND in KINDS
    export_docs = read_documents(EXAMPLES / "findings.json", "an export")
    event_docs = read_documents(EVENT, "events")
    assert [k.label for k in KINDS if k.claims(export_docs)] == ["Image Builder exports"]
    assert [k.label for k in KINDS if k.claims(event_docs)] == ["EC2 on-demand scan output", "Image Builder exports"]
    assert next(k.label for k in KINDS if k.claims([{"ImageFindings": []}])) == "EC2 on-demand scan output"


class _Wrapped:
    """A made-up kind: `{"wrapped": [finding, ...]}`, one page per file."""

    def __init__(self) -> None:
        self.pages: list[Sequence[Finding]] = []

    def add(self, path: Path, docs: Sequence[Any]) -> None:
        self.pages.extend([parse_finding(raw) for raw in doc["wrapped"]] for doc in docs)

    def read(self, image: Mapping[str, Any] | None, image_path: Path | None,
             target: str) -> tuple[tuple[str, ...], list[Sequence[Finding]]]:
        return (f"read {len(self.pages)} wrapped pages of {target}",), self.pages

    def enrichers(self) -> tuple[Any, ...]:
        return ()


WRAPPED = ExportKind(label="wrapped findings", reader=_Wrapped,
                     claims=lambda docs: all(isinstance(d, dict) and "wrapped" in d for d in docs))


def _wrapped(tmp_path: Path) -> Path:
    findings = json.loads((EXAMPLES / "findings.json").read_text())[0]["findings"]
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"wrapped": findings[:2]}))
    return path


def test_a_new_kind_is_one_entry_in_the_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = _wrapped(tmp_path)
    with pytest.raises(InputError, match="not an Image Builder scan findings export"):
        list(ExportSource([path]).pages())  # before it is registered: Image Builder's reader refuses it
    monkeypatch.setattr(export, "KINDS", (WRAPPED, *KINDS))
    source = ExportSource([path])
    pages = list(source.pages())
    assert [len(p) for p in pages] == [2] and source.summary().notes == (f"read 1 wrapped pages of {path}",)
    assert source.enrichers() == ()


def test_files_of_two_kinds_are_refused_by_their_labels(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(export, "KINDS", (WRAPPED, *KINDS))
    with pytest.raises(InputError, match=r"^--findings mixes Image Builder exports with wrapped findings$"):
        list(ExportSource([_wrapped(tmp_path), EXAMPLES / "findings.json"]).pages())


def test_on_demand_events_bring_their_enricher_and_image_builder_exports_none() -> None:
    assert [e.name for e in ExportSource([EVENT]).enrichers()] == ["inspector-events"]
    assert ExportSource([EXAMPLES / "findings.json"]).enrichers() == ()
