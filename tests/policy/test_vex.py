"""OpenVEX in: which statements apply to a finding of this image, which win, and which documents are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ExitCode, PolicyError
from gate.model import Finding, VulnerablePackage
from gate.outcome import Decision
from gate.policy.engine import judge
from gate.policy.loader import parse_policy
from gate.policy.vex import read_documents
from gate.reports import explain

NOW = datetime(2026, 11, 21, tzinfo=UTC)
BUILD = "arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.4.0/3"
OTHER_BUILD = "arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.4.0/2"
PIPELINE = "arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/web"
AMI = "ami-0123456789abcdef0"
POLICY = parse_policy("version: 1\nrules:\n  - {id: any, when: 'true', action: fail}\n", "p.yaml")


def finding(vid: str = "CVE-2024-1", packages: tuple[VulnerablePackage, ...] | None = None) -> Finding:
    pkgs = packages or (VulnerablePackage(name="openssl-libs", version="3.0.8", release="1.amzn2023", epoch=1,
                                          arch="x86_64"),)
    return Finding(vulnerability_id=vid, severity="HIGH", title=None, description=None, fix_available="NO",
                   packages=pkgs, image_build_version_arn=BUILD, image_pipeline_arn=PIPELINE)


def statement(status: str = "not_affected", product: str = BUILD, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"vulnerability": {"name": "CVE-2024-1"}, "products": [{"@id": product}],
                            "status": status}
    if status == "not_affected":
        body["justification"] = "vulnerable_code_not_in_execute_path"
    if status == "affected":
        body["action_statement"] = "upgrade openssl"
    body.update(extra)
    return body


def document(*statements: dict[str, Any], timestamp: str = "2026-11-01T10:00:00Z") -> dict[str, Any]:
    return {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
            "author": "Platform Security <sec@example.com>", "timestamp": timestamp, "version": 1,
            "statements": list(statements)}


def write(tmp_path: Path, doc: dict[str, Any] | str, name: str = "vex.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2), encoding="utf-8")
    return path


def run(tmp_path: Path, *docs: dict[str, Any], findings: list[Finding] | None = None,
        products: tuple[str, ...] = (BUILD, PIPELINE)):  # type: ignore[no-untyped-def]
    paths = [write(tmp_path, d, f"vex{i}.json") for i, d in enumerate(docs)]
    return judge(POLICY, findings or [finding()], {}, now=NOW, vex=read_documents(paths), products=products)


@pytest.mark.parametrize(("status", "decision"), [
    ("not_affected", Decision.EXCEPTED),
    ("fixed", Decision.EXCEPTED),
    ("affected", Decision.FAIL),
    ("under_investigation", Decision.FAIL),
])
def test_each_status(tmp_path: Path, status: str, decision: Decision) -> None:
    evaluation = run(tmp_path, document(statement(status)))
    result = evaluation.results[0]
    assert result.decision is decision
    assert result.vex is not None and result.vex.status == status
    lines = explain.why(result, evaluation)
    if decision is Decision.EXCEPTED:
        assert result.matches[0].excepted_by == "VEX " + result.vex.ref
        assert any("excepted by VEX: " in line and "statement 1" in line and "Platform Security" in line
                   for line in lines)
    else:
        assert result.matches[0].excepted_by is None
        assert any(line.startswith(f"VEX says {status}") for line in lines)


@pytest.mark.parametrize(("product", "products", "applies"), [
    (BUILD, (BUILD, PIPELINE), True),
    (PIPELINE, (BUILD, PIPELINE), True),  # the pipeline names every build
    (AMI, (BUILD, PIPELINE, AMI), True),
    (AMI, (BUILD, PIPELINE), False),  # the source did not know the AMI
    (OTHER_BUILD, (BUILD, PIPELINE), False),
    ("pkg:oci/web@sha256:abc", (BUILD, PIPELINE), False),
])
def test_product_by_build_pipeline_or_ami(tmp_path: Path, product: str, products: tuple[str, ...],
                                          applies: bool) -> None:
    result = run(tmp_path, document(statement(product=product)), products=products).results[0]
    assert (result.decision is Decision.EXCEPTED) is applies
    assert (result.vex is not None) is applies


def test_product_named_by_its_purl_identifier(tmp_path: Path) -> None:
    stmt = statement()
    stmt["products"] = [{"identifiers": {"purl": BUILD}}]
    assert run(tmp_path, document(stmt)).results[0].decision is Decision.EXCEPTED


OPENSSL = VulnerablePackage(name="openssl-libs", version="3.0.8", release="1.amzn2023", epoch=1, arch="x86_64")
CURL = VulnerablePackage(name="curl", version="8.5.0", release="1.amzn2023", arch="x86_64")


@pytest.mark.parametrize(("subcomponents", "packages", "applies"), [
    ([{"@id": "openssl-libs"}], (OPENSSL,), True),
    ([{"@id": "pkg:rpm/amzn/openssl-libs@3.0.8-1.amzn2023?arch=x86_64&epoch=1"}], (OPENSSL,), True),
    ([{"identifiers": {"purl": "pkg:rpm/amzn/openssl-libs"}}], (OPENSSL,), True),
    ([{"@id": "pkg:rpm/amzn/openssl-libs@3.0.9-1.amzn2023"}], (OPENSSL,), False),  # another version
    ([{"@id": "pkg:rpm/amzn/openssl-libs?arch=aarch64"}], (OPENSSL,), False),  # another arch
    ([{"@id": "openssl-libs"}], (OPENSSL, CURL), False),  # every vulnerable package must match
    ([{"@id": "openssl-libs"}, {"@id": "pkg:rpm/amzn/curl"}], (OPENSSL, CURL), True),
    ([{"@id": "openssl"}], (OPENSSL,), False),  # names match exactly
])
def test_subcomponents(tmp_path: Path, subcomponents: list[dict[str, Any]],
                       packages: tuple[VulnerablePackage, ...], applies: bool) -> None:
    stmt = statement()
    stmt["products"] = [{"@id": BUILD, "subcomponents": subcomponents}]
    result = run(tmp_path, document(stmt), findings=[finding(packages=packages)]).results[0]
    assert (result.decision is Decision.EXCEPTED) is applies


def test_aliases_name_the_vulnerability(tmp_path: Path) -> None:
    stmt = statement(vulnerability={"name": "GHSA-xxxx-yyyy-zzzz", "aliases": ["cve-2024-1"]})
    assert run(tmp_path, document(stmt)).results[0].decision is Decision.EXCEPTED
    other = statement(vulnerability={"name": "CVE-2024-2", "aliases": ["GHSA-1"]})
    assert run(tmp_path, document(other)).results[0].decision is Decision.FAIL


def test_latest_timestamp_wins_across_documents_and_inherited_times(tmp_path: Path) -> None:
    old = document(statement("not_affected"), timestamp="2026-10-01T00:00:00Z")
    new = document(statement("affected"), timestamp="2026-11-01T00:00:00Z")
    assert run(tmp_path, old, new).results[0].decision is Decision.FAIL
    assert run(tmp_path, new, old).results[0].decision is Decision.FAIL
    # a statement's own timestamp overrides its document's
    newer = document(statement("fixed", timestamp="2026-11-02T00:00:00-05:00"), timestamp="2026-01-01T00:00:00Z")
    result = run(tmp_path, new, newer).results[0]
    assert result.decision is Decision.EXCEPTED
    assert result.vex is not None and result.vex.status == "fixed"


def test_same_time_different_status_is_exit_2_naming_both(tmp_path: Path) -> None:
    a = document(statement("not_affected"))
    b = document(statement("affected", timestamp="2026-11-01T05:00:00-05:00"))  # the same instant
    with pytest.raises(PolicyError) as caught:
        run(tmp_path, a, b)
    assert caught.value.exit_code is ExitCode.USAGE
    text = caught.value.diagnostics()
    assert "disagree on CVE-2024-1" in text and "vex0.json#1" in text and "vex1.json#1" in text


def test_same_time_same_status_is_no_conflict(tmp_path: Path) -> None:
    evaluation = run(tmp_path, document(statement()), document(statement()))
    assert evaluation.results[0].decision is Decision.EXCEPTED


def test_statements_for_other_images_do_not_conflict(tmp_path: Path) -> None:
    doc = document(statement("not_affected"), statement("affected", product=OTHER_BUILD))
    assert run(tmp_path, doc).results[0].decision is Decision.EXCEPTED


MALFORMED = [
    ("not json", "{\n  \"statements\": [\n    }\n", 3, "not valid JSON"),
    ("duplicate key", '{\n"statements": [],\n"statements": []\n}', 3, "duplicate key 'statements'"),
    ("NaN", '{\n"version": NaN\n}', 2, "expected a value"),
    ("not a document", "[1, 2]", 1, "no 'statements'"),
    ("other context", json.dumps({**document(statement()), "@context": "https://openvex.dev/ns/v0.0.1"}, indent=1),
     2, "@context"),
    ("no author", json.dumps({k: v for k, v in document(statement()).items() if k != "author"}, indent=1),
     1, "'author' is a required property"),
    ("not_affected without a reason",
     json.dumps(document({k: v for k, v in statement().items() if k != "justification"}), indent=1),
     8, "statements[0]"),
    ("unknown status", json.dumps(document(statement(status="wontfix")), indent=1), 17, "'wontfix' is not one of"),
    ("unknown justification", json.dumps(document(statement(justification="trust me")), indent=1), 18,
     "'trust me' is not one of"),
    ("affected without action", json.dumps(document({**statement("fixed"), "status": "affected"}), indent=1), 8,
     "'action_statement' is a required property"),
    ("no products", json.dumps(document({**statement(), "products": []}), indent=1), 8, "names no products"),
    ("bad timestamp", json.dumps(document(statement(timestamp="yesterday")), indent=1), 19, "not an RFC 3339"),
    ("date without time", json.dumps(document(statement(), timestamp="2026-11-01"), indent=1), 5,
     "not an RFC 3339"),
]


@pytest.mark.parametrize(("text", "line", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_documents_are_exit_2_with_file_and_line(tmp_path: Path, text: str, line: int,
                                                           message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        read_documents([path])
    assert caught.value.exit_code is ExitCode.USAGE
    assert caught.value.path == str(path)
    assert caught.value.line == line, caught.value.diagnostics()
    named = text.splitlines()[line - 1]
    assert any(part in named for part in ("statements", "{", "[", "}", "version", "wontfix", "trust me",
                                          "yesterday", "2026-11-01", "@context", "products")), named
    assert message in caught.value.diagnostics()
    assert "\n" not in caught.value.diagnostics()


def test_not_utf8_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(PolicyError, match="not UTF-8"):
        read_documents([bad])
    with pytest.raises(Exception, match="no such file") as caught:
        read_documents([tmp_path / "gone.json"])
    assert getattr(caught.value, "exit_code", None) is ExitCode.INCOMPLETE


def test_hostile_nesting_is_refused_not_crashed(tmp_path: Path) -> None:
    path = write(tmp_path, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(PolicyError, match="nested deeper"):
        read_documents([path])


def test_policy_lists_vex_documents_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "vex").mkdir()
    write(tmp_path / "vex", document(statement()), "platform.json")
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text("version: 1\nrules:\n  - {id: any, when: 'true', action: fail}\nvex: [vex/platform.json]\n")
    policy = parse_policy(policy_path.read_text(), str(policy_path))
    assert policy.vex == (str(tmp_path / "vex" / "platform.json"),)
    assert read_documents(policy.vex)[0].author == "Platform Security <sec@example.com>"
