"""A paginated listing of findings that survives one rejected pagination token without yielding anything twice."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from gate.errors import AwsCallError, AwsError, IncompleteError, ShapeError
from gate.model import Finding

T = TypeVar("T")


@dataclass(frozen=True)
class Listing:
    """One API's listing: how to start a pass over its pages and how to read a page's findings."""

    action: str
    """`service:Operation`, for messages."""
    service: str
    """The service's name as users know it, e.g. `Image Builder`."""
    cursor: str
    """What the API calls its pagination token, e.g. `nextToken`."""
    bad_tokens: Collection[str]
    """Error codes that mean the token was rejected."""
    pages: Callable[[], Iterator[Mapping[str, Any]]]
    """A fresh pass: every response from the first page on."""
    findings: Callable[[Mapping[str, Any]], Iterable[Finding]]
    """A response's findings; may raise `ShapeError`."""


def restartable(listing: Listing, progress: Callable[[str], None]) -> Generator[list[Finding], None, int]:
    """Every finding once; returns how many.

    If the API rejects a token mid-listing, the listing restarts once from the first page. Pages
    already yielded cannot be taken back, so the second pass skips each finding already yielded
    (matched by `Finding.key`, counting repeats); one yielded before the restart that the second pass
    no longer lists is an `IncompleteError`, and a second rejection an `AwsError`.
    """
    yielded: Counter[str] = Counter()
    skip: Counter[str] = Counter()
    restarted = False
    while True:
        try:
            yield from _one_pass(listing, yielded, skip)
        except AwsCallError as e:
            if e.code not in listing.bad_tokens:
                raise
            if restarted:
                raise AwsError(f"{listing.action} rejected a {listing.cursor} again after restarting the listing",
                               hint=f"{listing.service}'s pagination is unstable; retry later") from e
            restarted = True
            skip = Counter(yielded)
            progress(f"{listing.service} rejected a pagination token; listing again from the start")
            continue
        missing = sum(skip.values())
        if missing:
            raise IncompleteError(f"{missing} findings listed before a pagination restart were missing after it",
                                  hint="the findings changed while being listed; run gate again")
        return sum(yielded.values())


_END = object()
AHEAD = 2
"""Responses fetched ahead of the reader at most (bounds memory if the reader is slow)."""


def prefetched(pages: Iterator[T]) -> Generator[T, None, None]:
    """`pages`, each next page requested (in a thread) as soon as the one before has arrived.

    The bare pagination loop only asks for the next page; gate also turns each response into
    findings and hands new ids to the enricher. Doing that while the next request is in flight
    takes it off the sequential path. Items and the first error arrive in order; closing the
    iterator early lets the thread stop after at most the page in flight.
    """
    ready: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def put(item: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not put((page, None)):
                    return
        except BaseException as e:  # NOTE: handed to the reader, where it is raised in order
            put((_END, e))
            return
        put((_END, None))

    threading.Thread(target=fetch, name="gate-pages", daemon=True).start()
    try:
        while True:
            page, error = ready.get()
            if error is not None:
                raise error
            if page is _END:
                return
            yield page
    finally:
        stop.set()


def _one_pass(listing: Listing, yielded: Counter[str], skip: Counter[str]) -> Iterator[list[Finding]]:
    # NOTE: closed on the way out, whatever the way: the fetching thread stops at once, not when garbage collected.
    with contextlib.closing(prefetched(listing.pages())) as responses:
        for response in responses:
            fresh: list[Finding] = []
            try:
                found = list(listing.findings(response))
            except ShapeError as e:
                raise AwsError(f"{listing.action} returned a finding gate cannot read: {e}",
                               hint="report this to the gate maintainers with the finding") from e
            for finding in found:
                if skip[finding.key] > 0:
                    skip[finding.key] -= 1
                    continue
                fresh.append(finding)
            yielded.update(f.key for f in fresh)
            if fresh:
                yield fresh
