"""Each enrichment value is described once (its field's metadata): every writer and reader covers every value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import get_args

from gate import snapshot
from gate.enrichment import cache
from gate.model import (
    Enrichment,
    EpssScore,
    KevEntry,
    Provenance,
    Sourced,
    Ssvc,
    ValueKind,
    enrichment_values,
)
from gate.reports import digest, explain
from gate.serialize import _READ, _WRITE, enrichment_from_json, enrichment_shape, enrichment_to_json

NOW = datetime(2025, 11, 20, 12, tzinfo=UTC)
A = Provenance("source-a", datetime(2025, 11, 1, tzinfo=UTC))
B = Provenance("source-b", datetime(2025, 11, 2, tzinfo=UTC))

# Every (format, version) the shape was pinned with, oldest first. A new shape needs a new version and a new
# line here: a version stands for one shape, so an older gate never misreads a newer file.
PINNED: dict[tuple[str, int], str] = {
    ("answer-cache", 2): "70f8b6daaccc7337",
    ("snapshot", 1): "70f8b6daaccc7337",
    ("answer-cache", 3): "aa6f37cafae4f657",  # the EPSS model beside each score
    ("snapshot", 2): "aa6f37cafae4f657",
}


def full(provenance: Provenance = A) -> Enrichment:
    """An enrichment with every value known, built from the table so a new value is covered too."""
    samples: dict[ValueKind, object] = {
        "kev": KevEntry(date(2024, 3, 29), date(2024, 4, 19), "patch", True, provenance),
        "asked": ("cisa-kev",),
        "epss": EpssScore(0.5, 0.9, provenance),
        "ssvc": Ssvc("active", True, "total", provenance),
        "flag": Sourced(True, provenance),
        "score": Sourced(7.5, provenance),
        "names": Sourced(("CWE-79",), provenance),
    }
    return Enrichment("CVE-2024-0001", **{name: samples[v.kind] for name, v in enrichment_values()})


def test_the_stored_shape_is_pinned_with_the_versions_of_the_files_that_store_it() -> None:
    shape = enrichment_shape()
    for fmt, version, pinned in (("answer-cache", cache.SCHEMA_VERSION, cache.ENRICHMENT_SHAPE),
                                 ("snapshot", snapshot.VERSION, snapshot.ENRICHMENT_SHAPE)):
        assert pinned == shape, (f"Enrichment's stored shape changed: bump the {fmt} version, set its "
                                 f"ENRICHMENT_SHAPE = {shape!r} and add ({fmt!r}, new version) to PINNED")
        assert PINNED.get((fmt, version)) == pinned, f"{fmt} version {version} already stands for another shape"


def test_every_kind_has_a_reader_and_a_writer_everywhere() -> None:
    kinds = set(get_args(ValueKind))
    assert {v.kind for _, v in enrichment_values()} <= kinds
    assert set(_READ) == set(_WRITE) == kinds
    assert set(digest._FACTS) == kinds


def test_json_keys_are_the_tables_and_every_value_survives_a_round_trip() -> None:
    doc = enrichment_to_json(full())
    assert list(doc) == ["vulnerabilityId", "enriched", *(v.key for _, v in enrichment_values())]
    assert enrichment_from_json(doc) == full()
    assert all(doc[v.key] for _, v in enrichment_values())


def test_each_value_on_its_own_counts_as_enriched_except_the_sources_asked() -> None:
    for name, value in enrichment_values():
        alone = Enrichment("CVE-2024-0001", **{name: getattr(full(), name)})
        assert alone.enriched is (value.kind != "asked"), name


def test_merging_fills_every_missing_value_and_never_overwrites() -> None:
    empty, first, second = Enrichment("CVE-2024-0001"), full(A), full(B)
    assert empty.merged_with(first) == first
    assert first.merged_with(empty) == first
    merged = first.merged_with(second)
    for name, value in enrichment_values():
        expected = getattr(first, name) if value.kind != "asked" else ("cisa-kev",)
        assert getattr(merged, name) == expected, name


def test_the_explanation_has_a_line_for_every_value_with_its_source() -> None:
    lines = explain.enrichment_lines(full(), NOW)
    labelled = [v for _, v in enrichment_values() if v.kind != "asked"]  # asked: only when kev is unknown
    assert len(lines) == len(labelled)
    for line, value in zip(lines, labelled, strict=True):
        assert line.startswith(value.label) and "source-a" in line, line
    assert "exploit available yes (source-a, as of 2025-11-01, 19 days old)" in lines
    assert explain.enrichment_lines(Enrichment("CVE-2024-0001", kev_known_by=("cisa-kev",)), NOW) == (
        "kev not listed (asked cisa-kev)",)


def test_facts_and_provenances_cover_every_value() -> None:
    facts = digest.facts(full())
    assert facts == ("KEV since 2024-03-29, due 2024-04-19, ransomware", "EPSS 0.5 (percentile 0.9)",
                     "SSVC exploitation active, automatable yes, technical impact total", "exploited in the wild",
                     "public exploit", "risk 7.5", "CWE-79")
    assert digest.provenances(full()) == (("source-a", date(2025, 11, 1)),)
    mixed = Enrichment("CVE-2024-0001", **{name: getattr(full(B) if i % 2 else full(A), name)
                                          for i, (name, _) in enumerate(enrichment_values())})
    assert set(digest.provenances(mixed)) == {("source-a", date(2025, 11, 1)), ("source-b", date(2025, 11, 2))}
