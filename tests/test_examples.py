"""The committed examples/ are what examples/generate.py makes, and they match the AWS models."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = ROOT / "tests" / "data"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examples_generate", EXAMPLES / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("examples")
    generator.generate(DATA, out, validate=True)
    return out


def _json(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _image_findings() -> list[dict[str, Any]]:
    return [f for page in _json("findings.json") for f in page["findings"]]


def _kev() -> dict[str, dict[str, Any]]:
    return {v["cveID"]: v for v in _json("kev.json")["vulnerabilities"]}


def _epss() -> dict[str, float]:
    with gzip.open(DATA / "epss/epss_scores-2025-08-28.csv.gz", "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()[2:]
    return {cve: float(score) for cve, score, _ in (line.split(",") for line in lines)}


def _report(value: Any, shape: Any) -> str:
    report = ParamValidator().validate(value, shape)
    return report.generate_report() if report.has_errors() else ""


@pytest.mark.slow
@pytest.mark.parametrize("name", generator.OUTPUT_FILES)
def test_generator_is_deterministic(regenerated: Path, name: str) -> None:
    committed = (EXAMPLES / name).read_bytes()
    fresh = (regenerated / name).read_bytes()
    if name.endswith(".gz"):
        # Compare the content: gzip bytes could differ with another zlib build.
        assert gzip.decompress(fresh) == gzip.decompress(committed)
    else:
        assert fresh == committed, f"examples/{name} is stale: run python examples/generate.py"


def test_kev_copy_is_byte_identical() -> None:
    assert (EXAMPLES / "kev.json").read_bytes() == (
        DATA / "kev/known_exploited_vulnerabilities.json"
    ).read_bytes()


def test_documents_validate_against_botocore_models() -> None:
    session = botocore.session.get_session()
    ib = session.get_service_model("imagebuilder")
    insp = session.get_service_model("inspector2")

    pages = _json("findings.json")
    assert isinstance(pages, list)
    assert 10 <= len(pages) <= 16
    list_out = ib.operation_model("ListImageScanFindings").output_shape
    finding_shape = ib.shape_for("ImageScanFinding")
    for i, page in enumerate(pages):
        assert set(page) <= {"requestId", "findings", "nextToken"}
        assert _report(page, list_out) == ""
        assert ("nextToken" in page) == (i < len(pages) - 1)
        assert len(page["findings"]) == 25 or i == len(pages) - 1
        for f in page["findings"]:
            assert _report(f, finding_shape) == ""

    agg_out = ib.operation_model("ListImageScanFindingAggregations").output_shape
    assert _report(_json("aggregations.json"), agg_out) == ""

    finding = insp.shape_for("Finding")
    severities = finding.members["severity"].enum
    for f in _json("inspector-findings.json")["findings"]:
        assert _report(f, finding) == ""
        assert f["severity"] in severities
        assert f["fixAvailable"] in finding.members["fixAvailable"].enum
    image = _json("image.json")
    assert _report(image, ib.operation_model("GetImage").output_shape) == ""
    assert image["image"]["arn"] == pages[0]["findings"][0]["imageBuildVersionArn"]
    assert image["image"]["scanState"] == {"status": "COMPLETED"}
    details_out = insp.operation_model("BatchGetFindingDetails").output_shape
    details = _json("finding-details.json")
    assert _report(details, details_out) == ""
    assert details["errors"]
    assert {e["errorCode"] for e in details["errors"]} == {"FINDING_DETAILS_NOT_FOUND"}


def test_finding_volume_and_fix_availability() -> None:
    findings = _image_findings()
    assert 300 <= len(findings) <= 400
    fixes = Counter(f["fixAvailable"] for f in findings)
    assert set(fixes) == {"YES", "NO", "PARTIAL"}
    assert fixes["YES"] > fixes["NO"] + fixes["PARTIAL"]
    for f in findings:
        pkgs = f["packageVulnerabilityDetails"]["vulnerablePackages"]
        with_fix = [p for p in pkgs if "fixedInVersion" in p]
        if f["fixAvailable"] == "NO":
            assert not with_fix
        elif f["fixAvailable"] == "YES":
            assert len(with_fix) == len(pkgs)
        else:
            assert 0 < len(with_fix) < len(pkgs)
    ids = {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in findings}
    assert 2 <= sum(not v.startswith("CVE-") for v in ids) <= 3


def test_severities_are_mixed_case_and_counted() -> None:
    findings = _image_findings()
    written = {f["severity"] for f in findings}
    assert "HIGH" in written
    assert "High" in written
    assert any(s != s.upper() for s in written)
    normalised = Counter(f["severity"].upper() for f in findings)
    assert set(normalised) <= {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    counts = _json("aggregations.json")["responses"][0]["imageAggregation"]["severityCounts"]
    assert counts == {
        "all": len(findings),
        "critical": normalised["CRITICAL"],
        "high": normalised["HIGH"],
        "medium": normalised["MEDIUM"],
    }


def test_cisa_data_exactly_for_kev_cves() -> None:
    kev = _kev()
    arn_to_vid = {
        f["findingArn"]: f["packageVulnerabilityDetails"]["vulnerabilityId"]
        for f in _json("inspector-findings.json")["findings"]
    }
    with_cisa = set()
    for d in _json("finding-details.json")["findingDetails"]:
        vid = arn_to_vid[d["findingArn"]]
        if vid in kev:
            assert "cisaData" in d, vid
            assert d["cisaData"]["dateAdded"].startswith(kev[vid]["dateAdded"])
            assert d["cisaData"]["dateDue"].startswith(kev[vid]["dueDate"])
            assert d["cisaData"]["action"] == kev[vid]["requiredAction"]
            with_cisa.add(vid)
        else:
            assert "cisaData" not in d, vid
    kev_in_findings = {
        f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in _image_findings()
    } & kev.keys()
    assert len(kev_in_findings) == 6
    assert kev_in_findings <= with_cisa


def test_epss_values_are_the_real_ones() -> None:
    epss = _epss()
    for f in _json("inspector-findings.json")["findings"]:
        vid = f["packageVulnerabilityDetails"]["vulnerabilityId"]
        assert ("epss" in f) == (vid in epss)
        if "epss" in f:
            assert f["epss"]["score"] == epss[vid]
    for d in _json("finding-details.json")["findingDetails"]:
        if "epssScore" in d:
            assert 0.0 <= d["epssScore"] <= 1.0
    subset = gzip.decompress((EXAMPLES / "epss-scores.csv.gz").read_bytes()).decode()
    lines = subset.splitlines()
    assert lines[0].startswith("#model_version:")
    assert lines[1] == "cve,epss,percentile"
    ids = {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in _image_findings()}
    assert {line.split(",")[0] for line in lines[2:]} == ids & epss.keys()


def test_default_policy_has_a_handful_of_failures() -> None:
    kev, epss = _kev(), _epss()
    outcome = Counter()
    for f in _image_findings():
        vid = f["packageVulnerabilityDetails"]["vulnerabilityId"]
        fix = f["fixAvailable"] in ("YES", "PARTIAL")
        sev = f["severity"].upper()
        if vid in kev or (fix and epss.get(vid, 0.0) > 0.5) or (fix and sev == "CRITICAL"):
            outcome["fail"] += 1
        elif sev in ("HIGH", "CRITICAL"):
            outcome["warn"] += 1
        else:
            outcome["pass"] += 1
    assert 3 <= outcome["fail"] <= 10
    assert outcome["warn"] > 0
    assert outcome["pass"] > outcome["warn"]
