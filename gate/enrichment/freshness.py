"""How old a run's data may be: refuse feed data (KEV, EPSS: `feedregistry`) past the limit (or undated), note any
data past a week."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from gate.enrichment import feedregistry
from gate.errors import FeedError, InputError
from gate.model import FeedInfo
from gate.timeutil import age_days, utc, utcnow

DEFAULT_MAX_AGE = timedelta(days=30)
"""CISA adds KEV entries several times a week and FIRST rescores EPSS daily: a month is already generous."""
FUTURE_SLACK = timedelta(days=1)
"""Clock skew and time zones: a feed published 'tomorrow' somewhere is still real."""
NOTE_AFTER_DAYS = 7
"""Data older than this is worth a note in every report, well before the limit refuses it."""


def checked() -> frozenset[str]:
    """Names of the feeds whose age bounds what a run may conclude; Inspector answers have their own cache TTL."""
    return frozenset(f.name for f in feedregistry.FEEDS if f.age_checked)


def age_limit(option: timedelta | None, policy: timedelta | None) -> timedelta:
    """The one rule for how old KEV/EPSS data may be, for `check` and `feeds status` alike: the command line
    (or `GATE_MAX_FEED_AGE`, `gate.yaml`), else the policy's `max_feed_age`, else 30 days."""
    return option or policy or DEFAULT_MAX_AGE


def is_stale(as_of: datetime, now: datetime, max_age: timedelta) -> bool:
    """Older than `max_age` at `now`: what `require_fresh` refuses and `feeds status` calls stale."""
    return utc(now) - utc(as_of) > max_age


def age_text(age: timedelta) -> str:
    return f"{age.days} days" if age >= timedelta(days=2) else f"{age.total_seconds() / 3600:.0f} hours"


def require_fresh(feeds: Iterable[FeedInfo], now: datetime, max_age: timedelta = DEFAULT_MAX_AGE, *,
                  clock: Callable[[], datetime] = utcnow) -> None:
    """Raise `FeedError` (exit 3) naming the first KEV/EPSS feed dated more than `max_age` before `now`.

    A feed dated after today (by the real clock, whatever `now` is) is `InputError`: no age limit
    could ever catch a forged or damaged date in the future.
    """
    today = clock()
    names = checked()
    for feed in feeds:
        if feed.name not in names:
            continue
        fix = ("run `gate feeds update` or pass newer files; to judge an old scan give its date with --as-of; "
               "the limit is set by --max-feed-age or the policy's max_feed_age")
        if feed.as_of is None:
            raise FeedError(f"{feed.name} from {feed.source} has no date, so it may be any age", hint=fix)
        if utc(feed.as_of) > today + FUTURE_SLACK:
            raise InputError(f"{feed.name} from {feed.source} is dated {utc(feed.as_of).isoformat()}, after "
                             f"today ({today.date().isoformat()}): the file is damaged or not what it claims",
                             hint="download it again with `gate feeds update`")
        age = utc(now) - utc(feed.as_of)
        if is_stale(feed.as_of, now, max_age):
            # NOTE: days counted as calendar days in UTC, as the report's notes and fields count ages.
            shown = f"{age_days(feed.as_of, now)} days" if age >= timedelta(days=2) else age_text(age)
            raise FeedError(f"{feed.name} from {feed.source} is data of {utc(feed.as_of).date().isoformat()}, "
                            f"{shown} before the evaluation time {utc(now).date().isoformat()} "
                            f"(limit {age_text(max_age)})", hint=fix)


def age_notes(feeds: Iterable[FeedInfo], now: datetime) -> list[str]:
    """One note per source whose data is more than a week old at `now`."""
    notes: list[str] = []
    for feed in feeds:
        age = age_days(feed.as_of, now)
        if feed.as_of is not None and age is not None and age > NOTE_AFTER_DAYS:
            notes.append(f"{feed.name} data is {age} days old ({utc(feed.as_of).date()}); "
                         "refresh it with `gate feeds update` or newer files")
    return notes
