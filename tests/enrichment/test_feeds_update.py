"""`update_feeds` against a local HTTP server serving the real KEV and EPSS files, with validators."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.enrichment.epss import EpssScores
from gate.enrichment.feeds import cached_feed_paths, update_feeds
from gate.enrichment.feedstore import EpssIndex, KevIndex, open_epss, open_kev
from gate.enrichment.kev import KevCatalog
from gate.errors import FeedError
from tests.enrichment.feed_data import EPSS, EPSS_SMALL, KEV
from tests.enrichment.feed_server import Served, Site, site

__all__ = ["site"]


def _update(site: Site, cache: Path) -> list[str]:
    infos = update_feeds(cache, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz", timeout=5,
                         sleep=lambda _: None)
    return [f"{i.name}: {i.detail}" for i in infos]


def test_first_download_stores_validated_feeds(site: Site, tmp_path: Path) -> None:
    site.files["/epss.csv.gz"] = Served(EPSS, '"epss-full"')
    infos = update_feeds(tmp_path, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz")
    assert [i.name for i in infos] == ["CISA KEV", "FIRST EPSS"]
    assert infos[0].detail == "downloaded; catalog 2025.08.25, 1404 entries"
    assert infos[0].as_of == datetime(2025, 8, 25, 17, 4, 19, 979600, tzinfo=UTC)
    assert infos[1].detail == "downloaded; model v2025.03.14, 291419 scores"
    assert infos[1].as_of == datetime(2025, 8, 28, 12, 55, tzinfo=UTC)
    kev_path, epss_path = cached_feed_paths(tmp_path)
    assert kev_path is not None
    assert epss_path is not None
    assert kev_path.read_bytes() == KEV
    assert epss_path.read_bytes() == EPSS
    assert len(KevCatalog.load(kev_path).entries) == 1404
    assert [r[1:] for r in site.requests] == [(None, None), (None, None)]


def test_an_unchanged_feed_is_not_downloaded_again(site: Site, tmp_path: Path) -> None:
    _update(site, tmp_path)
    before = cached_feed_paths(tmp_path)[0]
    assert before is not None
    stamp = before.stat().st_mtime_ns
    assert _update(site, tmp_path) == ["CISA KEV: not modified; catalog 2025.08.25, 1404 entries",
                                       "FIRST EPSS: not modified; model v2025.03.14, 498 scores"]
    assert site.requests[2][1:] == ('"kev-1"', "Mon, 25 Aug 2025 17:04:19 GMT")
    assert site.requests[3][1] == '"epss-1"'
    assert before.stat().st_mtime_ns == stamp


def test_a_changed_feed_replaces_the_old_copy(site: Site, tmp_path: Path) -> None:
    _update(site, tmp_path)
    smaller = gzip.compress(b"\n".join(gzip.decompress(EPSS_SMALL).split(b"\n")[:10]) + b"\n")
    site.files["/epss.csv.gz"] = Served(smaller, '"epss-2"')
    assert _update(site, tmp_path)[1] == "FIRST EPSS: downloaded; model v2025.03.14, 8 scores"
    epss_path = cached_feed_paths(tmp_path)[1]
    assert epss_path is not None
    assert len(EpssScores.load(epss_path).scores) == 8


@pytest.mark.parametrize(("path", "body", "message"), [
    pytest.param("/kev.json", b'{"title": "not a catalog"}',
                 "the downloaded CISA KEV is invalid: .*no 'vulnerabilities'", id="kev-not-a-catalog"),
    pytest.param("/kev.json", KEV[: len(KEV) // 2], "the downloaded CISA KEV is invalid: .*not JSON",
                 id="kev-cut-short"),
    pytest.param("/kev.json", b'{"dateReleased": "2026-11-20T00:00:00Z", "vulnerabilities": []}', "has no entries",
                 id="kev-empty"),
    pytest.param("/kev.json", KEV.replace(b'"dateReleased": "2025-08-25T17:04:19.9796Z",', b""), "has no dateReleased",
                 id="kev-undated"),
    pytest.param("/epss.csv.gz",
                 gzip.compress(b"#model_version:v1,score_date:2026-11-20T00:00:00Z\ncve,epss,percentile\n"),
                 "has no scores", id="epss-no-scores"),
    pytest.param("/epss.csv.gz", gzip.compress(b"cve,epss,percentile\nCVE-2024-1,0.5,0.5\n"), "no '#model_version",
                 id="epss-no-model-version"),
    pytest.param("/epss.csv.gz", EPSS_SMALL[: len(EPSS_SMALL) // 2], "damaged gzip file", id="epss-cut-short"),
    pytest.param("/epss.csv.gz", gzip.compress(b"cve,epss,percentile\nCVE-2024-1,7,0.5\n"), "outside 0..1",
                 id="epss-score-out-of-range"),
    pytest.param("/epss.csv.gz", b"<html>maintenance</html>", "not an EPSS CSV", id="epss-html-page"),
])
def test_a_corrupt_download_is_rejected_and_the_old_copy_kept(site: Site, tmp_path: Path, path: str,
                                                              body: bytes, message: str) -> None:
    _update(site, tmp_path)
    kev_path, epss_path = cached_feed_paths(tmp_path)
    assert kev_path is not None
    assert epss_path is not None
    old = (kev_path.read_bytes(), epss_path.read_bytes())
    site.files[path] = Served(body, '"broken"')
    with pytest.raises(FeedError, match=message) as err:
        _update(site, tmp_path)
    assert "the previous copy is kept" in err.value.message
    assert (kev_path.read_bytes(), epss_path.read_bytes()) == old
    good = {"/kev.json": Served(KEV, '"kev-1"'), "/epss.csv.gz": Served(EPSS_SMALL, '"epss-1"')}
    site.files[path] = good[path]
    assert all("not modified" in line for line in _update(site, tmp_path))


def test_a_server_error_is_a_feed_error(site: Site, tmp_path: Path) -> None:
    site.files["/kev.json"] = Served(b"", '"x"', status=503)
    message = r"cannot download CISA KEV from .*/kev.json: HTTP 503 .*\(after 4 attempts\)"
    with pytest.raises(FeedError, match=message) as err:
        _update(site, tmp_path)
    assert err.value.hint
    kev_path, epss_path = cached_feed_paths(tmp_path)
    assert kev_path is None
    assert epss_path is not None  # NOTE: each feed is tried; one failing does not stop the other.


def test_an_unreachable_server_is_a_feed_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match=r"cannot download CISA KEV from http://127\.0\.0\.1:9/"):
        update_feeds(tmp_path, kev_url="http://127.0.0.1:9/kev.json", epss_url="http://127.0.0.1:9/e.csv.gz",
                     timeout=2)
    assert cached_feed_paths(tmp_path) == (None, None)


def test_an_update_indexes_the_stored_feeds(site: Site, tmp_path: Path) -> None:
    _update(site, tmp_path)
    kev_path, epss_path = cached_feed_paths(tmp_path)
    assert kev_path is not None
    assert epss_path is not None
    assert isinstance(open_kev(kev_path, tmp_path), KevIndex)  # no parse left for the first check
    epss = open_epss(epss_path, tmp_path)
    assert isinstance(epss, EpssIndex)
    assert epss.lookup({"CVE-1999-0001"}) == EpssScores.load(epss_path).lookup({"CVE-1999-0001"})


@pytest.mark.parametrize("failures", [[503, 502], ["stall"], ["cut"], [500, "stall", 429]])
def test_transient_failures_are_retried_with_backoff(site: Site, tmp_path: Path, failures: list[int | str]) -> None:
    site.files["/kev.json"].fail_first = list(failures)
    pauses: list[float] = []
    infos = update_feeds(tmp_path, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz",
                         timeout=0.5, sleep=pauses.append)
    assert infos[0].detail == "downloaded; catalog 2025.08.25, 1404 entries"
    assert [r[0] for r in site.requests].count("/kev.json") == len(failures) + 1
    assert len(pauses) == len(failures)
    assert all(0 <= p < min(15.0, 2.0**n) for n, p in enumerate(pauses))  # full jitter, doubling


def test_a_failure_that_lasts_ends_after_four_attempts_keeping_the_old_copy(site: Site, tmp_path: Path) -> None:
    _update(site, tmp_path)
    site.files["/kev.json"] = Served(KEV, '"kev-2"', fail_first=[500, 503, 504, 502])
    pauses: list[float] = []
    with pytest.raises(FeedError) as err:
        update_feeds(tmp_path, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz", timeout=5,
                     sleep=pauses.append)
    assert "CISA KEV" in err.value.message and "HTTP 502" in err.value.message
    assert "(after 4 attempts) (the previous copy is kept)" in err.value.message
    assert len(pauses) == 3
    kev_path, _ = cached_feed_paths(tmp_path)
    assert kev_path is not None and kev_path.read_bytes() == KEV


def test_a_client_error_is_not_retried(site: Site, tmp_path: Path) -> None:
    site.files["/kev.json"].status = 404
    pauses: list[float] = []
    with pytest.raises(FeedError, match="HTTP 404"):
        update_feeds(tmp_path, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz", timeout=5,
                     sleep=pauses.append)
    assert [r[0] for r in site.requests].count("/kev.json") == 1 and pauses == []
