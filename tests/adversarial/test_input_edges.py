"""Issue 19, the input side: each answer that looked fine at a glance and passed, now refused with its exit code.

Conflicting intelligence (EPSS, KEV, Vulnrichment), VEX from the future, a baseline gate did not write,
a gate.yaml the policy's reader would refuse, a Vulnrichment folder with nothing in it, and a dry run
that cannot tell whether the build was scanned. Every case runs through the CLI, as a pipeline would.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from gate.model import Enrichment, Gathered
from gate.snapshot import snapshot_to_json
from gate.sources.codec import parse_finding
from tests.baseline.builds import BUILDS
from tests.baseline.builds import findings as build_findings
from tests.baseline.test_chain import check
from tests.conftest import DATA, EXAMPLES
from tests.emulator import image_arn, image_scan_finding, pipeline_arn

BUILD = image_arn("web", "1.0.0", 3)
PIPELINE = pipeline_arn("web")
CVE = "CVE-2024-3400"
AS_OF = "2026-11-21"
OBSERVED = "2026-11-20T10:00:00+00:00"


def export(tmp: Path, *findings: dict[str, Any], name: str = "findings.json", arn: str = BUILD) -> Path:
    """`list-image-scan-findings` output with the image ARNs Image Builder adds to each finding."""
    path = tmp / name
    listed = [{**f, "imageBuildVersionArn": arn, "imagePipelineArn": PIPELINE} for f in findings]
    path.write_text(json.dumps({"findings": listed}), encoding="utf-8")
    return path


def finding(vid: str = CVE, severity: str = "MEDIUM", **extra: Any) -> dict[str, Any]:
    return image_scan_finding(vid, severity, observed=OBSERVED, **extra)


def policy(tmp: Path, when: str, name: str = "policy.yaml") -> Path:
    path = tmp / name
    path.write_text(f"version: 1\nname: edge\nrules:\n  - id: edge\n    when: {when}\n    action: fail\n",
                    encoding="utf-8")
    return path


def run(tmp: Path, *argv: str, findings: Path | None = None) -> int:
    """`gate check` on the export (one MEDIUM finding of CVE-2024-3400 unless given), as of the day after its scan."""
    source = findings or export(tmp, finding())
    return main(["check", "--findings", str(source), "--no-cached-feeds", "--as-of", AS_OF, *argv])


def error(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line gate wrote to stderr, without its prefix."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gate: error: "), err
    assert "internal error" not in err
    return err.removeprefix("gate: error: ").rstrip("\n")


def notes(report: Path) -> list[str]:
    loaded: list[str] = json.loads(report.read_text(encoding="utf-8"))["notes"]
    return loaded


# -- 4. conflicting intelligence ------------------------------------------------------------------------

EPSS_HEAD = "#model_version:v2025.03.14,score_date:2026-11-20T12:55:00Z\ncve,epss,percentile\n"


def epss(tmp: Path, rows: str) -> Path:
    path = tmp / "epss.csv.gz"
    path.write_bytes(gzip.compress((EPSS_HEAD + rows).encode(), mtime=0))
    return path


def test_epss_listing_a_cve_twice_with_different_scores_is_refused(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # NOTE: today the last row wins: 0.1 passes a rule that the 0.9 row fails.
    scores = epss(isolated_env, f"{CVE},0.9,0.99\nCVE-2024-1,0.2,0.5\n{CVE},0.1,0.5\n")
    code = run(isolated_env, "--epss-scores", str(scores), "--policy", str(policy(isolated_env, "epss > 0.5")))
    assert code == ExitCode.USAGE
    assert error(capsys) == (f"{scores}: {CVE} is listed twice with different values, at line 3 and at line 5: "
                             "gate will not pick one (pass FIRST's epss_scores-YYYY-MM-DD.csv.gz, or run "
                             "`gate feeds update`)")


def test_epss_conflict_is_refused_even_when_an_index_of_it_exists(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The check is at validation; a second run, which would read the index, must meet the same refusal."""
    scores = epss(isolated_env, f"{CVE},0.9,0.99\n{CVE},0.1,0.5\n")
    rule = str(policy(isolated_env, "epss > 0.5"))
    for _ in range(2):
        assert run(isolated_env, "--epss-scores", str(scores), "--policy", rule) == ExitCode.USAGE
        assert f"{CVE} is listed twice with different values" in error(capsys)


