"""Read JSON files as the AWS CLI writes them, strictly, and check that paged exports are whole.

Shared by every reader of saved AWS output (Image Builder, Inspector, EC2, EventBridge): a file may
hold one document, an array of pages, or documents back to back. Duplicate keys, non-finite numbers
and absurd nesting are refused here, once, so no reader sees an ambiguous document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

from gate.errors import IncompleteError, InputError
from gate.files import read_bytes

TOKEN_KEYS = ("nextToken", "NextToken")
"""The service's page token (`--no-paginate`) and the AWS CLI's resume token (`--max-items`)."""
TRUNCATED_HINT = "export again without --max-items/--no-paginate"
MAX_DEPTH = 500
"""Deepest nesting accepted: AWS answers nest about ten deep; far below any interpreter's recursion limit."""


class _Refused(ValueError):
    """Raised from inside the decoder's hooks; carries the reason out to `read_documents`."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # NOTE: an object hook on the C decoder costs little; a duplicate key means two readers could
    # see two different documents (`{"findings": [...], "findings": []}`), so it is refused.
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {_short(key)}")
            seen.add(key)
    return out


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number gate accepts (non-finite)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise _Refused(f"{_short(text)} is not a finite number")
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float)


def loads_strict(text: str) -> Any:
    """One JSON document, strictly; raises ValueError (with a position when JSON itself is wrong)."""
    doc, end = _raw_decode(text, 0, may_be_deep=_may_be_too_deep(text))
    if text[end:].strip():
        raise json.JSONDecodeError("extra data after the document", text, end)
    return doc


_QUOTES_AND_BRACKETS = b'"[]{}'
_OTHER_BYTES = bytes(b for b in range(256) if b not in _QUOTES_AND_BRACKETS)
_STRING = re.compile(rb'"[^"]*"')
_STEP = [0] * 256
for _b in b"[{":
    _STEP[_b] = 1
for _b in b"]}":
    _STEP[_b] = -1
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _may_be_too_deep(text: str) -> bool:
    """Whether any document in `text` may nest deeper than MAX_DEPTH: exact for valid JSON, at C speed.

    The decoder's own recursion guard differs between interpreters (3.13 parses 10,000 levels where 3.11
    stops near 1,000), so depth is measured here, before parsing, never inferred from a RecursionError.
    Brackets inside strings do not count: once escaped backslashes and quotes are gone, every quote left
    opens or closes a string.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    data = text.encode("utf-8", "surrogatepass")
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", data.translate(None, _OTHER_BYTES))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH


def _too_deep_at(text: str, pos: int) -> bool:
    """Whether the one document starting at `pos` nests deeper than MAX_DEPTH (slow; run only when it may)."""
    if text[pos:pos + 1] not in ("[", "{"):
        return False  # a scalar document (or not JSON, which the decoder says)
    depth = 0
    for token in _TOKEN.finditer(text, pos):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
            if depth <= 0:
                return False
    return False


def _raw_decode(text: str, pos: int, *, may_be_deep: bool) -> tuple[Any, int]:
    if may_be_deep and _too_deep_at(text, pos):
        raise _Refused("nested too deeply")
    try:
        doc, end = _DECODER.raw_decode(text, pos)
    except RecursionError:  # NOTE: not expected below MAX_DEPTH; kept so no interpreter can crash the read
        raise _Refused("nested too deeply") from None
    return doc, end


