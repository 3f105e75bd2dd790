"""Reading `aws imagebuilder list-image-scan-findings` output: every shape the CLI produces, and bad files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.errors import IncompleteError, InputError, UnreadableInputError
from gate.sources.codec import finding_to_api, parse_finding
from gate.sources.export import ExportSource
from tests.conftest import DATA, EXAMPLES

AWSCLI = DATA / "aws-examples" / "awscli-imagebuilder-list-image-scan-findings.output.json"


def read_all(*paths: Path) -> list:  # type: ignore[type-arg]
    return [f for page in ExportSource(list(paths)).pages() for f in page]


def test_the_aws_cli_example_parses_exactly() -> None:
    [f] = read_all(AWSCLI)
    assert f.vulnerability_id == "CVE-2025-38064"
    assert f.severity == "HIGH"
    assert f.fix_available == "YES" and f.has_fix
    assert f.first_observed_at == datetime(2026, 1, 6, 20, 12, 57, tzinfo=UTC)
    assert f.inspector_score == 7.0 and f.best_cvss == 7.0
    assert f.packages[0].name == "kernel"
    assert f.packages[0].installed == "4.14.355-280.652.amzn2"
    assert f.packages[0].fixed_in_version == "0:5.15.189-131.202.amzn2"
    assert f.related_vulnerabilities == ("ALAS2-2025-2955", "ALAS2023-2025-1130")


def test_round_trip_through_the_api_shape() -> None:
    for f in read_all(EXAMPLES / "findings.json"):
        assert parse_finding(finding_to_api(f)) == f


def test_array_of_pages_and_concatenated_pages_agree(tmp_path: Path) -> None:
    pages = json.loads((EXAMPLES / "findings.json").read_text())
    concatenated = tmp_path / "pages.json"
    concatenated.write_text("\n".join(json.dumps(p, indent=2) for p in pages))
    last_page = tmp_path / "last.json"
    last_page.write_text(json.dumps(pages[-1]))
    from_array = read_all(EXAMPLES / "findings.json")
    assert len(from_array) == sum(len(p["findings"]) for p in pages) == 347
    assert read_all(concatenated) == from_array
    assert read_all(last_page) == from_array[-len(pages[-1]["findings"]):]


def test_severity_is_upper_cased_and_timestamps_are_utc(tmp_path: Path) -> None:
    doc = json.loads(AWSCLI.read_text())
    doc["findings"][0]["severity"] = "High"
    doc["findings"][0]["firstObservedAt"] = "2026-01-06T22:12:57+02:00"
    doc["findings"][0]["updatedAt"] = 1767730377  # epoch seconds, as on the wire
    path = tmp_path / "f.json"
    path.write_text(json.dumps(doc))
    [f] = read_all(path)
    assert f.severity == "HIGH"
    assert f.first_observed_at == datetime(2026, 1, 6, 20, 12, 57, tzinfo=UTC)
    assert f.updated_at is not None and f.updated_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not JSON (line 1, column 1"),
        ('{"findings": [', "not JSON"),
        ("", "empty file"),
        ('{"imageSummaryList": []}', "not an Image Builder scan findings export"),
        ('[{"a": 1}]', "not an Image Builder scan findings export"),
        ('{"findings": [{"findingArn": "arn:aws:inspector2:x"}]}', "Inspector `list-findings` output"),
        ('{"findings": [{"severity": "HIGH"}]}', "page 1, finding 1: finding without packageVulnerabilityDetails"),
        ('{"findings": [{"packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1"}, "severity": "HIGH",'
         ' "firstObservedAt": "soon"}]}',
         "bad timestamp"),
        ('{"findings": [{"packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1"}, "severity": null}]}',
         "page 1, finding 1: CVE-1: severity is null"),
        ('{"findings": [{"packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1"}}]}',
         "page 1, finding 1: CVE-1: severity is missing"),
    ],
)
def test_bad_findings_files_are_input_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        read_all(path)
    assert str(path) in err.value.message
    assert message in err.value.message


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="no such file"):
        read_all(tmp_path / "missing.json")


def test_damaged_gzip_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "f.json.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(UnreadableInputError, match="damaged gzip"):
        read_all(path)


@pytest.mark.parametrize("token", ["x", 5, {"nextToken": "x"}, [], False])
@pytest.mark.parametrize("key", ["nextToken", "NextToken"])
def test_any_token_on_the_last_page_means_truncated(tmp_path: Path, key: str, token: object) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps({**json.loads(AWSCLI.read_text()), key: token}))
    with pytest.raises(IncompleteError, match="the export is truncated"):
        read_all(path)


@pytest.mark.parametrize("token", [None, ""])
def test_a_null_or_empty_token_is_no_token(tmp_path: Path, token: object) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps({**json.loads(AWSCLI.read_text()), "nextToken": token}))
    assert len(read_all(path)) == 1
