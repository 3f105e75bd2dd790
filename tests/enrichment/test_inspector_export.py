"""Saved Inspector answers (`--finding-details`): complete, unrepeated and well-formed, or refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gate.cli.main import main
from gate.enrichment.inspector_export import InspectorExport
from gate.enrichment.inspector_shapes import SEARCH, from_finding_detail
from gate.errors import ExitCode, IncompleteError, InputError, ShapeError
from tests.conftest import DATA, EXAMPLES

LISTED = EXAMPLES / "inspector-findings.json"
DETAILS = EXAMPLES / "finding-details.json"
KEV = json.loads((DATA / "kev" / "known_exploited_vulnerabilities.json").read_text())
WEBP = next(v for v in KEV["vulnerabilities"] if v["cveID"] == "CVE-2023-4863")
# `aws inspector2 search-vulnerabilities --filter-criteria vulnerabilityIds=CVE-2023-4863`, its values
# taken from the real KEV entry and EPSS score (2025-08-28) for that CVE.
SEARCHED = {"vulnerabilities": [{
    "id": "CVE-2023-4863",
    "source": "NVD",
    "cisaData": {"dateAdded": f"{WEBP['dateAdded']}T00:00:00+00:00", "dateDue": f"{WEBP['dueDate']}T00:00:00+00:00",
                 "action": WEBP["requiredAction"]},
    "epss": {"score": 0.93991},
    "cwes": WEBP["cwes"],
}]}


def _listed() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(LISTED.read_text())
    return doc


def _write(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=1))
    return path


def test_list_findings_and_details_read() -> None:
    export = InspectorExport([LISTED, DETAILS])
    [vid] = [f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in _listed()["findings"][:1]]
    value = export.enrich([vid])[vid]
    assert value.risk_score is not None and value.risk_score.value == 42  # from the details, not the listing


def test_pages_as_an_array_or_back_to_back_read_the_same(tmp_path: Path) -> None:
    findings = _listed()["findings"]
    pages = [{"findings": findings[:100], "nextToken": "t1"}, {"findings": findings[100:]}]
    ids = [f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in findings]
    whole = InspectorExport([LISTED, DETAILS]).enrich(ids)
    as_array = InspectorExport([_write(tmp_path, "a.json", pages), DETAILS]).enrich(ids)
    back_to_back = _write(tmp_path, "b.json", "\n".join(json.dumps(p) for p in pages))
    assert as_array == whole == InspectorExport([back_to_back, DETAILS]).enrich(ids)


def test_search_vulnerabilities_output_is_accepted(tmp_path: Path) -> None:
    export = InspectorExport([_write(tmp_path, "s.json", SEARCHED)])
    value = export.enrich(["CVE-2023-4863"])["CVE-2023-4863"]
    assert value.kev is not None and str(value.kev.date_added) == WEBP["dateAdded"]
    assert value.epss is not None and value.epss.score == 0.93991
    assert value.kev_known_by == (SEARCH,)


@pytest.mark.parametrize("token_key", ["nextToken", "NextToken"])
def test_truncated_listings_are_refused(tmp_path: Path, token_key: str) -> None:
    cut = {**_listed(), token_key: "eyJuZXh0VG9rZW4iOiAieCJ9"}
    path = _write(tmp_path, "l.json", cut)
    with pytest.raises(IncompleteError) as err:
        InspectorExport([path, DETAILS])
    assert err.value.message == (f"{path}: the export is truncated (its last page has a nextToken): "
                                 "export again without --max-items/--no-paginate")
    searched = _write(tmp_path, "s.json", {**SEARCHED, "nextToken": "t"})
    with pytest.raises(IncompleteError, match="truncated"):
        InspectorExport([searched])


@pytest.mark.parametrize(("make", "message"), [
    (lambda t: [LISTED, LISTED, DETAILS], "the same Inspector finding as"),
    (lambda t: [LISTED, DETAILS, DETAILS], "the same finding detail as"),
    (lambda t: [_write(t, "s.json", json.dumps(SEARCHED) + json.dumps(SEARCHED))], "the same vulnerability as"),
    (lambda t: [_write(t, "e.json", "[]")], "not Inspector output (an empty array)"),
    (lambda t: [_write(t, "e.json", "[[]]")], "not Inspector output (no 'findings', 'findingDetails'"),
    (lambda t: [_write(t, "d.json", LISTED.read_text()[:-2] + ', "findings": []}')], "duplicate key 'findings'"),
    (lambda t: [_write(t, "n.json", LISTED.read_text().replace('"score": 0.', '"score": NaN, "x": 0.', 1))],
     "NaN is not a number"),
    (lambda t: [_write(t, "ib.json", (DATA / "aws-examples" /
                                      "awscli-imagebuilder-list-image-scan-findings.output.json").read_text())],
     "no findingArn, so not Inspector's"),
    (lambda t: [DETAILS], "finding detail(s) name ARNs with no known CVE"),
    (lambda t: [_write(t, "v.json", {"vulnerabilities": [{**SEARCHED["vulnerabilities"][0], "epss": {"score": 2}}]})],
     "EPSS score 2 is outside 0..1"),
])
def test_bad_inspector_exports_are_input_errors(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(InputError) as err:
        InspectorExport(make(tmp_path))
    assert message in err.value.message
    assert err.value.exit_code == ExitCode.USAGE


def test_a_truncated_inspector_export_stops_check_with_exit_3(isolated_env: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    cut = _write(isolated_env, "l.json", {**_listed(), "nextToken": "abc"})
    argv = ["check", "--findings", str(EXAMPLES / "findings.json"), "--finding-details", str(cut),
            "--finding-details", str(DETAILS), "--as-of", "2026-11-21", "--no-cached-feeds"]
    assert main(argv) == ExitCode.INCOMPLETE
    assert capsys.readouterr().err == (f"gate: error: {cut}: the export is truncated (its last page has a "
                                       "nextToken): export again without --max-items/--no-paginate\n")


@pytest.mark.parametrize("risk", [float("nan"), float("inf"), -1, 10**400, "88", True])
def test_a_risk_score_that_is_not_a_finite_number_is_refused_on_every_path(risk: object) -> None:
    # botocore's JSON parser accepts NaN, so the shape reader (shared with the live path) checks it.
    with pytest.raises(ShapeError, match="riskScore"):
        from_finding_detail({"findingArn": "arn", "riskScore": risk}, "CVE-2024-0001", None)


INSPECTOR_NUMBERS = [("findingDetails", "riskScore", 0, 1e6), ("findingDetails", "epssScore", 0, 1),
                     ("findings", "epss", 0, 1)]
GARBAGE = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 400, "true", '"0.5"', "[]", "{}"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers().map(str),
    st.text(max_size=10).map(json.dumps),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(INSPECTOR_NUMBERS), garbage=GARBAGE)
def test_garbage_in_any_inspector_number_is_never_read(tmp_path: Path, where: tuple[str, str, float, float],
                                                       garbage: str) -> None:
    key, field, low, high = where
    value = json.loads(garbage)  # a number inside the field's range is a valid value, not garbage
    assume(not (isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high))
    listed, details = _listed(), json.loads(DETAILS.read_text())
    doc = listed if key == "findings" else details
    item = doc[key][0]
    if field == "epss":
        item["epss"] = {"score": "__GARBAGE__"}
    else:
        item[field] = "__GARBAGE__"
    paths = [_write(tmp_path, "l.json", json.dumps(listed).replace('"__GARBAGE__"', garbage)),
             _write(tmp_path, "d.json", json.dumps(details).replace('"__GARBAGE__"', garbage))]
    with pytest.raises(InputError):
        InspectorExport(paths)
