"""CISA's Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`) as an enricher."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gate.errors import InputError, ShapeError
from gate.fields import Source
from gate.files import read_bytes
from gate.model import Enrichment, FeedInfo, KevEntry, Provenance
from gate.timeutil import to_utc

SOURCE = "cisa-kev"


def _date(value: object, where: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a YYYY-MM-DD date, got {value!r}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as e:
        raise InputError(f"{where}: expected a YYYY-MM-DD date, got {value!r}") from e


@dataclass(frozen=True)
class KevCatalog:
    """The catalog, indexed by CVE id."""

    entries: Mapping[str, KevEntry]
    version: str | None
    released: datetime | None
    origin: str

    @classmethod
    def load(cls, path: Path) -> KevCatalog:
        try:
            doc = json.loads(read_bytes(path))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: not JSON ({e})",
                             hint="pass CISA's known_exploited_vulnerabilities.json") from e
        return cls.from_document(doc, str(path))

    @classmethod
    def from_document(cls, doc: Any, origin: str) -> KevCatalog:
        if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
            raise InputError(f"{origin}: not a CISA KEV catalog (no 'vulnerabilities' list)",
                             hint="pass CISA's known_exploited_vulnerabilities.json")
        released = None
        if isinstance(doc.get("dateReleased"), str):
            try:
                released = to_utc(doc["dateReleased"])
            except ShapeError as e:
                raise InputError(f"{origin}: bad dateReleased {doc['dateReleased']!r}") from e
        provenance = Provenance(source=SOURCE, as_of=released)
        entries: dict[str, KevEntry] = {}
        for i, item in enumerate(doc["vulnerabilities"]):
            where = f"{origin}: vulnerabilities[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("cveID"), str):
                raise InputError(f"{where}: entry without a cveID")
            ransomware = item.get("knownRansomwareCampaignUse")
            entries[item["cveID"].strip().upper()] = KevEntry(
                date_added=_date(item.get("dateAdded"), where),
                due_date=_date(item.get("dueDate"), where),
                required_action=item.get("requiredAction"),
                ransomware=(ransomware == "Known") if isinstance(ransomware, str) else None,
                provenance=provenance,
            )
        version = doc.get("catalogVersion")
        return cls(entries=entries, version=str(version) if version else None,
                   released=released, origin=origin)


class KevEnricher:
    """Answers KEV membership for every id asked: a CVE absent from the catalog is known not in it."""

    name = SOURCE
    provides: frozenset[str] = frozenset({Source.KEV})

    def __init__(self, catalog: KevCatalog) -> None:
        self.catalog = catalog

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        out: dict[str, Enrichment] = {}
        for vid in vulnerability_ids:
            entry = self.catalog.entries.get(vid.upper())
            out[vid] = Enrichment(vulnerability_id=vid, kev=entry, kev_known_by=(SOURCE,))
        return out

    def feeds(self) -> tuple[FeedInfo, ...]:
        detail = f"catalog {self.catalog.version}, {len(self.catalog.entries)} entries"
        return (FeedInfo(name="CISA KEV", source=self.catalog.origin, as_of=self.catalog.released,
                         detail=detail, provides=(Source.KEV,)),)
