"""One CVE listed twice in one feed: the same values twice are noted; different values are refused, never resolved.

Whichever copy a reader kept (the last row, the first record) would decide the verdict, and nothing
says which one the publisher meant: a 0.9 EPSS row followed by a 0.1 row must not read as 0.1.
"""

from __future__ import annotations

from gate.errors import InputError

SHOWN = 3
"""Repeated CVEs a note names; it counts the rest."""


class Repeats:
    """Collects a feed's identical repeats for a note; `add` raises `InputError` on a conflicting one."""

    def __init__(self, feed: str, origin: str) -> None:
        self._feed = feed
        self._origin = origin
        self._same: list[tuple[str, str, str]] = []

    def add(self, cve: str, first: str, again: str, *, same: bool, hint: str) -> None:
        """`cve` seen at `first`, then again at `again` (places such as `line 7`), with the `same` content or not."""
        if not same:
            raise InputError(f"{self._origin}: {cve} is listed twice with different values, at {first} and at "
                             f"{again}: gate will not pick one", hint=hint)
        self._same.append((cve, first, again))

    def notes(self) -> tuple[str, ...]:
        """One note naming the identical repeats (none when there are none)."""
        if not self._same:
            return ()
        shown = "; ".join(f"{cve} at {a} and {b}" for cve, a, b in self._same[:SHOWN])
        more = f"; and {len(self._same) - SHOWN} more" if len(self._same) > SHOWN else ""
        count = f"{len(self._same)} CVE" + ("s" if len(self._same) > 1 else "")
        return (f"{self._feed} {self._origin} lists {count} twice with identical values ({shown}{more}); "
                "each was read once",)
