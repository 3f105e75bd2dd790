"""The feed age limit: KEV/EPSS data older than the limit at the evaluation time, or undated, stops the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gate.enrichment.freshness import DEFAULT_MAX_AGE, require_fresh
from gate.errors import ExitCode, FeedError, InputError
from gate.model import FeedInfo
from gate.timeutil import parse_hours_or_days

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _feed(name: str, age: timedelta | None) -> FeedInfo:
    return FeedInfo(name=name, source="/feeds/x", as_of=None if age is None else NOW - age, detail=None)


def _clock() -> datetime:
    return NOW + timedelta(days=5)


def test_fresh_feeds_and_other_sources_pass() -> None:
    require_fresh([_feed("CISA KEV", timedelta(days=30)), _feed("FIRST EPSS", timedelta(hours=1)),
                   _feed("Amazon Inspector", None), _feed("Amazon Inspector (saved)", timedelta(days=900))],
                  NOW, clock=_clock)
    require_fresh([_feed("FIRST EPSS", timedelta(days=-3))], NOW, clock=_clock)  # newer than --as-of: not stale


@pytest.mark.parametrize("name", ["CISA KEV", "FIRST EPSS"])
def test_a_feed_dated_after_today_is_invalid_whatever_the_as_of(name: str) -> None:
    require_fresh([_feed(name, timedelta(days=-5))], NOW - timedelta(days=30), clock=_clock)  # today, by the clock
    with pytest.raises(InputError, match=f"{name} from /feeds/x is dated 2026-11-28.*after today") as err:
        require_fresh([_feed(name, timedelta(days=-7))], NOW - timedelta(days=30), clock=_clock)
    assert err.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize("name", ["CISA KEV", "FIRST EPSS"])
def test_a_feed_older_than_the_limit_stops_the_run(name: str) -> None:
    with pytest.raises(FeedError) as err:
        require_fresh([_feed(name, timedelta(days=30, seconds=1))], NOW)
    assert err.value.exit_code == ExitCode.INCOMPLETE
    line = err.value.diagnostics()
    assert line.startswith(f"{name} from /feeds/x is data of 2026-10-22, 30 days before the evaluation "
                           "time 2026-11-21 (limit 30 days)")
    assert "gate feeds update" in line
    assert "\n" not in line


def test_an_undated_feed_counts_as_too_old() -> None:
    with pytest.raises(FeedError, match="CISA KEV from /feeds/x has no date"):
        require_fresh([_feed("FIRST EPSS", timedelta(0)), _feed("CISA KEV", None)], NOW, timedelta(days=3650))


def test_the_limit_is_configurable() -> None:
    require_fresh([_feed("CISA KEV", timedelta(days=400))], NOW, parse_hours_or_days("400d"))
    with pytest.raises(FeedError, match=r"2 days before .* \(limit 36 hours\)"):
        require_fresh([_feed("FIRST EPSS", timedelta(hours=48))], NOW, parse_hours_or_days("36h"))
    assert parse_hours_or_days("30d") == DEFAULT_MAX_AGE


@pytest.mark.parametrize("text", ["30", "0d", "30m", "-1d", "3651d", "9999999d", "1e3d", "d", "", "nan"])
def test_bad_ages_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not an age|is outside"):
        parse_hours_or_days(text)
