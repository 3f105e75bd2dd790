"""Time on the wire and in reports: parse what AWS and files give, always as UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from gate.errors import ShapeError


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
        return datetime.fromtimestamp(float(value), tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as e:
            raise ShapeError(f"bad timestamp {value!r}") from e
    else:
        raise ShapeError(f"bad timestamp {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


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


_DURATION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `30m`, `24h`, `7d`; `0` is zero. Raises ValueError naming the text."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration (e.g. 90s, 30m, 24h, 0)")
    return timedelta(seconds=float(match["number"]) * _UNITS[match["unit"]])


def parse_instant(text: str) -> datetime:
    """`YYYY-MM-DD` or an ISO-8601 time, as UTC. Raises ValueError naming the text."""
    try:
        value = to_utc(text)
    except ShapeError:
        raise ValueError(f"{text!r}: expected YYYY-MM-DD or an ISO-8601 time") from None
    if value is None:
        raise ValueError("empty time")
    return value
