"""The offline feeds gate downloads, caches, indexes and age-checks: one entry each, one table.

`feeds` (download), `feedstore` (index), `freshness` (age), `inventory` (what is cached), `inputs` (the
enrichers of a run) and the `feeds`, `feeds status` and `version` commands iterate `FEEDS`; a feed's own
module (named by its entry, imported on use) supplies its `FeedFormat`: how to parse, index and enrich.
A new feed is one entry here plus that module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gate.errors import UsageError
from gate.fields import FIELDS, DataKind


@dataclass(frozen=True)
class FeedFormat:
    """What a feed's module supplies (as `FORMAT`): everything that differs from one feed to another.

    `parse(data, origin)` validates a whole (plain or gzipped) file and returns the feed data: an object
    with `origin`, `count`, `notes`, `as_of`, `version` and `lookup(ids)`. `index` is the class that answers
    the same from the SQLite index (a `feedindex.Indexed`); `schema` and `insert` its one table, named after
    the feed's key, whose `rows` come from the parsed data.
    """

    parse: Callable[[bytes, str], Any]
    describe: Callable[[Any], str]
    """One line for `gate feeds update` and reports: `catalog 2025.08.28, 1,421 entries`."""
    enricher: Callable[[Any], Any]
    """The `Enricher` answering from the data (parsed or indexed)."""
    index: Callable[..., Any]
    schema: str
    insert: str
    rows: Callable[[Any], Iterable[tuple[Any, ...]]]


@dataclass(frozen=True)
class Feed:
    """One offline feed: its names, where it comes from, where it is kept, and what it answers."""

    key: str
    """Short and stable: the index's kind and table, `--KEY-url`, `GATE_KEY_URL`, `gate version`'s JSON key."""
    name: str
    """As reports and messages name it."""
    short: str
    """As help text names it: `KEV`."""
    description: str
    url: str
    """The default download (`--KEY-url` overrides it)."""
    url_help: str
    file: str
    """The file name in the cache's `feeds` folder."""
    module: str
    """The module whose `FORMAT` parses, indexes and enriches."""
    provides: tuple[DataKind, ...]
    """The kinds of data it answers (`fields.DataKind`): the fields it answers follow from `fields.FIELDS`."""
    option: str
    """The `gate check` option that passes a file instead of the cached one."""
    version_word: str
    """What its version is called: `catalog` (KEV's catalogVersion), `model` (EPSS's model_version)."""
    age_checked: bool = True
    """Its age bounds what a run may conclude (`freshness.require_fresh`)."""

    def format(self) -> FeedFormat:
        fmt: FeedFormat = importlib.import_module(self.module).FORMAT
        return fmt

    def fields(self) -> tuple[str, ...]:
        """The policy fields this feed can answer."""
        return tuple(name for name, field in FIELDS.items() if set(field.sources) & set(self.provides))


FEEDS: tuple[Feed, ...] = (
    Feed(key="kev", name="CISA KEV", short="KEV", description="CISA's KEV catalog",
         url="https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
         url_help="CISA's JSON feed", file="known_exploited_vulnerabilities.json", module="gate.enrichment.kev",
         provides=(DataKind.KEV,), option="--kev-catalog", version_word="catalog"),
    # NOTE: FIRST's "current" EPSS file (served by Empirical Security for FIRST; redirects to the dated file).
    Feed(key="epss", name="FIRST EPSS", short="EPSS", description="FIRST's EPSS scores",
         url="https://epss.empiricalsecurity.com/epss_scores-current.csv.gz", url_help="FIRST's current CSV",
         file="epss_scores-current.csv.gz", module="gate.enrichment.epss", provides=(DataKind.EPSS,),
         option="--epss-scores", version_word="model"),
)
"""Every offline feed, in the order runs enrich with them and commands list them. Read as `feedregistry.FEEDS`
at call time (never copied at import), so a test may register another."""


def supported() -> str:
    return ", ".join(f.key for f in FEEDS)


def feed(key: str) -> Feed:
    """The feed called `key`; an unknown one is a `UsageError` that lists the supported set."""
    for candidate in FEEDS:
        if candidate.key == key:
            return candidate
    raise UsageError(f"unknown feed {key!r}; supported: {supported()}")
