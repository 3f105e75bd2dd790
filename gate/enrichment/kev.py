"""CISA's Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`) as an enricher."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from gate.enrichment.feedindex import Indexed, Untrusted
from gate.enrichment.feedregistry import FeedFormat, feed
from gate.enrichment.repeats import Repeats
from gate.errors import InputError, ShapeError
from gate.files import read_bytes
from gate.jsondocs import loads_document
from gate.model import Enrichment, FeedInfo, KevEntry, Provenance
from gate.timeutil import to_utc

SOURCE = "cisa-kev"
FEED = feed("kev")
FEED_NAME = FEED.name
HINT = "pass CISA's known_exploited_vulnerabilities.json, or run `gate feeds update`"


def parse_date(value: object, where: str) -> date | None:
    """A catalog date (`YYYY-MM-DD`), or None when the field is empty."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a YYYY-MM-DD date, got {value!r}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as e:
        raise InputError(f"{where}: expected a YYYY-MM-DD date, got {value!r}") from e


class KevSource(Protocol):
    """A validated catalog, in memory or indexed on disk, that answers for the CVEs asked."""

    @property
    def version(self) -> str | None: ...
    @property
    def released(self) -> datetime: ...
    @property
    def origin(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def notes(self) -> tuple[str, ...]: ...
    def lookup(self, ids: Collection[str]) -> Mapping[str, KevEntry]:
        """The catalog's entry for each upper-cased id it lists; absent ids are not in the catalog."""
        ...


@dataclass(frozen=True)
class KevCatalog:
    """The whole catalog, parsed and validated, indexed by CVE id."""

    entries: Mapping[str, KevEntry]
    version: str | None
    released: datetime
    origin: str
    notes: tuple[str, ...] = ()
    """What a reader should know that did not stop the run (a CVE listed twice, identically)."""

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def as_of(self) -> datetime:
        return self.released

    def lookup(self, ids: Collection[str]) -> Mapping[str, KevEntry]:
        return {vid: self.entries[vid] for vid in ids if vid in self.entries}

    @classmethod
    def load(cls, path: Path) -> KevCatalog:
        return cls.from_bytes(read_bytes(path), str(path))

    @classmethod
    def from_bytes(cls, data: bytes, origin: str) -> KevCatalog:
        return cls.from_document(loads_document(data, origin, hint=HINT), origin)

    @classmethod
    def from_document(cls, doc: Any, origin: str) -> KevCatalog:
        if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
            raise InputError(f"{origin}: not a CISA KEV catalog (no 'vulnerabilities' list)", hint=HINT)
        # NOTE: an empty or undated catalog would answer "not exploited" for everything, or for ever.
        if not doc["vulnerabilities"]:
            raise InputError(f"{origin}: the KEV catalog has no entries; CISA's lists over a thousand", hint=HINT)
        try:
            released = to_utc(doc.get("dateReleased") or None)
        except ShapeError as e:
            raise InputError(f"{origin}: bad dateReleased {doc['dateReleased']!r}", hint=HINT) from e
        if released is None:
            raise InputError(f"{origin}: the KEV catalog has no dateReleased, so its age is unknown", hint=HINT)
        count = doc.get("count")
        if isinstance(count, int) and not isinstance(count, bool) and count != len(doc["vulnerabilities"]):
            raise InputError(f"{origin}: the KEV catalog says it has {count} entries but lists "
                             f"{len(doc['vulnerabilities'])}: it is cut short or edited", hint=HINT)
        provenance = Provenance(source=SOURCE, as_of=released)
        entries: dict[str, KevEntry] = {}
        firsts: dict[str, tuple[int, dict[str, Any]]] = {}
        repeats = Repeats(FEED_NAME, origin)
        for i, item in enumerate(doc["vulnerabilities"]):
            where = f"{origin}: vulnerabilities[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("cveID"), str) or not item["cveID"].strip():
                raise InputError(f"{where}: entry without a cveID")
            cve = item["cveID"].strip().upper()
            if cve in firsts:
                # NOTE: compared whole, not as gate reads them: an entry that differs anywhere is not a copy.
                j, first = firsts[cve]
                repeats.add(cve, f"vulnerabilities[{j}]", f"vulnerabilities[{i}]", hint=HINT,
                            same={**first, "cveID": cve} == {**item, "cveID": cve})
                continue
            firsts[cve] = (i, item)
            ransomware = item.get("knownRansomwareCampaignUse")
            action = item.get("requiredAction")
            entries[cve] = KevEntry(
                date_added=parse_date(item.get("dateAdded"), where),
                due_date=parse_date(item.get("dueDate"), where),
                required_action=action if isinstance(action, str) else None,
                ransomware=(ransomware == "Known") if isinstance(ransomware, str) else None,
                provenance=provenance,
            )
        version = doc.get("catalogVersion")
        return cls(entries=entries, version=str(version) if version else None, released=released, origin=origin,
                   notes=repeats.notes())


def describe(source: KevSource) -> str:
    return f"catalog {source.version}, {source.count} entries"


class KevIndex(Indexed):
    """A KEV catalog answered from its index."""

    SQL = "SELECT cve, date_added, due_date, required_action, ransomware FROM kev WHERE cve IN (%s)"

    @property
    def released(self) -> datetime:
        return self.as_of

    def check(self, row: tuple[Any, ...]) -> KevEntry:
        cve, added, due, action, ransomware = row
        if not (action is None or isinstance(action, str)) or ransomware not in (None, 0, 1):
            raise Untrusted(f"bad row for {cve}")
        where = f"{self.origin} (index): {cve}"
        return KevEntry(date_added=parse_date(added, where), due_date=parse_date(due, where),
                        required_action=action, ransomware=None if ransomware is None else bool(ransomware),
                        provenance=Provenance(source=SOURCE, as_of=self.as_of))

    def lookup(self, ids: Collection[str]) -> Mapping[str, KevEntry]:
        found: Mapping[str, KevEntry] = super().lookup(ids)
        return found


def _rows(catalog: KevCatalog) -> Iterable[tuple[Any, ...]]:
    return sorted((cve, e.date_added and e.date_added.isoformat(), e.due_date and e.due_date.isoformat(),
                   e.required_action, None if e.ransomware is None else int(e.ransomware))
                  for cve, e in catalog.entries.items())


class KevEnricher:
    """Answers KEV membership for every id asked: a CVE absent from the catalog is known not in it."""

    name = SOURCE
    provides: frozenset[str] = frozenset(FEED.provides)

    def __init__(self, catalog: KevSource) -> None:
        self.catalog = catalog

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        found = self.catalog.lookup({vid.upper() for vid in vulnerability_ids})
        return {vid: Enrichment(vulnerability_id=vid, kev=found.get(vid.upper()), kev_known_by=(SOURCE,))
                for vid in vulnerability_ids}

    def feeds(self) -> tuple[FeedInfo, ...]:
        return (FeedInfo(name=FEED_NAME, source=self.catalog.origin, as_of=self.catalog.released,
                         detail=describe(self.catalog), provides=FEED.provides, notes=self.catalog.notes,
                         version=self.catalog.version),)


FORMAT = FeedFormat(
    parse=KevCatalog.from_bytes, describe=describe, enricher=KevEnricher, index=KevIndex, rows=_rows,
    schema="CREATE TABLE kev (cve TEXT PRIMARY KEY, date_added TEXT, due_date TEXT, required_action TEXT,"
    " ransomware INTEGER) WITHOUT ROWID",
    insert="INSERT INTO kev VALUES (?, ?, ?, ?, ?)",
)
"""The KEV catalog's entry in `feedregistry.FEEDS` imports this."""
