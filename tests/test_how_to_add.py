"""docs/architecture.md's "How to add" table stays true: every `gate.…` name it gives imports, every path exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
TABLE = DOC[DOC.index("## How to add …"):DOC.index("## Tests and CI")]
ROWS = {cells[1].strip(): cells[2:] for line in TABLE.splitlines() if line.startswith("| ")
        and not line.startswith("| to add") for cells in [line.split("|")]}
NAME = re.compile(r"gate(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
PATH = re.compile(r"[\w./-]+(?:/|\.py|\.yml|\.yaml|\.md)")
WANTED = ["a finding source", "an enricher", "an offline feed", "an enrichment value", "a field", "a report format",
          "an action after the verdict"]


def _tokens(cells: list[str]) -> list[str]:
    return re.findall(r"`([^`]+)`", "|".join(cells))


def resolve(name: str) -> object:
    """The object a dotted name means: the longest importable module, then attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(name)


def test_the_table_has_a_row_for_each_kind_of_addition() -> None:
    assert list(ROWS) == WANTED


@pytest.mark.parametrize("row", WANTED)
def test_every_name_in_a_row_exists(row: str) -> None:
    names = [t for t in _tokens(ROWS[row]) if NAME.fullmatch(t)]
    assert names, f"{row}: the row names no registry"
    for name in names:
        resolve(name)  # AttributeError or ModuleNotFoundError names what the table got wrong


@pytest.mark.parametrize("row", WANTED)
def test_every_path_in_a_row_exists(row: str) -> None:
    for path in (t for t in _tokens(ROWS[row]) if PATH.fullmatch(t) and not NAME.fullmatch(t)):
        assert (ROOT / path).exists(), f"{row}: {path}"


def test_a_wrong_name_would_fail() -> None:
    with pytest.raises(AttributeError):
        resolve("gate.sources.export.NO_SUCH_REGISTRY")
    with pytest.raises(ModuleNotFoundError):
        resolve("gatex.nothing")
    assert resolve("gate.enrichment.feedregistry.FEEDS")