def test_epss_listing_a_cve_twice_alike_is_read_once_with_a_note(isolated_env: Path) -> None:
    scores = epss(isolated_env, f"{CVE},0.9,0.99\n{CVE},0.90,0.990\n")
    report = isolated_env / "report.json"
    rule = str(policy(isolated_env, "epss > 0.5"))
    for _ in range(2):  # NOTE: the first run indexes the file; the second reads the note from the index
        code = run(isolated_env, "--epss-scores", str(scores), "--policy", rule, "--report", f"json={report}")
        assert code == ExitCode.VIOLATION
        assert (f"FIRST EPSS {scores} lists 1 CVE twice with identical values ({CVE} at line 3 and line 4); "
                "each was read once") in notes(report)


def kev(tmp: Path, *entries: dict[str, Any]) -> Path:
    path = tmp / "kev.json"
    listed = [{"cveID": CVE, "vendorProject": "Palo Alto Networks", "product": "PAN-OS", "dateAdded": "2024-04-12",
               "dueDate": "2024-04-19", "requiredAction": "Apply mitigations", **e} for e in entries]
    path.write_text(json.dumps({"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion":
                                "2026.11.20", "dateReleased": "2026-11-20T17:04:19.9796Z", "count": len(listed),
                                "vulnerabilities": listed}), encoding="utf-8")
    return path


