"""One table of offline feeds: a third feed is its `feedregistry.Feed` entry plus its parser module, and an unknown
feed is refused with the supported set read from the same table."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.enrichment import feedregistry
from gate.enrichment.feeds import cached_feed_paths, update_feeds
from gate.enrichment.feedstore import open_feed
from gate.errors import ExitCode, UsageError
from gate.fields import FIELDS, DataKind
from gate.inputs import Inputs, offline_enrichers
from tests.enrichment import fakefeed
from tests.enrichment.feed_server import Served, Site, site

__all__ = ["site"]

FAKE = feedregistry.Feed(key="fake", name=fakefeed.NAME, short="FAKE", description="a test's fake flags",
                         url="https://example.invalid/fake.csv", url_help="nowhere", file="fake.csv",
                         module="tests.enrichment.fakefeed", provides=(), option="--fake-file", version_word="fake")
FAKE_BODY = b"#as_of:2025-08-27T00:00:00Z\ncve,flag\nCVE-2024-0001,yes\nCVE-2024-0002,no\n"


@pytest.fixture
def fake_registered(monkeypatch: pytest.MonkeyPatch, site: Site) -> Site:
    monkeypatch.setattr(feedregistry, "FEEDS", (*feedregistry.FEEDS, FAKE))
    site.files["/fake.csv"] = Served(FAKE_BODY, '"fake-1"')
    return site


def _update(site: Site, cache: Path) -> list[str]:
    infos = update_feeds(cache, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz",
                         fake_url=f"{site.url}/fake.csv", timeout=5)
    return [i.name for i in infos]


def test_a_registered_feed_is_downloaded_indexed_and_used_by_a_run(fake_registered: Site, tmp_path: Path) -> None:
    assert _update(fake_registered, tmp_path) == ["CISA KEV", "FIRST EPSS", "Fake Feed"]
    fake_path = cached_feed_paths(tmp_path)[2]
    assert fake_path is not None and fake_path.read_bytes() == FAKE_BODY
    indexed = open_feed(FAKE, fake_path, tmp_path)
    assert isinstance(indexed, fakefeed.FakeIndex)  # `update` indexed it, as it does KEV and EPSS
    assert indexed.lookup({"CVE-2024-0002", "CVE-2099-0001"}) == {"CVE-2024-0002": "no"}
    enrichers = offline_enrichers(Inputs(findings=(tmp_path / "unused.json",), cache_dir=tmp_path))
    assert [type(e).__name__ for e in enrichers] == ["KevEnricher", "EpssEnricher", "FakeEnricher"]


def test_feeds_status_and_version_list_a_registered_feed(fake_registered: Site, isolated_env: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    cache = isolated_env / "cache"
    assert main(["feeds", "status", "--as-of", "2025-08-29"]) == ExitCode.INCOMPLETE
    assert f"Fake Feed: missing ({cache / 'feeds' / 'fake.csv'}); run `gate feeds update`" in capsys.readouterr().out
    assert main(["feeds", "update", "--kev-url", f"{fake_registered.url}/kev.json", "--epss-url",
                 f"{fake_registered.url}/epss.csv.gz", "--fake-url", f"{fake_registered.url}/fake.csv"]) == 0
    assert "Fake Feed: downloaded; fake f1, 2 flags (data of 2025-08-27)" in capsys.readouterr().out
    assert main(["feeds", "status", "--as-of", "2025-08-29"]) == ExitCode.PASS
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["CISA KEV", "FIRST EPSS", "Fake Feed", "limit"]
    assert lines[2].startswith("Fake Feed: fresh — data of 2025-08-27 (2 days old)")
    assert main(["feeds", "status", "--as-of", "2025-10-29"]) == ExitCode.INCOMPLETE
    assert "Fake Feed: STALE" in capsys.readouterr().out
    assert main(["version"]) == ExitCode.PASS
    assert "Fake Feed: fake f1, data of 2025-08-27" in capsys.readouterr().out


def test_an_unknown_feed_is_refused_with_the_supported_set() -> None:
    with pytest.raises(UsageError, match=r"unknown feed 'nvd'; supported: kev, epss$"):
        feedregistry.feed("nvd")
    with pytest.raises(UsageError, match=r"unknown feed URL 'nvd_url'; supported feeds: kev, epss$"):
        update_feeds(Path("/nonexistent"), nvd_url="https://example.invalid/nvd.json")


def test_the_supported_set_is_read_from_the_table_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feedregistry, "FEEDS", (*feedregistry.FEEDS, FAKE))
    with pytest.raises(UsageError, match=r"supported: kev, epss, fake$"):
        feedregistry.feed("nvd")


@pytest.mark.parametrize("key", [f.key for f in feedregistry.FEEDS])
def test_each_entry_agrees_with_its_module(key: str) -> None:
    spec = feedregistry.feed(key)
    module = importlib.import_module(spec.module)
    assert module.FORMAT is spec.format()
    assert module.FEED is spec and spec.name == module.FEED_NAME  # the module reads its names from the entry
    assert spec.url.startswith("https://") and spec.provides
    assert spec.format().schema.startswith(f"CREATE TABLE {spec.key} ")  # the index's table is named by the key
    for kind in spec.provides:
        assert kind in DataKind and kind in module.FORMAT.enricher.provides
    assert spec.fields() and all(set(FIELDS[name].sources) & set(spec.provides) for name in spec.fields())


def test_keys_names_and_files_are_distinct() -> None:
    for attribute in ("key", "name", "short", "file", "module", "option"):
        values = [getattr(f, attribute) for f in feedregistry.FEEDS]
        assert len(set(values)) == len(values), attribute
