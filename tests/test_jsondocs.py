"""Nesting depth is measured before parsing, so every interpreter refuses the same documents the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.errors import InputError
from gate.jsondocs import MAX_DEPTH, loads_strict, read_documents


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def test_the_deepest_accepted_document_parses_and_one_level_more_is_refused() -> None:
    assert loads_strict(nested(MAX_DEPTH)) is not None
    with pytest.raises(ValueError, match="nested too deeply"):
        loads_strict(nested(MAX_DEPTH + 1))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 200_000])
def test_deep_nesting_is_refused_at_any_depth_whatever_the_interpreter_allows(tmp_path: Path, depth: int) -> None:
    # 3.11's decoder raises RecursionError near 1,000 levels; 3.13's parses 10,000: neither is relied on.
    path = tmp_path / "deep.json"
    path.write_text(nested(depth))
    with pytest.raises(InputError, match=r"document 1: nested too deeply"):
        read_documents(path, "an export")


def test_unclosed_deep_nesting_is_refused_as_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 10_000)
    with pytest.raises(InputError, match=r"document 1: nested too deeply"):
        read_documents(path, "an export")


def test_objects_count_as_levels_too() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        loads_strict('{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1))


@pytest.mark.parametrize("text", [
    pytest.param('["' + "[" * 5000 + '"]', id="brackets-in-a-string"),
    pytest.param('["\\"' + "[" * 5000 + '"]', id="after-an-escaped-quote"),
    pytest.param('["\\\\", "' + "{" * 5000 + '"]', id="after-an-escaped-backslash"),
    pytest.param('{"k' + "[" * 5000 + '": ' + nested(MAX_DEPTH - 1) + "}", id="in-a-key-beside-deep-nesting"),
])
def test_brackets_inside_strings_are_not_nesting(text: str) -> None:
    assert loads_strict(text) is not None


def test_the_refusal_names_the_document_that_is_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "pages.json"
    path.write_text('{"findings": []}\n5\n"[[[["\n' + nested(MAX_DEPTH + 1) + "\n")
    with pytest.raises(InputError, match=r"document 4: nested too deeply"):
        read_documents(path, "an export")


def test_many_documents_each_within_the_limit_are_all_read(tmp_path: Path) -> None:
    path = tmp_path / "pages.json"
    path.write_text("\n".join([nested(MAX_DEPTH)] * 3))
    assert len(read_documents(path, "an export")) == 3
