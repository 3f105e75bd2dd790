"""The Inspector cache: freshness, negative entries, atomic writes, and distrust of anything odd on disk."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gate.enrichment.cache import SCHEMA_VERSION, Cache, Scope, default_cache_dir
from gate.model import Enrichment, KevEntry, Provenance, Sourced

NOW = datetime(2025, 8, 30, 12, 0, tzinfo=UTC)
PROV = Provenance(source="inspector:BatchGetFindingDetails", as_of=NOW - timedelta(hours=1))
VALUE = Enrichment(
    vulnerability_id="CVE-2024-0001",
    kev=KevEntry(date_added=date(2025, 1, 2), due_date=date(2025, 1, 23), required_action="patch",
                 provenance=PROV),
    risk_score=Sourced(88.0, PROV),
    tools=Sourced(("metasploit",), PROV),
    kev_known_by=("inspector:BatchGetFindingDetails",),
)


def _cache(tmp_path: Path, now: datetime = NOW, ttl: timedelta = timedelta(hours=24)) -> Cache:
    return Cache(tmp_path, ttl=ttl, clock=lambda: now)


def test_round_trip_with_provenance(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.put("CVE-2024-0001", VALUE, scope="arn:image")
    entry = cache.get("CVE-2024-0001", scope="arn:other")
    assert entry is not None
    assert entry.enrichment == VALUE
    assert entry.stored_at == NOW
    assert cache.path_for("CVE-2024-0001") == (tmp_path / "inspector" / f"v{SCHEMA_VERSION}" / Scope().digest
                                               / "CVE-2024-0001.json")


def test_negative_entries_hold_for_their_scope_only(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.put("GHSA-abcd-efgh-ijkl", None, scope="arn:image")
    entry = cache.get("GHSA-abcd-efgh-ijkl", scope="arn:image")
    assert entry is not None
    assert entry.enrichment is None
    assert cache.get("GHSA-abcd-efgh-ijkl", scope="arn:other") is None
    assert cache.get("GHSA-abcd-efgh-ijkl") is None


def test_an_entry_holds_only_for_its_partition_account_region_and_endpoint(tmp_path: Path) -> None:
    here = Scope.of("arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.0.0/1", "us-east-1",
                    "https://inspector2.us-east-1.amazonaws.com")
    assert (here.partition, here.account) == ("aws", "111122223333")
    cache = _cache(tmp_path).for_scope(here)
    cache.put("CVE-2024-0001", VALUE)
    entry = cache.get("CVE-2024-0001")
    assert entry is not None and entry.source == "inspector2 https://inspector2.us-east-1.amazonaws.com"
    others = [
        Scope.of("arn:aws-cn:imagebuilder:us-east-1:111122223333:image/web/1.0.0/1", here.region, here.endpoint),
        Scope.of("arn:aws:imagebuilder:us-east-1:444455556666:image/web/1.0.0/1", here.region, here.endpoint),
        Scope(here.partition, here.account, "eu-west-1", here.endpoint),
        Scope(here.partition, here.account, here.region, "http://127.0.0.1:4566"),
        Scope(),
    ]
    for other in others:
        assert _cache(tmp_path).for_scope(other).get("CVE-2024-0001") is None, other
    # an entry copied into another scope's folder is still a miss: the scope is inside the entry
    moved = _cache(tmp_path).for_scope(others[1])
    moved.root.mkdir(parents=True)
    moved.path_for("CVE-2024-0001").write_bytes(cache.path_for("CVE-2024-0001").read_bytes())
    assert moved.get("CVE-2024-0001") is None


def test_entries_expire(tmp_path: Path) -> None:
    _cache(tmp_path).put("CVE-2024-0001", VALUE)
    assert _cache(tmp_path, NOW + timedelta(hours=23)).get("CVE-2024-0001") is not None
    assert _cache(tmp_path, NOW + timedelta(hours=24)).get("CVE-2024-0001") is None
    assert _cache(tmp_path, NOW - timedelta(hours=1)).get("CVE-2024-0001") is None
    assert _cache(tmp_path, ttl=timedelta(0)).get("CVE-2024-0001") is None


def _entry(**changes: object) -> bytes:
    """A valid stored entry for CVE-2024-0001 (negative, unscoped), with `changes` applied."""
    doc: dict[str, object] = {
        "schema": SCHEMA_VERSION, "vulnerabilityId": "CVE-2024-0001", "storedAt": NOW.isoformat(),
        "found": False, "enrichment": None, "scope": None, "where": Scope().as_json(), "source": "inspector2",
    }
    doc.update(changes)
    return json.dumps(doc).encode()


def test_the_valid_entry_reads_back(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    path = cache.path_for("CVE-2024-0001")
    path.parent.mkdir(parents=True)
    path.write_bytes(_entry())
    assert cache.get("CVE-2024-0001") is not None  # so each corruption below is what makes the miss


@pytest.mark.parametrize("content", [
    b"", b"{not json", b"\xff\xfe", b"[]", b'{"schema": 1}',
    _entry(schema=SCHEMA_VERSION + 1),
    _entry(schema=SCHEMA_VERSION - 1),
    _entry(vulnerabilityId="CVE-2024-9999"),
    _entry(storedAt="yesterday"),
    _entry(storedAt="9999-12-31T23:59:59-12:00"),
    _entry(storedAt=1e300),
    _entry(found=True, enrichment={"vulnerabilityId": "CVE-2024-0001", "epss": {"score": 7}}),
    _entry(found=True, enrichment="yes"),
    _entry(source=""),
    _entry(source=None),
    _entry(where=None),
    _entry(found=True, enrichment={"vulnerabilityId": "CVE-2024-0001",
                                   "riskScore": {"value": 10**400, "provenance": {"source": "x"}}}),
    _entry(where=Scope(account="444455556666").as_json()),
    _entry().replace(b'"found": false', b'"found": false, "found": true'),
    _entry(found=True, enrichment={"vulnerabilityId": "CVE-2024-0001",
                                   "epss": {"score": 0.5, "provenance": {"source": "x"}}})
    .replace(b"0.5", b"NaN"),
])
def test_a_corrupt_entry_is_a_miss(tmp_path: Path, content: bytes) -> None:
    cache = _cache(tmp_path)
    path = cache.path_for("CVE-2024-0001")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert cache.get("CVE-2024-0001") is None


def test_an_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.path_for("CVE-2024-0001").mkdir(parents=True)
    assert cache.get("CVE-2024-0001") is None
    cache.put("CVE-2024-0001", VALUE)
    assert cache.write_errors == 1


def test_odd_ids_get_safe_file_names(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    for vid in ("../../etc/passwd", "RHSA-2024:1234", ".hidden", "a" * 300):
        cache.put(vid, None)
        path = cache.path_for(vid)
        assert path.parent == cache.root
        assert path.name.startswith("sha256-")
        assert cache.get(vid) is not None


def test_concurrent_writers_never_corrupt_an_entry(tmp_path: Path) -> None:
    writers = [_cache(tmp_path) for _ in range(6)]
    bad: list[str] = []
    stop = threading.Event()

    def write(cache: Cache, n: int) -> None:
        for i in range(60):
            cache.put("CVE-2024-0001", VALUE if (i + n) % 2 else None)

    def read() -> None:
        reader = _cache(tmp_path)
        while not stop.is_set():
            existed = reader.path_for("CVE-2024-0001").exists()
            entry = reader.get("CVE-2024-0001")
            if existed and entry is None:
                bad.append("an entry on disk did not read back")
            if entry is not None and entry.enrichment not in (None, VALUE):
                bad.append("a torn value")

    readers = [threading.Thread(target=read) for _ in range(2)]
    threads = [threading.Thread(target=write, args=(c, n)) for n, c in enumerate(writers)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert bad == []
    assert sum(c.write_errors for c in writers) == 0
    assert [p.name for p in _cache(tmp_path).root.iterdir()] == ["CVE-2024-0001.json"]


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GATE_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("GATE_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "gate"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "gate"
