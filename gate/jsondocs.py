"""Read JSON files as the AWS CLI writes them: one document, an array, or documents back to back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gate.errors import InputError
from gate.files import read_bytes


def read_documents(path: Path, what: str) -> list[Any]:
    """Every top-level JSON document in the file, in order (concatenated pages are common)."""
    try:
        text = read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text, so not {what}") from e
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})",
                             hint=f"expected {what}") from None
        docs.append(doc)
    if not docs:
        raise InputError(f"{path}: empty file", hint=f"expected {what}")
    return docs
