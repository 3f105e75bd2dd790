"""Pages fetched ahead of their reader: the same pages in the same order, errors in place, nothing fetched far ahead."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from gate.errors import AwsError, ShapeError
from gate.model import Finding
from gate.sources.listing import AHEAD, Listing, prefetched, restartable


class Pages:
    """A listing of `count` pages that notes each request and can fail at one page."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.requested: list[int] = []
        self.gate = threading.Semaphore(0)
        """Each release lets one more page be fetched (so a test controls how far ahead the thread can get)."""
        self.done = threading.Event()

    def __iter__(self) -> Iterator[int]:
        try:
            for n in range(self.count):
                self.gate.acquire()
                self.requested.append(n)
                if n == self.fail_at:
                    raise AwsError(f"page {n} failed")
                yield n
        finally:
            self.done.set()


def _free(pages: Pages) -> Pages:
    for _ in range(pages.count):
        pages.gate.release()
    return pages


def test_every_page_in_order() -> None:
    assert list(prefetched(iter(_free(Pages(50))))) == list(range(50))
    assert list(prefetched(iter(_free(Pages(0))))) == []


def test_an_error_arrives_after_the_pages_before_it() -> None:
    reader = prefetched(iter(_free(Pages(10, fail_at=3))))
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(AwsError, match="page 3 failed"):
        next(reader)


def test_the_next_page_is_requested_before_the_reader_asks_and_no_further_than_allowed() -> None:
    pages = _free(Pages(20))
    reader = prefetched(iter(pages))
    assert next(reader) == 0
    # the thread runs ahead while the reader holds page 0, but only as far as the queue allows
    for _ in range(500):
        if len(pages.requested) > AHEAD:
            break
        threading.Event().wait(0.01)
    assert len(pages.requested) > AHEAD  # pages 1.. were requested without the reader asking
    threading.Event().wait(0.2)  # room to run further ahead, which it must not
    assert len(pages.requested) <= AHEAD + 2  # queued pages, plus the one waiting to be queued
    assert list(reader) == list(range(1, 20))


def test_closing_early_stops_the_thread() -> None:
    pages = _free(Pages(1000))
    reader = prefetched(iter(pages))
    assert next(reader) == 0
    reader.close()
    assert pages.done.wait(5)  # the thread left the listing (its generator was closed)
    assert len(pages.requested) < 1000


def test_a_page_gate_cannot_read_stops_the_fetching_at_once() -> None:
    pages = _free(Pages(1000))

    def findings(response: Mapping[str, Any]) -> list[Finding]:
        if response["n"] == 2:
            raise ShapeError("no vulnerability id")
        return []

    listing = Listing(action="test:List", service="Test", cursor="nextToken", bad_tokens=(),
                      pages=lambda: ({"n": n} for n in pages), findings=findings)
    with pytest.raises(AwsError, match="returned a finding gate cannot read") as caught:
        list(restartable(listing, progress=lambda _: None))
    assert caught.value is not None  # NOTE: the traceback (and its frames) are still alive here
    assert pages.done.wait(5)  # yet the thread has left the listing
    assert len(pages.requested) <= 3 + AHEAD + 1