def loads_document(data: bytes, origin: str, *, hint: str | None = None) -> Any:
    """One JSON document from a file's bytes, strictly (`loads_strict`); an `InputError` naming `origin` otherwise.

    For every JSON file gate reads besides saved AWS output (feeds, records, events): a duplicated key
    there is as ambiguous as in an export (which copy does a reader take?).
    """
    try:
        return loads_strict(data.decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{origin}: not JSON ({e})", hint=hint) from None
    except ValueError as e:  # a duplicate key, a non-finite number, absurd nesting, a number of 4300+ digits
        raise InputError(f"{origin}: not JSON gate accepts ({e})", hint=hint) from None


def read_documents(path: Path, what: str) -> list[Any]:
    """Every top-level JSON document in the file, in order (concatenated pages are common)."""
    try:
        text = read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text, so not {what}") from e
    docs: list[Any] = []
    pos, end = 0, len(text)
    may_be_deep = _may_be_too_deep(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        try:
            doc, pos = _raw_decode(text, pos, may_be_deep=may_be_deep)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})",
                             hint=f"expected {what}") from None
        except _Refused as e:
            raise InputError(f"{path}: document {len(docs) + 1}: {e}",
                             hint="use the AWS CLI's output unedited") from None
        except ValueError:  # Python refuses to convert integers of more than 4300 digits
            raise InputError(f"{path}: document {len(docs) + 1}: a number with thousands of digits",
                             hint="use the AWS CLI's output unedited") from None
        docs.append(doc)
    if not docs:
        raise InputError(f"{path}: empty file", hint=f"expected {what}")
    return docs


@dataclass(frozen=True)
class Page:
    """One page of a paged export: the document, the file it came from and its place in that file."""

    path: Path
    number: int
    """1-based position among the pages of its file."""
    value: Mapping[str, Any]

    @property
    def where(self) -> str:
        return f"{self.path}: page {self.number}"

    @property
    def token(self) -> str | None:
        """The page's continuation token, if it carries one (anything but null or ""; 5 counts as "5")."""
        for key in TOKEN_KEYS:
            token = self.value.get(key)
            if token is not None and token != "":
                return token if isinstance(token, str) else json.dumps(token, sort_keys=True)
        return None


def pages_of(
    paths: Sequence[Path], is_page: Callable[[Any], bool], *, kind: str, needs: str, what: str,
    loaded: Mapping[Path, list[Any]] | None = None,
) -> list[Page]:
    """Every page in every file, in the order given: a document, or the items of a top-level array.

    A document that is neither a page nor an array of pages, or an empty array, is not `kind`.
    `loaded` holds documents a caller has already read, so no file is parsed twice.
    """
    pages: list[Page] = []
    for path in paths:
        found: list[Mapping[str, Any]] = []
        docs = loaded[path] if loaded is not None and path in loaded else read_documents(path, what)
        for doc in docs:
            items = doc if isinstance(doc, list) else [doc]
            if not items or not all(is_page(item) for item in items):
                why = "an empty array" if items == [] else f"no {needs}"
                raise InputError(f"{path}: not {kind} ({why})", hint=f"expected {what}")
            found.extend(items)
        pages.extend(Page(path, i + 1, value) for i, value in enumerate(found))
    return pages


def require_complete(pages: Sequence[Page]) -> None:
    """Refuse an export whose last page still has a token, or one whose tokens or request ids repeat.

    Every page with a token must be followed by another page (its continuation, in the order given);
    a token or a `requestId` seen twice means a page (or a whole export) was given twice.
    """
    seen: dict[tuple[str, str], Page] = {}
    for page in pages:
        request_id = page.value.get("requestId")
        ids = {"nextToken": page.token, "requestId": request_id if isinstance(request_id, str) else None}
        for key in ((name, value) for name, value in ids.items() if value):
            if key in seen:
                raise InputError(f"{page.where} has the same {key[0]} as {seen[key].where}: a page given twice",
                                 hint="give each page of the export once")
            seen[key] = page
    if pages and pages[-1].token is not None:
        raise IncompleteError(f"{pages[-1].path}: the export is truncated (its last page has a nextToken): "
                              + TRUNCATED_HINT)


def require_unique(items: Iterable[tuple[str, Hashable]], what: str) -> None:
    """Refuse the same item twice (`(where, key)` pairs): the same export or page was given twice."""
    first: dict[Hashable, str] = {}
    for where, key in items:
        if key in first:
            raise InputError(f"{where}: the same {what} as {first[key]}",
                             hint="give each export (and each page) once")
        first[key] = where