def test_kev_catalog_with_two_different_entries_for_a_cve_is_refused(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # NOTE: today the last entry wins, so "Unknown" hides the ransomware use the first entry records.
    catalog = kev(isolated_env, {"knownRansomwareCampaignUse": "Known"}, {"knownRansomwareCampaignUse": "Unknown"})
    code = run(isolated_env, "--kev-catalog", str(catalog),
               "--policy", str(policy(isolated_env, "kev and kev_ransomware")))
    assert code == ExitCode.USAGE
    assert error(capsys).startswith(f"{catalog}: {CVE} is listed twice with different values, at "
                                    "vulnerabilities[0] and at vulnerabilities[1]: gate will not pick one")


def test_kev_catalog_with_the_same_entry_twice_is_read_once_with_a_note(isolated_env: Path) -> None:
    catalog = kev(isolated_env, {"knownRansomwareCampaignUse": "Known"}, {"knownRansomwareCampaignUse": "Known",
                                                                          "cveID": f" {CVE.lower()}"})
    report = isolated_env / "report.json"
    code = run(isolated_env, "--kev-catalog", str(catalog), "--report", f"json={report}",
               "--policy", str(policy(isolated_env, "kev and kev_ransomware")))
    assert code == ExitCode.VIOLATION
    assert (f"CISA KEV {catalog} lists 1 CVE twice with identical values ({CVE} at vulnerabilities[0] and "
            "vulnerabilities[1]); each was read once") in notes(report)


def _ssvc_record(exploitation: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((DATA / "vulnrichment" / f"{CVE}.json").read_text(encoding="utf-8"))
    for adp in record["containers"]["adp"]:
        for metric in adp.get("metrics", []):
            if metric.get("other", {}).get("type") == "ssvc":
                metric["other"]["content"]["options"][0] = {"Exploitation": exploitation}
    return record


def _records(tmp: Path, flat: dict[str, Any], nested: dict[str, Any]) -> Path:
    folder = tmp / "vulnrichment"
    (folder / "2024" / "3xxx").mkdir(parents=True)
    (folder / f"{CVE}.json").write_text(json.dumps(flat), encoding="utf-8")
    (folder / "2024" / "3xxx" / f"{CVE}.json").write_text(json.dumps(nested, indent=2), encoding="utf-8")
    return folder


def test_two_different_vulnrichment_records_for_a_cve_are_refused(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # NOTE: today the flat copy is read first, and its "none" passes the `ssvc` policy over CISA's "active".
    folder = _records(isolated_env, _ssvc_record("none"), _ssvc_record("active"))
    code = run(isolated_env, "--vulnrichment", str(folder), "--policy", "ssvc")
    assert code == ExitCode.USAGE
    assert error(capsys).startswith(f"{folder}: {CVE} is listed twice with different values, at {CVE}.json and "
                                    f"at 2024/3xxx/{CVE}.json: gate will not pick one")


def test_two_identical_vulnrichment_records_are_read_once_with_a_note(isolated_env: Path) -> None:
    folder = _records(isolated_env, _ssvc_record("active"), _ssvc_record("active"))
    report = isolated_env / "report.json"
    code = run(isolated_env, "--vulnrichment", str(folder), "--policy", "ssvc", "--report", f"json={report}")
    assert code == ExitCode.VIOLATION
    assert (f"CISA Vulnrichment {folder} lists 1 CVE twice with identical values ({CVE} at {CVE}.json and "
            f"2024/3xxx/{CVE}.json); each was read once") in notes(report)


# -- 7. gate.yaml is read like a policy ------------------------------------------------------------------

def test_gate_yaml_larger_than_a_policy_may_be_is_refused(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(isolated_env)
    rule = policy(isolated_env, 'severity == "CRITICAL"')
    (isolated_env / "gate.yaml").write_text(f"policy: {rule}\n" + "# padding\n" * 120_000, encoding="utf-8")
    assert run(isolated_env) == ExitCode.USAGE
    assert error(capsys) == "gate.yaml: file larger than 1024 KiB"


@pytest.mark.parametrize("text", [
    "policy: {rule}\nreport: !!seq\n  - json=out.json\n",
    "--- !!map\npolicy: {rule}\nfail-on: never\n",
    "policy: {rule}\nfail-on: never\nreport: !!seq [json=out.json]\n",
])
def test_gate_yaml_with_tags_on_lists_or_mappings_is_refused(
        text: str, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(isolated_env)
    rule = policy(isolated_env, 'severity == "CRITICAL"')
    (isolated_env / "gate.yaml").write_text(text.format(rule=rule), encoding="utf-8")
    assert run(isolated_env) == ExitCode.USAGE
    tag = "seq" if "seq" in text else "map"
    assert error(capsys).endswith(f"the tag tag:yaml.org,2002:{tag} is not supported (gate reads plain mappings "
                                  "and lists)")


def test_policy_rules_tagged_seq_is_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = isolated_env / "p.yaml"
    path.write_text('version: 1\nrules: !!seq\n  - {id: crit, when: \'severity == "MEDIUM"\', action: fail}\n',
                    encoding="utf-8")
    assert run(isolated_env, "--policy", str(path)) == ExitCode.USAGE
    assert error(capsys) == (f"{path}:2: the tag tag:yaml.org,2002:seq is not supported (gate reads plain mappings "
                             "and lists)")


# -- 9. a Vulnrichment folder that holds nothing to read --------------------------------------------------

def _folder(tmp: Path, files: dict[str, str]) -> Path:
    folder = tmp / "vulnrichment"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("files", [
    {},
    {"README.md": "# vulnrichment\n", ".git/HEAD": "ref: refs/heads/develop\n"},
    {"CVE-2024-3400.json": '{"containers": '},
    {"CVE-2024-3400.json": "[]", "2024/3xxx/CVE-2024-3401.json": '{"cveMetadata": {"cveId": "CVE-2024-3401"}}'},
    {"2024/CVE-2024-3400.json": "{}", "records/CVE-2024-3400.json": "{}"},
], ids=["empty", "other-files", "cut-record", "not-records", "wrong-places"])
def test_a_vulnrichment_folder_without_a_readable_record_is_refused(
        files: dict[str, str], isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(isolated_env, files)
    assert run(isolated_env, "--vulnrichment", str(folder), "--policy", "ssvc") == ExitCode.INCOMPLETE
    assert error(capsys) == (f"--vulnrichment {folder}: holds no readable CVE record (CVE-….json, flat or in "
                             "YYYY/NNxxx/ folders) (pass a clone of cisagov/vulnrichment or a folder of CVE-….json "
                             "files)")


def test_a_missing_vulnrichment_folder_is_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gone = isolated_env / "gone"
    assert run(isolated_env, "--vulnrichment", str(gone), "--policy", "ssvc") == ExitCode.INCOMPLETE
    assert error(capsys).startswith(f"--vulnrichment {gone}: not a folder of CVE records")


def test_a_cve_cisa_has_not_assessed_still_passes(isolated_env: Path) -> None:
    """A folder of real records that lacks this CVE's: unknown SSVC fields, as documented (the `ssvc` policy passes)."""
    folder = isolated_env / "vulnrichment"
    (folder / "2024" / "1xxx").mkdir(parents=True)
    shutil.copy(DATA / "vulnrichment" / "CVE-2024-1709.json", folder / "2024" / "1xxx")
    assert run(isolated_env, "--vulnrichment", str(folder), "--policy", "ssvc") == ExitCode.PASS


# -- 5. nothing from the future ----------------------------------------------------------------------------

def vex(tmp: Path, *, doc_time: str = "2026-11-01T10:00:00Z", **statement: Any) -> Path:
    path = tmp / "vex.json"
    body = {"vulnerability": {"name": CVE}, "products": [{"@id": BUILD}], "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path", **statement}
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/edge",
           "author": "Platform Security <sec@example.com>", "timestamp": doc_time, "version": 1,
           "statements": [body]}
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


FAILS_MEDIUM = 'severity == "MEDIUM"'


@pytest.mark.parametrize(("edit", "where", "line"), [
    ({"timestamp": "2099-01-01T00:00:00Z"}, "statements[0].timestamp 2099-01-01T00:00:00+00:00", 19),
    ({"doc_time": "2099-01-01T00:00:00Z"}, "timestamp 2099-01-01T00:00:00+00:00", 5),
    ({"last_updated": "2099-01-01T00:00:00Z"}, "statements[0].last_updated 2099-01-01T00:00:00+00:00", 19),
    ({"timestamp": "2026-11-21T00:05:01Z"}, "statements[0].timestamp 2026-11-21T00:05:01+00:00", 19),
], ids=["statement", "document", "last-updated", "past-the-skew"])
def test_a_vex_timestamp_after_the_evaluation_time_is_refused(
        edit: dict[str, str], where: str, line: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # NOTE: today a not_affected dated 2099 covers the finding (and outranks every real later statement).
    path = vex(isolated_env, **edit)
    code = run(isolated_env, "--vex", str(path), "--policy", str(policy(isolated_env, FAILS_MEDIUM)))
    assert code == ExitCode.USAGE
    assert error(capsys) == (f"{path}:{line}: {where} is after the evaluation time 2026-11-21T00:00:00+00:00: a VEX "
                             "statement cannot speak for the future (correct the timestamp, or judge as of a later "
                             "time with --as-of)")


def test_a_vex_timestamp_within_the_clock_skew_is_accepted(isolated_env: Path) -> None:
    path = vex(isolated_env, timestamp="2026-11-21T00:05:00Z")
    code = run(isolated_env, "--vex", str(path), "--policy", str(policy(isolated_env, FAILS_MEDIUM)))
    assert code == ExitCode.PASS


def test_a_future_vex_in_the_policy_is_refused_too(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = vex(isolated_env, timestamp="2099-01-01T00:00:00Z")
    rules = policy(isolated_env, FAILS_MEDIUM)
    rules.write_text(rules.read_text(encoding="utf-8") + f"vex: [{path.name}]\n", encoding="utf-8")
    assert run(isolated_env, "--policy", str(rules)) == ExitCode.USAGE
    assert "statements[0].timestamp 2099-01-01T00:00:00+00:00 is after the evaluation time" in error(capsys)


# -- 6. a baseline is a document gate wrote ----------------------------------------------------------------

def _report(tmp: Path) -> Path:
    """Build 2's JSON report, judged against build 1's: OPENSSL's firstSeen is carried from 2026-09-01."""
    code, first = check(tmp, 1, "first")
    assert code == ExitCode.VIOLATION
    code, second = check(tmp, 2, str(first))
    assert code == ExitCode.VIOLATION
    return second


def _edit_findings(doc: dict[str, Any], vid: str, **values: Any) -> dict[str, Any]:
    for f in doc["findings"]:
        if f["vulnerabilityId"] == vid:
            f.update(values)
    return doc


def _recount(doc: dict[str, Any], **counts: int) -> dict[str, Any]:
    doc["summary"].update(counts)
    return doc


def _repeat_first(doc: dict[str, Any]) -> dict[str, Any]:
    doc["findings"].append(doc["findings"][0])
    decision = {"fail": "failed", "warn": "warned", "excepted": "excepted", "pass": "passed"}
    doc["summary"]["total"] += 1
    doc["summary"][decision[doc["findings"][0]["decision"]]] += 1
    return doc


OPENSSL = "CVE-2099-1001"
BASELINE_EDITS: dict[str, tuple[Any, str]] = {
    "firstSeen in 2099": (lambda d: _edit_findings(d, OPENSSL, firstSeen="2099-01-01"),
                          "findings[0].firstSeen 2099-01-01 is after the report's own evaluation (2026-10-01): "
                          "it was edited"),
    "firstSeen after firstObservedAt": (
        lambda d: _edit_findings(d, OPENSSL, firstObservedAt="2026-08-01T10:00:00+00:00"),
        "findings[0].firstSeen 2026-09-01 is after the finding's own firstObservedAt (2026-08-01): it was edited"),
    "summary moves a failure to passed": (
        lambda d: _recount(d, failed=d["summary"]["failed"] - 1, passed=d["summary"]["passed"] + 1),
        "its summary says failed 1 but 2 findings are failed: it was edited"),
    "a finding repeated and counted": (_repeat_first, "findings[4] repeats findings[0] (key "),
    "verdict pass over failures": (lambda d: {**d, "verdict": "pass"},
                                   "verdict pass does not follow from 2 failed findings: it was edited"),
}


@pytest.mark.parametrize("case", sorted(BASELINE_EDITS))
def test_a_baseline_gate_did_not_write_is_refused(case: str, isolated_env: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    report = _report(isolated_env)
    edit, message = BASELINE_EDITS[case]
    report.write_text(json.dumps(edit(json.loads(report.read_text(encoding="utf-8")))), encoding="utf-8")
    capsys.readouterr()
    code, _ = check(isolated_env, 3, str(report))
    assert code == ExitCode.USAGE
    line = error(capsys)
    assert line.startswith(f"--baseline {report}: not a usable gate report or snapshot ("), line
    assert message in line


def test_a_baseline_with_a_duplicate_key_is_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`{"findings": [], ...}` before the real list: a reader taking the first copy sees no findings at all."""
    report = _report(isolated_env)
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace('"findings": [', '"findings": [], "findings": [', 1), encoding="utf-8")
    capsys.readouterr()
    code, _ = check(isolated_env, 3, str(report))
    assert code == ExitCode.USAGE
    assert error(capsys).startswith(f"--baseline {report}: not a document gate wrote (duplicate key ")


def test_a_snapshot_baseline_observed_after_it_was_fetched_is_refused(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listed = [{**f, "imageBuildVersionArn": BUILDS[2], "imagePipelineArn": pipeline_arn("web")}
              for f in build_findings(2)]
    listed[0]["firstObservedAt"] = "2099-01-01T00:00:00+00:00"
    findings = tuple(parse_finding(f) for f in listed)
    gathered = Gathered(target=BUILDS[2], findings=findings, feeds=(),
                        enrichments={f.vulnerability_id: Enrichment(f.vulnerability_id) for f in findings})
    snapshot = isolated_env / "build2.snapshot.json"
    snapshot.write_text(json.dumps(snapshot_to_json(gathered, datetime(2026, 10, 1, 11, tzinfo=UTC))))
    code, _ = check(isolated_env, 3, str(snapshot))
    assert code == ExitCode.USAGE
    assert ("findings[0].firstObservedAt 2099-01-01T00:00:00+00:00 is after the snapshot's fetchedAt "
            "2026-10-01T11:00:00+00:00: it was edited") in error(capsys)


# -- 11. a dry run knows whether the image was scanned -------------------------------------------------------

def get_image(tmp: Path, *, arn: str = BUILD, scan: dict[str, Any] | None = None, enabled: bool | None = True,
              types: list[str] | None = None, name: str = "image.json") -> Path:
    """`aws imagebuilder get-image` output for the build, shaped as examples/image.json."""
    doc: dict[str, Any] = json.loads((EXAMPLES / "image.json").read_text(encoding="utf-8"))
    image = doc["image"]
    image["arn"] = arn
    image["sourcePipelineArn"] = PIPELINE
    image["outputResources"]["amis"][0]["region"] = arn.split(":")[3]
    if scan is None:
        image.pop("scanState")
    else:
        image["scanState"] = scan
    config: dict[str, Any] = {} if enabled is None else {"imageScanningEnabled": enabled}
    if types is not None:
        config["imageScanningTypes"] = types
    image["imageScanningConfiguration"] = config
    path = tmp / name
    path.write_text(json.dumps(doc, indent=4), encoding="utf-8")
    return path


COMPLETED = {"status": "COMPLETED"}
PASSES = 'severity == "CRITICAL"'


def test_an_empty_export_without_the_image_is_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # NOTE: today `{"findings": []}` is "PASS — 0 findings", whether the scan finished, was disabled or never ran.
    empty = export(isolated_env)
    assert run(isolated_env, "--policy", str(policy(isolated_env, PASSES)), findings=empty) == ExitCode.INCOMPLETE
    assert error(capsys) == (f"cannot tell whether this build was scanned: {empty} holds no findings, which is also "
                             "what Image Builder lists for an unfinished, disabled or on-demand scan (pass --image "
                             "FILE, the output of `aws imagebuilder get-image --image-build-version-arn ARN`)")


def test_an_empty_export_of_a_completed_scan_passes_with_the_image(isolated_env: Path) -> None:
    report = isolated_env / "report.json"
    code = run(isolated_env, "--image", str(get_image(isolated_env, scan=COMPLETED)), "--report", f"json={report}",
               "--policy", str(policy(isolated_env, PASSES)), findings=export(isolated_env))
    assert code == ExitCode.PASS
    assert f"the findings name no image build version; --image says they are of {BUILD}" in notes(report)


def test_a_non_empty_export_without_the_image_passes_with_a_note(isolated_env: Path) -> None:
    report = isolated_env / "report.json"
    assert run(isolated_env, "--policy", str(policy(isolated_env, PASSES)), "--report", f"json={report}") \
        == ExitCode.PASS
    assert ("the scan state was not checked: without --image (`aws imagebuilder get-image` output) gate cannot tell "
            "whether this build's scan had finished when the findings were exported") in notes(report)


def test_with_the_image_of_a_completed_scan_there_is_no_such_note(isolated_env: Path) -> None:
    report = isolated_env / "report.json"
    code = run(isolated_env, "--image", str(get_image(isolated_env, scan=COMPLETED)), "--report", f"json={report}",
               "--policy", str(policy(isolated_env, PASSES)))
    assert code == ExitCode.PASS
    assert notes(report) == []


@pytest.mark.parametrize(("edit", "message"), [
    ({"scan": {"status": "SCANNING"}}, f"the image scan of {BUILD} is SCANNING, not COMPLETED (--image "),
    ({"scan": {"status": "COLLECTING", "reason": "waiting"}},
     f"the image scan of {BUILD} is COLLECTING (waiting), not COMPLETED (--image "),
    ({"scan": {"status": "PENDING"}}, f"the image scan of {BUILD} is PENDING, not COMPLETED"),
    ({"scan": None, "enabled": False}, f"image scanning is disabled for {BUILD}: there are no findings to judge"),
    ({"scan": None, "enabled": None}, f"image scanning is disabled for {BUILD}: there are no findings to judge"),
    ({"scan": {"status": "FAILED", "reason": "instance\nterminated"}},
     f"the image scan of {BUILD} ended FAILED (instance terminated): its findings are incomplete"),
    ({"scan": {"status": "TIMED_OUT"}}, f"the image scan of {BUILD} ended TIMED_OUT: its findings are incomplete"),
    ({"scan": COMPLETED, "types": ["ON_DEMAND_AMI_CVE"]},
     f"{BUILD} was scanned with ON_DEMAND_AMI_CVE: its findings are not in imagebuilder:ListImageScanFindings, so "
     "this export cannot hold them (export them with `aws ec2 get-image-findings --image-id ami-057bdb2cdf3ace300` "
     "and pass that)"),
    ({"scan": COMPLETED, "types": ["AGENT_CVE"]}, f"{BUILD} was scanned with scan type 'AGENT_CVE', which gate "
     "does not know how to read"),
], ids=["scanning", "collecting", "pending", "disabled", "unset", "failed", "timed-out", "on-demand", "unknown-type"])
@pytest.mark.parametrize("empty", [True, False], ids=["empty", "non-empty"])
def test_the_live_scan_checks_apply_to_a_dry_run_with_the_image(
        edit: dict[str, Any], message: str, empty: bool, isolated_env: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    findings = export(isolated_env) if empty else None
    code = run(isolated_env, "--image", str(get_image(isolated_env, **edit)),
               "--policy", str(policy(isolated_env, PASSES)), findings=findings)
    assert code == ExitCode.INCOMPLETE
    assert message in error(capsys)


def test_the_image_of_another_build_is_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = image_arn("web", "1.0.0", 2)
    image = get_image(isolated_env, arn=other, scan=COMPLETED)
    code = run(isolated_env, "--image", str(image), "--policy", str(policy(isolated_env, PASSES)))
    assert code == ExitCode.USAGE
    assert error(capsys) == (f"--image {image} describes {other}, but the findings are of {BUILD} (export the image "
                             "and its findings for one imageBuildVersionArn)")


@pytest.mark.parametrize(("text", "message"), [
    ("{}", "not the output of `aws imagebuilder get-image --image-build-version-arn ARN` (one document with an "
           "'image' object)"),
    ('{"image": {"arn": "arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/web"}}',
     "image.arn 'arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/web' is not an image build version ARN"),
    ('{"image": {}, "image": {"arn": "x"}}', "duplicate key"),
    ('{"image": {"arn": "' + BUILD + '"}}{"image": {"arn": "' + BUILD + '"}}', "one document with an 'image'"),
    ('{"image": {"arn": "' + BUILD[:30], "image.json: not JSON (line 1, column 19"),
    ('{"image": {"arn": "' + BUILD + '", "scanState": {"status": NaN}}}', "NaN"),
], ids=["no-image", "pipeline-arn", "duplicate-key", "two-documents", "cut", "nan"])
def test_an_image_file_that_is_not_get_image_output_is_refused(
        text: str, message: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = isolated_env / "image.json"
    path.write_text(text, encoding="utf-8")
    assert run(isolated_env, "--image", str(path), "--policy", str(policy(isolated_env, PASSES))) == ExitCode.USAGE
    assert message in error(capsys)


def test_a_missing_image_file_is_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gone = isolated_env / "gone.json"
    assert run(isolated_env, "--image", str(gone), "--policy", str(policy(isolated_env, PASSES))) \
        == ExitCode.INCOMPLETE
    assert str(gone) in error(capsys)


def test_the_image_only_goes_with_an_export(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--image-build-version-arn", BUILD, "--image", str(get_image(isolated_env))])
    assert code == ExitCode.USAGE
    assert error(capsys) == ("--image describes the build of a --findings export (a live run reads the image itself, "
                             "and a snapshot carries it)")


def test_the_bundled_example_image_is_of_the_example_build(isolated_env: Path) -> None:
    """The demo's files agree: `./dev demo` judges examples/findings.json with examples/image.json."""
    report = isolated_env / "report.json"
    code = main(["check", "--findings", str(EXAMPLES / "findings.json"), "--image", str(EXAMPLES / "image.json"),
                 "--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
                 "--as-of", "2026-11-21", "--max-feed-age", "460d", "--report", f"json={report}"])
    assert code == ExitCode.VIOLATION
    assert not any("scan state was not checked" in n for n in notes(report))


def test_a_snapshot_recording_the_image_of_another_build_is_refused(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings = (parse_finding({**finding(), "imageBuildVersionArn": BUILD}),)
    image = json.loads(get_image(isolated_env, arn=image_arn("web", "1.0.0", 2), scan=COMPLETED).read_text())
    gathered = Gathered(target=BUILD, findings=findings, feeds=(), image=image["image"],
                        enrichments={f.vulnerability_id: Enrichment(f.vulnerability_id) for f in findings})
    snapshot = isolated_env / "snapshot.json"
    snapshot.write_text(json.dumps(snapshot_to_json(gathered, datetime(2026, 11, 20, 11, tzinfo=UTC))))
    code = main(["check", "--snapshot", str(snapshot), "--no-cached-feeds", "--as-of", AS_OF,
                 "--policy", str(policy(isolated_env, PASSES))])
    assert code == ExitCode.USAGE
    assert error(capsys) == (f"{snapshot}: not a valid gate snapshot (image must be the GetImage image of the target "
                             f"{BUILD}) (write it again with `gate fetch`)")


def test_vex_naming_the_output_ami_applies_in_a_dry_run_with_the_image(isolated_env: Path) -> None:
    """As in a live run, `--image` tells which AMIs are this build's: a statement about the AMI covers it."""
    statement = vex(isolated_env, products=[{"@id": "ami-057bdb2cdf3ace300"}])
    rule = str(policy(isolated_env, FAILS_MEDIUM))
    assert run(isolated_env, "--vex", str(statement), "--policy", rule) == ExitCode.VIOLATION
    assert run(isolated_env, "--vex", str(statement), "--policy", rule,
               "--image", str(get_image(isolated_env, scan=COMPLETED))) == ExitCode.PASS
