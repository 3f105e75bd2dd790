"""The Inspector cache: freshness, negative entries, batched writes, and distrust of anything odd in its database."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sqlite3
import stat
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gate.enrichment.answerdb import FILE, FORMAT, PRUNE_AFTER, AnswerDb
from gate.enrichment.cache import FLUSH_EVERY, KIND, SCHEMA_VERSION, Cache, Scope, default_cache_dir
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


def _cache(tmp_path: Path, now: datetime = NOW, ttl: timedelta = timedelta(hours=24), timeout: float = 2.0) -> Cache:
    return Cache(tmp_path, ttl=ttl, clock=lambda: now, db=AnswerDb(tmp_path, timeout=timeout))


def _stored(cache: Cache, vid: str, value: Enrichment | None, scope: str | None = None) -> None:
    cache.put(vid, value, scope=scope)
    cache.flush()


def _rows(tmp_path: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(tmp_path / FILE)) as con:
        return con.execute("SELECT kind, scope, id, stored_at, doc FROM answers ORDER BY id").fetchall()


def _insert(tmp_path: Path, *rows: tuple[object, ...]) -> None:
    """Rows written behind gate's back (an attacker, another program, a bug)."""
    _stored(_cache(tmp_path), "CVE-1999-0001", None)  # creates the database
    with contextlib.closing(sqlite3.connect(tmp_path / FILE)) as con, con:
        con.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)", rows)


