"""Strict JSON reading that remembers the line of every value, so a bad VEX document is named by file:line."""

from __future__ import annotations

import json
import math
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from gate.errors import PolicyError
from gate.yamlsrc import Document, JsonPath

MAX_DEPTH = 64
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_WS = re.compile(r"[ \t\n\r]*")
_LITERALS = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.doc = Document(path=path, value=None)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        lo, hi = 0, len(self._line_starts)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid
        return lo + 1

    def fail(self, message: str, pos: int) -> PolicyError:
        return PolicyError(f"not valid JSON: {message}", path=self.path, line=self.line(pos))

    def skip(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def value(self, pos: int, where: JsonPath, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels", pos)
        pos = self.skip(pos)
        self.doc.marks[where] = (self.line(pos), pos - self._line_starts[self.line(pos) - 1] + 1)
        char = self.text[pos:pos + 1]
        if char == "{":
            return self.obj(pos + 1, where, depth)
        if char == "[":
            return self.array(pos + 1, where, depth)
        if char == '"':
            return self.string(pos)
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, pos):
                return literal, pos + len(word)
        match = _NUMBER.match(self.text, pos)
        if match:
            if match.group(1) or match.group(2):
                number = float(match.group(0))
                if not math.isfinite(number):
                    raise self.fail(f"{match.group(0)} is not a finite number", pos)
                return number, match.end()
            return int(match.group(0)), match.end()
        raise self.fail("expected a value" if char else "the document ends early", pos)

    def string(self, pos: int) -> tuple[str, int]:
        try:
            text, end = scanstring(self.text, pos + 1, True)
        except json.JSONDecodeError as e:
            raise self.fail(e.msg, e.pos) from None
        return str(text), int(end)

    def obj(self, pos: int, where: JsonPath, depth: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        pos = self.skip(pos)
        if self.text.startswith("}", pos):
            return out, pos + 1
        while True:
            pos = self.skip(pos)
            if not self.text.startswith('"', pos):
                raise self.fail("expected a key in double quotes", pos)
            key, pos = self.string(pos)
            if key in out:
                raise self.fail(f"duplicate key {key!r}", pos)
            pos = self.skip(pos)
            if not self.text.startswith(":", pos):
                raise self.fail("expected ':' after a key", pos)
            out[key], pos = self.value(pos + 1, (*where, key), depth + 1)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("}", pos):
                return out, pos + 1
            raise self.fail("expected ',' or '}'", pos)

    def array(self, pos: int, where: JsonPath, depth: int) -> tuple[list[Any], int]:
        out: list[Any] = []
        pos = self.skip(pos)
        if self.text.startswith("]", pos):
            return out, pos + 1
        while True:
            item, pos = self.value(pos, (*where, len(out)), depth + 1)
            out.append(item)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("]", pos):
                return out, pos + 1
            raise self.fail("expected ',' or ']'", pos)


def load(text: str, path: str) -> Document:
    """One JSON document with the (line, column) of each value; duplicate keys and NaN/Infinity refused."""
    parser = _Parser(text, path)
    value, end = parser.value(0, (), 0)
    end = parser.skip(end)
    if end != len(text):
        raise parser.fail("extra data after the document", end)
    parser.doc.value = value
    return parser.doc
