"""Property tests on real exports: no cut of a valid export, and no garbage in a numeric field, is ever read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gate.errors import GateError, IncompleteError
from gate.sources.export import read_export
from tests.conftest import DATA, EXAMPLES

AWSCLI = DATA / "aws-examples" / "awscli-imagebuilder-list-image-scan-findings.output.json"
PAGES: list[dict[str, Any]] = [
    {**p, "findings": p["findings"][:3]} for p in json.loads((EXAMPLES / "findings.json").read_text())
]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read(tmp_path: Path, *texts: str) -> int:
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"export{i}.json"
        path.write_text(text)
        paths.append(path)
    return sum(len(page) for _, page in read_export(paths))


def test_the_uncut_exports_are_read(tmp_path: Path) -> None:
    # The properties below refuse variants of these; the originals themselves must be accepted.
    assert _read(tmp_path, json.dumps(PAGES)) == sum(len(p["findings"]) for p in PAGES)
    assert _read(tmp_path, "\n".join(json.dumps(p) for p in PAGES)) == sum(len(p["findings"]) for p in PAGES)
    assert _read(tmp_path, AWSCLI.read_text()) == 1


@SETTINGS
@given(keep=st.integers(min_value=1, max_value=len(PAGES) - 1), layout=st.sampled_from(["array", "concatenated",
                                                                                         "files"]))
def test_dropping_the_last_pages_is_always_refused_as_truncated(tmp_path: Path, keep: int, layout: str) -> None:
    kept = PAGES[:keep]
    texts = {
        "array": [json.dumps(kept)],
        "concatenated": ["\n".join(json.dumps(p, indent=2) for p in kept)],
        "files": [json.dumps(p) for p in kept],
    }[layout]
    with pytest.raises(IncompleteError, match="the export is truncated"):
        _read(tmp_path, *texts)


@SETTINGS
@given(data=st.data(), source=st.sampled_from(["cli", "array", "concatenated"]))
def test_a_byte_cut_anywhere_is_never_read(tmp_path: Path, data: st.DataObject, source: str) -> None:
    text = {
        "cli": AWSCLI.read_text(),
        "array": json.dumps(PAGES, indent=1),
        "concatenated": "\n".join(json.dumps(p) for p in PAGES),
    }[source]
    cut = data.draw(st.integers(min_value=0, max_value=len(text.rstrip()) - 1))
    with pytest.raises(GateError):
        _read(tmp_path, text[:cut])


@SETTINGS
@given(data=st.data())
def test_repeating_any_page_is_refused(tmp_path: Path, data: st.DataObject) -> None:
    i = data.draw(st.integers(min_value=0, max_value=len(PAGES) - 1))
    j = data.draw(st.integers(min_value=0, max_value=len(PAGES)))
    pages = [*PAGES[:j], PAGES[i], *PAGES[j:]]
    with pytest.raises(GateError):
        _read(tmp_path, json.dumps(pages))


# Every numeric field of an ImageScanFinding (scores 0..10, the package epoch a whole number).
NUMERIC_FIELDS: list[tuple[str | int, ...]] = [
    ("inspectorScore",),
    ("inspectorScoreDetails", "adjustedCvss", "score"),
    ("packageVulnerabilityDetails", "cvss", 0, "baseScore"),
    ("packageVulnerabilityDetails", "vulnerablePackages", 0, "epoch"),
]
JSON_TOKENS = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e309", "9" * 400, "-" + "9" * 30, "true",
               "false", '"7.0"', '"high"', "[]", "{}", "[7.0]", '{"score": 7}']
GARBAGE = st.one_of(
    st.sampled_from(JSON_TOKENS),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not 0 <= x <= 10).map(repr),
    st.integers().filter(lambda x: not 0 <= x <= 10).map(str),
    st.text(max_size=20).map(json.dumps),
    st.lists(st.floats(0, 10), max_size=3).map(json.dumps),
)


def _with_sentinel(where: tuple[str | int, ...]) -> str:
    doc = json.loads(AWSCLI.read_text())
    node: Any = doc["findings"][0]
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = "__GARBAGE__"
    return json.dumps(doc, indent=2)


@SETTINGS
@given(where=st.sampled_from(NUMERIC_FIELDS), garbage=GARBAGE)
def test_garbage_in_any_numeric_field_is_never_read(tmp_path: Path, where: tuple[str | int, ...],
                                                    garbage: str) -> None:
    assume(not (where[-1] == "epoch" and garbage.isdigit() and int(garbage) < 2**31))  # a valid epoch
    text = _with_sentinel(where).replace('"__GARBAGE__"', garbage)
    with pytest.raises(GateError):
        _read(tmp_path, text)