def test_round_trip_with_provenance(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    _stored(cache, "CVE-2024-0001", VALUE, scope="arn:image")
    entry = _cache(tmp_path).get("CVE-2024-0001", scope="arn:other")
    assert entry is not None
    assert entry.enrichment == VALUE
    assert entry.stored_at == NOW
    [(kind, scope, vid, stored_at, doc)] = _rows(tmp_path)
    assert (kind, scope, vid, stored_at) == (KIND, Scope().digest, "CVE-2024-0001", NOW.isoformat())
    assert json.loads(str(doc))["where"] == Scope().as_json()


def test_answers_are_written_in_batches_not_one_by_one(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    for n in range(FLUSH_EVERY - 1):
        cache.put(f"CVE-2024-{n:04d}", None)
    assert _cache(tmp_path).get("CVE-2024-0000") is None  # not written yet
    cache.put("CVE-2024-9999", VALUE)
    assert len(_rows(tmp_path)) == FLUSH_EVERY  # the batch filled: one transaction
    cache.put("CVE-2025-0001", None)
    assert len(_rows(tmp_path)) == FLUSH_EVERY
    cache.flush()
    assert _cache(tmp_path).get("CVE-2025-0001") is not None


def test_negative_entries_hold_for_their_scope_only(tmp_path: Path) -> None:
    _stored(_cache(tmp_path), "GHSA-abcd-efgh-ijkl", None, scope="arn:image")
    cache = _cache(tmp_path)
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
    _stored(cache, "CVE-2024-0001", VALUE)
    entry = _cache(tmp_path).for_scope(here).get("CVE-2024-0001")
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
    # a row copied under another scope's key is still a miss: the scope is inside the entry
    [(kind, _, vid, stored_at, doc)] = _rows(tmp_path)
    _insert(tmp_path, (kind, others[1].digest, vid, stored_at, doc))
    assert _cache(tmp_path).for_scope(others[1]).get("CVE-2024-0001") is None
    assert _cache(tmp_path).for_scope(here).get("CVE-2024-0001") is not None


def test_entries_expire(tmp_path: Path) -> None:
    _stored(_cache(tmp_path), "CVE-2024-0001", VALUE)
    assert _cache(tmp_path, NOW + timedelta(hours=23)).get("CVE-2024-0001") is not None
    assert _cache(tmp_path, NOW + timedelta(hours=24)).get("CVE-2024-0001") is None
    assert _cache(tmp_path, NOW - timedelta(hours=1)).get("CVE-2024-0001") is None
    assert _cache(tmp_path, ttl=timedelta(0)).get("CVE-2024-0001") is None


def test_answers_older_than_any_ttl_are_pruned_by_the_next_write(tmp_path: Path) -> None:
    _stored(_cache(tmp_path, NOW - PRUNE_AFTER - timedelta(hours=1)), "CVE-2020-0001", None)
    _stored(_cache(tmp_path, NOW - PRUNE_AFTER + timedelta(hours=1)), "CVE-2020-0002", None)
    assert len(_rows(tmp_path)) == 2
    _stored(_cache(tmp_path), "CVE-2024-0001", None)
    assert [row[2] for row in _rows(tmp_path)] == ["CVE-2020-0002", "CVE-2024-0001"]


def _entry(**changes: object) -> str:
    """A valid stored entry for CVE-2024-0001 (negative, unscoped), with `changes` applied."""
    doc: dict[str, object] = {
        "schema": SCHEMA_VERSION, "vulnerabilityId": "CVE-2024-0001", "storedAt": NOW.isoformat(),
        "found": False, "enrichment": None, "scope": None, "where": Scope().as_json(), "source": "inspector2",
    }
    doc.update(changes)
    return json.dumps(doc)


def _row(doc: object, vid: object = "CVE-2024-0001", scope: object = None) -> tuple[object, ...]:
    return (KIND, Scope().digest if scope is None else scope, vid, NOW.isoformat(), doc)


def test_the_valid_entry_reads_back(tmp_path: Path) -> None:
    _insert(tmp_path, _row(_entry()))
    assert _cache(tmp_path).get("CVE-2024-0001") is not None  # so each corruption below is what makes the miss


@pytest.mark.parametrize("doc", [
    "", "{not json", "[]", '{"schema": 1}', b"\xff\xfe", b'{"schema": 2}', 7, 1.5,
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
    _entry().replace('"found": false', '"found": false, "found": true'),
    _entry(found=True, enrichment={"vulnerabilityId": "CVE-2024-0001",
                                   "epss": {"score": 0.5, "provenance": {"source": "x"}}}).replace("0.5", "NaN"),
    "[" * 100_000,
])
def test_a_corrupt_entry_is_a_miss(tmp_path: Path, doc: object) -> None:
    _insert(tmp_path, _row(doc))
    assert _cache(tmp_path).get("CVE-2024-0001") is None


def test_a_row_under_another_key_is_a_miss(tmp_path: Path) -> None:
    # the entry says CVE-2024-0001, the row claims to be another id, of another kind, or not text
    _insert(tmp_path, _row(_entry(), vid="CVE-2024-0002"), ("vulnrichment", Scope().digest, "CVE-2024-0003",
                                                             NOW.isoformat(), _entry()))
    assert _cache(tmp_path).get_many(["CVE-2024-0002", "CVE-2024-0003"]) == {}
    with contextlib.closing(sqlite3.connect(tmp_path / FILE)) as con, con:
        con.execute("UPDATE answers SET id = CAST(? AS BLOB) WHERE id = 'CVE-2024-0002'", ("CVE-2024-0001",))
    assert _cache(tmp_path).get("CVE-2024-0001") is None


def test_odd_ids_round_trip(tmp_path: Path) -> None:
    ids = ["../../etc/passwd", "RHSA-2024:1234", ".hidden", "a" * 300, "x'; DROP TABLE answers; --", "CVE-%"]
    cache = _cache(tmp_path)
    cache.put_many([(vid, None) for vid in ids])
    cache.flush()
    found = _cache(tmp_path).get_many([*ids, "CVE-2024-0001"])
    assert sorted(found) == sorted(ids)


def test_the_database_is_private_to_the_user(tmp_path: Path) -> None:
    _stored(_cache(tmp_path), "CVE-2024-0001", None)
    assert stat.S_IMODE((tmp_path / FILE).stat().st_mode) == 0o600


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a database at all\n" * 200)


def _truncated(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(100)


def _foreign(path: Path) -> None:
    path.unlink()  # another program's database under the same name
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        con.execute("CREATE TABLE answers (id TEXT, doc TEXT)")
        con.execute("INSERT INTO answers VALUES ('CVE-2024-0001', '{}')")


def _other_format(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        con.execute("UPDATE meta SET value = 'gate-answer-cache/0' WHERE key = 'format'")


def _extra_column(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        con.execute("ALTER TABLE answers ADD COLUMN trusted INTEGER")


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("damage", [_garbage, _truncated, _foreign, _other_format, _extra_column, _directory])
def test_a_damaged_or_foreign_database_is_a_miss_and_says_why(tmp_path: Path, damage: object) -> None:
    _stored(_cache(tmp_path), "CVE-2024-0001", VALUE)
    assert callable(damage)
    damage(tmp_path / FILE)
    cache = _cache(tmp_path)
    assert cache.get("CVE-2024-0001") is None
    assert cache.problem is not None and "\n" not in cache.problem
    assert str(tmp_path / FILE) in cache.problem
    _stored(cache, "CVE-2024-0002", None)  # nothing is written into a file gate does not own
    assert cache.write_errors == 1
    assert cache.get("CVE-2024-0002") is None


def test_a_database_cut_short_never_gives_a_wrong_answer(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.put_many([(vid, _value(vid)) for vid in (f"CVE-2024-{n:04d}" for n in range(1000))])
    cache.flush()
    path = tmp_path / FILE
    size = path.stat().st_size
    for keep in (size * 3 // 4, size // 2, size // 4, 4096):
        with path.open("r+b") as f:
            f.truncate(keep)
        cache = _cache(tmp_path)
        found = cache.get_many([f"CVE-2024-{n:04d}" for n in range(1000)])
        assert found or cache.problem  # a miss says why
        for vid, entry in found.items():
            assert entry.enrichment == _value(vid), vid


def test_a_locked_database_is_a_miss_and_the_run_stops_asking_it(tmp_path: Path) -> None:
    _stored(_cache(tmp_path), "CVE-2024-0001", VALUE)
    with contextlib.closing(sqlite3.connect(tmp_path / FILE, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")  # another process holding the file (or hung while holding it)
        cache = _cache(tmp_path, timeout=0.05)
        assert cache.get("CVE-2024-0001") is None
        assert cache.problem is not None and "locked" in cache.problem
        other.execute("COMMIT")
    assert cache.get("CVE-2024-0001") is None  # given up for this run: no second wait
    assert _cache(tmp_path).get("CVE-2024-0001") is not None  # the next run uses it again


def _die_mid_transaction(directory: str) -> None:
    con = sqlite3.connect(Path(directory) / FILE, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    con.execute("DELETE FROM answers")
    con.execute("INSERT INTO answers VALUES ('inspector', 'x', 'CVE-2024-0009', '', '{}')")
    os._exit(9)  # killed before COMMIT: the journal stays behind


def test_a_run_killed_mid_write_leaves_the_earlier_answers(tmp_path: Path) -> None:
    _stored(_cache(tmp_path), "CVE-2024-0001", VALUE)
    child = multiprocessing.get_context("spawn").Process(target=_die_mid_transaction, args=(str(tmp_path),))
    child.start()
    child.join()
    assert child.exitcode == 9
    cache = _cache(tmp_path)
    entry = cache.get("CVE-2024-0001")
    assert entry is not None and entry.enrichment == VALUE
    assert cache.problem is None
    assert [row[2] for row in _rows(tmp_path)] == ["CVE-2024-0001"]


def _value(vid: str) -> Enrichment | None:
    """Half the ids known to Inspector, half not."""
    return replace(VALUE, vulnerability_id=vid) if int(vid[-1]) % 2 else None


PATIENT_S = 60.0
"""The busy timeout of the processes that share a cache in the concurrency test: what it checks is that no one
reads a damaged or mixed answer, not how long a lock waits on a busy machine (a lock given up on is a miss)."""


def _write_many(directory: str, writer: int, rounds: int) -> None:
    cache = Cache(Path(directory), clock=lambda: NOW, db=AnswerDb(Path(directory), timeout=PATIENT_S))
    for r in range(rounds):
        cache.put_many([(vid, _value(vid)) for vid in (f"CVE-2024-{writer}{r:03d}{k}" for k in range(10))])
        cache.put("CVE-2024-0001", VALUE if (r + writer) % 2 else None)  # every writer rewrites this one
        cache.flush()
    if cache.write_errors or cache.problem:
        raise SystemExit(f"writer {writer}: {cache.write_errors} errors, {cache.problem}")


@pytest.mark.slow
def test_concurrent_runs_sharing_the_cache_never_corrupt_it(tmp_path: Path) -> None:
    rounds = 100  # each writer's transactions span about half a second, so the two overlap
    context = multiprocessing.get_context("spawn")
    _stored(_cache(tmp_path), "CVE-2024-0001", VALUE)
    writers = [context.Process(target=_write_many, args=(str(tmp_path), n, rounds)) for n in (1, 2)]
    bad: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            reader = _cache(tmp_path, timeout=PATIENT_S)
            entry = reader.get("CVE-2024-0001")
            if entry is None or entry.enrichment not in (None, VALUE) or reader.problem:
                bad.append(f"{entry} {reader.problem}")

    reader = threading.Thread(target=read)
    for w in writers:
        w.start()
    reader.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()
    assert [w.exitcode for w in writers] == [0, 0]
    assert bad == []
    with contextlib.closing(sqlite3.connect(tmp_path / FILE)) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("SELECT value FROM meta").fetchall() == [(FORMAT,)]
    ids = [f"CVE-2024-{w}{r:03d}{k}" for w in (1, 2) for r in range(rounds) for k in range(10)]
    found = _cache(tmp_path).get_many(ids)
    assert len(found) == len(ids)
    assert all(found[vid].enrichment == _value(vid) for vid in ids)


@pytest.mark.slow
def test_two_runs_creating_the_database_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(str(tmp_path), n, 3)) for n in (1, 2, 3)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert [w.exitcode for w in writers] == [0, 0, 0]
    assert len(_rows(tmp_path)) == 3 * 3 * 10 + 1


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GATE_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("GATE_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "gate"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "gate"
