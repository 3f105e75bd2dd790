"""The indexed feed store: same answers as a full parse, complete validation, and no trust in a damaged index."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
from pathlib import Path

import pytest

from gate.enrichment import feedstore
from gate.enrichment.epss import EpssEnricher, EpssScores
from gate.enrichment.feedstore import EpssIndex, KevIndex, index_dir, open_epss, open_kev
from gate.enrichment.kev import KevCatalog, KevEnricher
from gate.errors import InputError
from tests.conftest import DATA, EXAMPLES

KEV = DATA / "kev" / "known_exploited_vulnerabilities.json"
EPSS = DATA / "epss" / "epss_scores-2025-08-28.csv.gz"
EPSS_HEAD = "#model_version:v2025.03.14,score_date:2025-08-28T12:55:00Z\ncve,epss,percentile\n"
ASKED = ["CVE-2021-44228", "CVE-2024-3400", "cve-2023-4863", "CVE-2025-48384", "CVE-1999-0001",
         "CVE-2099-99999", "CVE-2024-6003"]


def _indexes(cache: Path, kind: str) -> list[Path]:
    return sorted(index_dir(cache).glob(f"{kind}-*.sqlite"))


def _small_epss(tmp_path: Path, rows: str, name: str = "epss.csv.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress((EPSS_HEAD + rows).encode()))
    return path


@pytest.mark.slow
def test_the_real_epss_index_answers_as_the_full_parse(tmp_path: Path) -> None:
    scores = EpssScores.load(EPSS)
    full = EpssEnricher(scores)
    first = open_epss(EPSS, tmp_path)
    assert isinstance(first, EpssScores)  # first use: parsed completely, then indexed
    assert len(_indexes(tmp_path, "epss")) == 1
    indexed = open_epss(EPSS, tmp_path)
    assert isinstance(indexed, EpssIndex)
    assert (indexed.count, indexed.model_version, indexed.score_date) == (291_419, "v2025.03.14",
                                                                          scores.score_date)
    assert EpssEnricher(indexed).enrich(ASKED) == full.enrich(ASKED)
    assert EpssEnricher(indexed).feeds() == full.feeds()
    assert indexed.lookup({"CVE-2024-3400"}) == {"CVE-2024-3400": (0.94326, 0.99945)}
    ids = [*sorted(scores.scores)[::97], "CVE-2099-0001"]  # 3,005 ids: several chunks of queries
    assert indexed.lookup(set(ids)) == scores.lookup(ids)


def test_the_real_kev_index_answers_as_the_full_parse(tmp_path: Path) -> None:
    full = KevEnricher(KevCatalog.load(KEV))
    open_kev(KEV, tmp_path)
    indexed = open_kev(KEV, tmp_path)
    assert isinstance(indexed, KevIndex)
    assert KevEnricher(indexed).enrich(ASKED) == full.enrich(ASKED)
    assert KevEnricher(indexed).feeds() == full.feeds()
    every = set(KevCatalog.load(KEV).entries)
    assert indexed.lookup(every) == KevCatalog.load(KEV).entries  # every entry, field for field


def test_an_out_of_range_score_anywhere_is_refused_before_any_index(tmp_path: Path) -> None:
    rows = "".join(f"CVE-2024-{i},0.1,0.5\n" for i in range(1000, 3000)) + "CVE-2024-9999,1.5,0.9\n"
    path = _small_epss(tmp_path, rows)
    for _ in range(2):  # and again: nothing was indexed the first time
        with pytest.raises(InputError, match=r":2003: score 1.5 is outside 0..1"):
            open_epss(path, tmp_path / "cache")
    assert _indexes(tmp_path / "cache", "epss") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"dateReleased": "2025-08-25T17:04:19Z", "vulnerabilities": []}, "has no entries"),
        ({"vulnerabilities": [{"cveID": "CVE-2021-44228"}]}, "has no dateReleased"),
        ({"dateReleased": "", "vulnerabilities": [{"cveID": "CVE-2021-44228"}]}, "has no dateReleased"),
        ({"dateReleased": "2025-08-25", "count": 2, "vulnerabilities": [{"cveID": "CVE-2021-44228"}]},
         "says it has 2 entries but lists 1"),
        ({"dateReleased": "2025-08-25", "vulnerabilities": [{"cveID": ""}]}, "entry without a cveID"),
    ],
)
def test_empty_undated_or_cut_kev_catalogs_are_refused(tmp_path: Path, body: object, message: str) -> None:
    path = tmp_path / "kev.json"
    path.write_text(json.dumps(body))
    with pytest.raises(InputError, match=message) as err:
        open_kev(path, tmp_path / "cache")
    assert err.value.exit_code == 2
    assert _indexes(tmp_path / "cache", "kev") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (EPSS_HEAD, "has no scores"),
        (EPSS_HEAD + "\n\n", "has no scores"),
        ("cve,epss,percentile\nCVE-2024-1,0.5,0.5\n", "no '#model_version:…,score_date:…' line"),
        ("#model_version:v1\ncve,epss,percentile\nCVE-2024-1,0.5,0.5\n", "no '#model_version"),
        ("#model_version:v1,score_date:yesterday\ncve,epss,percentile\nCVE-2024-1,0.5,0.5\n", "bad score_date"),
    ],
)
def test_header_only_or_undated_epss_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "epss.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        open_epss(path, tmp_path / "cache")


def _tamper(index: Path, sql: str) -> None:
    con = sqlite3.connect(index)
    con.execute(sql)
    con.commit()
    con.close()


@pytest.mark.parametrize(
    "damage",
    ["truncate", "garbage", "empty", "wrong-hash", "missing-meta"],
)
def test_a_damaged_index_is_rebuilt_never_trusted(tmp_path: Path, damage: str) -> None:
    path = _small_epss(tmp_path, "CVE-2024-1000,0.25,0.5\nCVE-2024-1001,0.75,0.9\n")
    open_epss(path, tmp_path)
    [index] = _indexes(tmp_path, "epss")
    if damage == "truncate":  # a disk that lost the tail
        index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    elif damage == "garbage":
        index.write_bytes(os.urandom(8192))
    elif damage == "empty":
        index.write_bytes(b"")
    elif damage == "wrong-hash":  # another file's index under this file's name
        other = _small_epss(tmp_path, "CVE-2024-1000,0.99,0.99\n", "other.csv.gz")
        open_epss(other, tmp_path)
        other_index = next(p for p in _indexes(tmp_path, "epss") if p != index)
        other_index.replace(index)
    else:
        _tamper(index, "DELETE FROM meta WHERE key = 'asOf'")
    source = open_epss(path, tmp_path)
    assert isinstance(source, EpssScores)  # parsed again from the file
    assert source.lookup({"CVE-2024-1000"}) == {"CVE-2024-1000": (0.25, 0.5)}
    again = open_epss(path, tmp_path)
    assert isinstance(again, EpssIndex)  # and the index was rewritten
    assert again.lookup({"CVE-2024-1000", "CVE-2024-1001"}) == {"CVE-2024-1000": (0.25, 0.5),
                                                                "CVE-2024-1001": (0.75, 0.9)}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE epss SET score = 5.0 WHERE cve = 'CVE-2024-1000'",
        "UPDATE epss SET score = 'x' WHERE cve = 'CVE-2024-1000'",
        "UPDATE epss SET percentile = -1 WHERE cve = 'CVE-2024-1000'",
        "DROP TABLE epss",
    ],
)
def test_an_edited_index_value_is_not_believed(tmp_path: Path, sql: str) -> None:
    """Edited in place with the page count intact: caught when the row is read, answered from the file."""
    path = _small_epss(tmp_path, "CVE-2024-1000,0.25,0.5\n")
    open_epss(path, tmp_path)
    [index] = _indexes(tmp_path, "epss")
    _tamper(index, sql)
    source = open_epss(path, tmp_path)
    if isinstance(source, EpssIndex):
        assert source.lookup({"CVE-2024-1000"}) == {"CVE-2024-1000": (0.25, 0.5)}
        source = open_epss(path, tmp_path)
    assert source.lookup({"CVE-2024-1000"}) == {"CVE-2024-1000": (0.25, 0.5)}


def test_an_edited_kev_row_is_not_believed(tmp_path: Path) -> None:
    open_kev(KEV, tmp_path)
    [index] = _indexes(tmp_path, "kev")
    _tamper(index, "UPDATE kev SET date_added = 'soon' WHERE cve = 'CVE-2021-44228'")
    indexed = open_kev(KEV, tmp_path)
    assert indexed.lookup({"CVE-2021-44228"}) == KevCatalog.load(KEV).lookup({"CVE-2021-44228"})


def test_a_killed_build_leaves_no_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _small_epss(tmp_path, "CVE-2024-1000,0.25,0.5\n")

    def killed(*_: object) -> None:
        raise KeyboardInterrupt  # as if the process died between writing and renaming

    monkeypatch.setattr(feedstore.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        feedstore.index_epss(tmp_path, feedstore.digest(path.read_bytes()), EpssScores.load(path))
    monkeypatch.undo()
    assert list(index_dir(tmp_path).iterdir()) == []  # the temporary file went too
    assert isinstance(open_epss(path, tmp_path), EpssScores)


def test_a_leftover_temporary_file_is_ignored_and_pruned(tmp_path: Path) -> None:
    path = _small_epss(tmp_path, "CVE-2024-1000,0.25,0.5\n")
    index_dir(tmp_path).mkdir(parents=True)
    leftover = index_dir(tmp_path) / ".epss-killed.tmp"
    leftover.write_bytes(b"half an index")
    os.utime(leftover, (0, 0))
    assert isinstance(open_epss(path, tmp_path), EpssScores)
    assert not leftover.exists()
    assert isinstance(open_epss(path, tmp_path), EpssIndex)


def test_a_changed_file_gets_its_own_index_and_old_ones_are_pruned(tmp_path: Path) -> None:
    path = tmp_path / "epss.csv"
    for i in range(feedstore.KEEP + 2):
        path.write_text(EPSS_HEAD + f"CVE-2024-1000,0.{i + 1},0.5\n")
        assert open_epss(path, tmp_path).lookup({"CVE-2024-1000"}) == {"CVE-2024-1000": ((i + 1) / 10, 0.5)}
        os.utime(_indexes(tmp_path, "epss")[0], (i, i))  # older, so pruned first
    assert len(_indexes(tmp_path, "epss")) == feedstore.KEEP
    assert open_epss(path, tmp_path).lookup({"CVE-2024-1000"}) == {"CVE-2024-1000": (0.6, 0.5)}


def test_an_unwritable_cache_only_costs_speed(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory should be")
    source = open_epss(EXAMPLES / "epss-scores.csv.gz", blocked)
    assert isinstance(source, EpssScores)
    assert source.count == 263
    assert isinstance(open_epss(EXAMPLES / "epss-scores.csv.gz", None), EpssScores)
