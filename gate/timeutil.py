"""Time on the wire and in reports: parse what AWS and files give, always as UTC."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

from gate.errors import ShapeError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""`--as-of` must lie in [EARLIEST, LATEST): far enough from year 9999 that no date arithmetic overflows."""
MAX_DURATION = timedelta(days=3660)
"""No duration gate takes (wait, cache TTL, feed age) is meaningful beyond ten years; larger is a typo."""
_DURATION = re.compile(r"(?P<number>[0-9]{1,12}(?:\.[0-9]{1,9})?)\s*(?P<unit>[smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def utcnow() -> datetime:
    """Now, in UTC; the one clock every stage reads unless a test injects its own."""
    return datetime.now(UTC)


def to_utc(value: object) -> datetime | None:
    """Accept what the wire, the AWS CLI or boto3 gives (epoch seconds, ISO-8601, datetime)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as e:  # NaN, 1e300, beyond year 9999
            raise ShapeError(f"bad timestamp {_short(value)}") from e
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as e:
            raise ShapeError(f"bad timestamp {_short(value)}") from e
    else:
        raise ShapeError(f"bad timestamp {_short(value)}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError as e:  # 9999-12-31T23:59:59-12:00 is past the last representable instant
        raise ShapeError(f"bad timestamp {_short(value)} (out of range)") from e


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_instant(text: str) -> datetime:
    """`YYYY-MM-DD` or an ISO-8601 time, as UTC, within [EARLIEST, LATEST); ValueError names the text."""
    try:
        value = to_utc(text)
    except ShapeError as e:
        if not isinstance(e.__cause__, OverflowError):
            raise ShapeError(f"{_short(text)}: expected YYYY-MM-DD or an ISO-8601 time") from None
        value = None
    if value is None or not EARLIEST <= value < LATEST:
        raise ShapeError(f"{_short(text)}: outside {EARLIEST.date()}..{LATEST.date()}")
    return value


def parse_duration(text: str, maximum: timedelta = MAX_DURATION) -> timedelta:
    """`90`, `90s`, `30m`, `24h`, `7d` (`0` is zero), at most `maximum` (waits, timeouts, TTLs); ValueError names the
    text. Spans in whole hours or days only, from an hour up, are `parse_hours_or_days`'s."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ShapeError(f"{_short(text)} is not a duration (e.g. 90s, 30m, 24h, 7d, 0)")
    seconds = float(match["number"]) * _UNITS[match["unit"]]
    if not math.isfinite(seconds) or seconds > maximum.total_seconds():
        raise ShapeError(f"{_short(text)} is longer than the maximum, {_human(maximum)}")
    return timedelta(seconds=seconds)


def _human(value: timedelta) -> str:
    if value.seconds == 0 and value.microseconds == 0:
        return f"{value.days}d"
    return f"{value.total_seconds():g}s"


def utc(value: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_day(value: date | datetime) -> date:
    """Calendar day in UTC."""
    return utc(value).date() if isinstance(value, datetime) else value


def age_days(then: date | datetime | None, now: date | datetime | None) -> int | None:
    """Whole days from `then` to `now`; None when either is unknown (never guessed from a clock)."""
    if then is None or now is None:
        return None
    return (utc_day(now) - utc_day(then)).days


def iso(value: datetime | None) -> str | None:
    """ISO-8601 text for JSON, or None."""
    return value.isoformat() if value else None


_AGE = re.compile(r"([0-9]{1,6})\s*([hd])")
LONGEST_AGE = timedelta(days=3650)


def parse_hours_or_days(text: str) -> timedelta:
    """A long span in whole hours or days, such as `30d` or `36h`, from 1 hour to 10 years (feed age limits,
    `--since`, a sweep's cache TTL); ValueError names the accepted form. Seconds and minutes are `parse_duration`'s."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not an age like 30d or 36h")
    age = timedelta(hours=int(match[1])) if match[2] == "h" else timedelta(days=int(match[1]))
    if not timedelta(hours=1) <= age <= LONGEST_AGE:
        raise ValueError(f"{text!r} is outside 1h..{LONGEST_AGE.days}d")
    return age
