"""Snapshots: an exact round trip, and one clear error for anything that is not a snapshot."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode, InputError, UnreadableInputError
from gate.model import Enrichment, EpssScore, FeedInfo, KevEntry, Provenance, Sourced
from gate.run import Gathered
from gate.snapshot import load_snapshot, snapshot_to_json, write_snapshot
from gate.sources.codec import parse_finding
from tests.emulator import image_arn, image_scan_finding

TARGET = image_arn()
WHEN = datetime(2025, 8, 30, 12, 0, 1, 123456, tzinfo=UTC)
DETAILS = Provenance("inspector:BatchGetFindingDetails", WHEN)
LISTED = Provenance("inspector:ListFindings", WHEN)


def _gathered() -> Gathered:
    raw = [image_scan_finding("CVE-2024-0001", "CRITICAL"), image_scan_finding("CVE-2024-0001", package="curl"),
           image_scan_finding("ALAS2023-2024-500", "Medium", fixed_in=None)]
    findings = tuple(parse_finding({**r, "imageBuildVersionArn": TARGET, "awsAccountId": "123456789012"})
                     for r in raw)
    enrichments = {
        "CVE-2024-0001": Enrichment(
            vulnerability_id="CVE-2024-0001",
            kev=KevEntry(date(2025, 1, 2), date(2025, 1, 23), "patch", ransomware=True, provenance=DETAILS),
            epss=EpssScore(0.91, 0.99, DETAILS),
            exploit_observed=Sourced(True, DETAILS),
            exploit_available=Sourced(False, LISTED),
            risk_score=Sourced(88.0, DETAILS),
            cwes=Sourced(("CWE-787",), DETAILS),
            ttps=Sourced(("T1190", "T1059"), DETAILS),
            tools=Sourced(("metasploit",), DETAILS),
            kev_known_by=("inspector:BatchGetFindingDetails", "cisa-kev"),
        ),
        "ALAS2023-2024-500": Enrichment(vulnerability_id="ALAS2023-2024-500"),
    }
    feeds = (FeedInfo("Amazon Inspector", "inspector2 us-east-1", WHEN, "2 ids"),
             FeedInfo("CISA KEV", "kev.json", None))
    return Gathered(target=TARGET, findings=findings, enrichments=enrichments, feeds=feeds)


def test_round_trip_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "out" / "snapshot.json"
    gathered = _gathered()
    write_snapshot(path, gathered, fetched_at=WHEN)
    assert load_snapshot(path) == gathered
    doc = json.loads(path.read_text())
    assert doc["format"] == "gate-snapshot"
    assert doc["version"] == 2
    assert doc["fetchedAt"] == WHEN.isoformat()
    assert doc["findings"][0]["packageVulnerabilityDetails"]["vulnerabilityId"] == "CVE-2024-0001"
    assert doc["enrichments"][0]["kev"]["provenance"] == {"source": "inspector:BatchGetFindingDetails",
                                                         "asOf": WHEN.isoformat()}
    assert list(tmp_path.joinpath("out").iterdir()) == [path]


def test_the_image_and_feed_notes_round_trip(tmp_path: Path) -> None:
    """boto3 gives GetImage's `deprecationTime` as a datetime: recorded as ISO text, read back as recorded."""
    image = {"arn": TARGET, "scanState": {"status": "COMPLETED"}, "deprecationTime": WHEN,
             "outputResources": {"amis": [{"region": "us-east-1", "image": "ami-0123456789abcdef0"}]}}
    feeds = (FeedInfo("CISA KEV", "kev.json", WHEN, notes=("CISA KEV kev.json lists 1 CVE twice ...",)),)
    path = tmp_path / "snapshot.json"
    write_snapshot(path, replace(_gathered(), image=image, feeds=feeds), fetched_at=WHEN)
    loaded = load_snapshot(path)
    assert loaded.image == {**image, "deprecationTime": WHEN.isoformat()}
    assert loaded.feeds == feeds


def test_a_gzipped_snapshot_loads(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json.gz"
    path.write_bytes(gzip.compress(json.dumps(snapshot_to_json(_gathered(), WHEN)).encode()))
    assert load_snapshot(path) == _gathered()


def test_a_missing_snapshot_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="no such file"):
        load_snapshot(tmp_path / "nope.json")


def _broken(**changes: object) -> dict[str, object]:
    doc = snapshot_to_json(_gathered(), WHEN)
    doc.update(changes)
    return doc


