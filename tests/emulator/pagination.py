"""Opaque nextTokens bound to one listing, with the pagination faults applied."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import service_error
from .faults import FaultState

T = TypeVar("T")


@dataclass(frozen=True)
class Cursor:
    """Where a nextToken resumes: its listing, the next offset, the page it leads to."""

    listing: str
    offset: int
    page: int


def listing_key(operation: str, criteria: Mapping[str, Any]) -> str:
    """A canonical name for one listing: the operation and the criteria that select items."""
    return f"{operation}:{json.dumps(criteria, sort_keys=True, default=str)}"


class Pager:
    """Issues and redeems nextTokens; a token is only good for the listing that minted it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: dict[str, Cursor] = {}

    def _issue(self, cursor: Cursor) -> str:
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._cursors[token] = cursor
        return token

    def page(
        self,
        service: str,
        operation: str,
        listing: str,
        items: Sequence[T],
        size: int,
        token: str | None,
        faults: FaultState,
    ) -> tuple[list[T], str | None]:
        """The page of ``items`` that ``token`` asks for, and the nextToken after it."""
        cursor = Cursor(listing, 0, 1)
        if token is not None:
            with self._lock:
                known = self._cursors.get(token)
            if known is None or known.listing != listing:
                why = "unknown" if known is None else "issued for another listing"
                raise service_error(
                    service,
                    "bad_token",
                    "The provided pagination token is invalid",
                    violation=f"{operation}: nextToken {why}",
                )
            if faults.token_rejected(operation, known.page - 1):
                raise service_error(service, "bad_token", "The pagination token has expired")
            cursor = known
        end = cursor.offset + size
        chunk = list(items[cursor.offset : end])
        if end >= len(items):
            return chunk, None
        if token is not None and faults.repeats_token(operation, cursor.page):
            return chunk, token
        return chunk, self._issue(Cursor(listing, end, cursor.page + 1))