@pytest.mark.parametrize(("doc", "message"), [
    (_broken(version=3), "snapshot version 3 is not one of"),
    (_broken(format="other"), "not a gate snapshot"),
    ([], "not a gate snapshot"),
    (_broken(target=None), "snapshot without a target"),
    (_broken(findings={}), "must be lists"),
    (_broken(findings=[{"severity": "HIGH"}]), r"findings\[0\]: finding without"),
    (_broken(enrichments=[{"vulnerabilityId": "X", "epss": {"score": 2}}]), r"enrichments\[0\]: EPSS value"),
    (_broken(enrichments=[{"vulnerabilityId": "X"}, {"vulnerabilityId": "X"}]), "X appears twice"),
    (_broken(feeds=[{"name": "x"}]), "a feed needs a name and a source"),
    (_broken(feeds=[{"name": "", "source": "kev.json"}]), "a feed needs a name and a source"),
    (_broken(feeds=[{"name": "CISA KEV", "source": "kev.json", "asOf": "9999-12-31T23:59:59-12:00"}]),
     r"feeds\[0\]: bad timestamp"),
    (_broken(fetchedAt=None), "snapshot without fetchedAt"),
    (_broken(feeds=[{"name": "CISA KEV", "source": "kev.json", "provides": ["kev-catalog", "everything"]}]),
     r"feeds\[0\]: feed provides unknown kinds of data: 'everything'"),
    # the attacks: a record deleted by hand, one added, a finding repeated, another build's finding
    (_broken(enrichments=snapshot_to_json(_gathered(), WHEN)["enrichments"][:1]),
     "no enrichment record for 1 vulnerabilities among the findings, e.g. ALAS2023-2024-500"),
    (_broken(enrichments=[*snapshot_to_json(_gathered(), WHEN)["enrichments"], {"vulnerabilityId": "CVE-1"}]),
     "1 enrichment records for vulnerabilities no finding has, e.g. CVE-1"),
    (_broken(findings=[*snapshot_to_json(_gathered(), WHEN)["findings"],
                       snapshot_to_json(_gathered(), WHEN)["findings"][0]]),
     r"findings\[3\] repeats findings\[0\] \(CVE-2024-0001\)"),
    (_broken(findings=[{**f, "imageBuildVersionArn": image_arn(build=2)}
                       for f in snapshot_to_json(_gathered(), WHEN)["findings"]]),
     "other than the target"),
    (_broken(feeds=[*snapshot_to_json(_gathered(), WHEN)["feeds"], snapshot_to_json(_gathered(), WHEN)["feeds"][0]]),
     r"feeds\[2\]: Amazon Inspector \(inspector2 us-east-1\) is listed twice"),
])
def test_a_malformed_snapshot_names_the_file(tmp_path: Path, doc: object, message: str) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=message) as err:
        load_snapshot(path)
    assert str(path) in err.value.message
    assert "\n" not in err.value.message


@pytest.mark.parametrize(("edit", "message"), [
    (lambda text: text.replace('"target":', '"target": "x", "target":', 1), "duplicate key 'target'"),
    (lambda text: text.replace('"score": 0.91', '"score": NaN', 1), "NaN is not a number"),
    (lambda text: text.replace('"score": 0.91', '"score": 1e999', 1), "'1e999' is not a finite number"),
    (lambda text: text.replace('"value": 88.0', '"value": ' + "9" * 400, 1), "expected a finite number"),
])
def test_an_edited_snapshot_is_refused(tmp_path: Path, edit: Any, message: str) -> None:
    path = tmp_path / "snapshot.json"
    write_snapshot(path, _gathered(), fetched_at=WHEN)
    edited = edit(path.read_text())
    assert edited != path.read_text()
    path.write_text(edited)
    with pytest.raises(InputError, match=message):
        load_snapshot(path)


def test_check_refuses_a_snapshot_with_a_record_deleted(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = isolated_env / "snapshot.json"
    path.write_text(json.dumps(_broken(enrichments=snapshot_to_json(_gathered(), WHEN)["enrichments"][1:])))
    assert main(["check", "--snapshot", str(path), "--as-of", "2026-11-21"]) == ExitCode.USAGE
    assert capsys.readouterr().err == (
        f"gate: error: {path}: not a valid gate snapshot (no enrichment record for 1 vulnerabilities among the "
        "findings, e.g. CVE-2024-0001) (write it again with `gate fetch`)\n")


def test_not_json_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text("findings: []")
    with pytest.raises(InputError, match="not JSON"):
        load_snapshot(path)


def test_an_unwritable_path_is_reported(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UnreadableInputError, match="cannot write the snapshot"):
        write_snapshot(tmp_path / "file" / "snapshot.json", _gathered())


def test_a_snapshot_whose_feeds_name_no_kinds_cannot_answer_kev(tmp_path: Path, isolated_env: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Feeds that do not say what they provide (a snapshot older than `provides`) answer nothing: exit 3."""
    path = tmp_path / "old.json"
    write_snapshot(path, _gathered())
    assert main(["check", "--snapshot", str(path), "--no-cached-feeds"]) == ExitCode.INCOMPLETE
    assert "reads `kev`, which no source in this run can answer" in capsys.readouterr().err
    told = _gathered()
    told = Gathered(told.target, told.findings, told.enrichments,
                    (FeedInfo("Amazon Inspector", "inspector2 us-east-1", WHEN, "2 ids", provides=("inspector",)),))
    write_snapshot(path, told)
    assert main(["check", "--snapshot", str(path), "--no-cached-feeds", "--as-of", "2026-11-21"]) == ExitCode.VIOLATION
