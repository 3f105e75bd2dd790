"""A signed decision is a baseline the ratchet can trust: used only once its signature verifies under the key."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.attestation.kit import OFFLINE, attest_offline, envelopes, pem_pair, rewrite, statement
from tests.conftest import EXAMPLES


def _next_build(folder: Path) -> list[str]:
    """The bundled findings as those of the pipeline's next build (/4), judged with the same feeds."""
    findings = folder / "next.json"
    findings.write_text((EXAMPLES / "findings.json").read_text().replace("/1.4.0/3", "/1.4.0/4"))
    args = list(OFFLINE)
    args[args.index("--findings") + 1] = str(findings)
    return args


@pytest.fixture
def attested(isolated_env: Path) -> tuple[Path, Path]:
    secret, public = pem_pair(isolated_env)
    code, out = attest_offline(isolated_env, secret)
    assert code == 0
    return out, public


def test_the_attested_findings_are_the_baseline(attested: tuple[Path, Path], isolated_env: Path) -> None:
    out, public = attested
    report = isolated_env / "r.json"
    assert main(["check", *_next_build(isolated_env), "--policy", str(isolated_env / "policy.yaml"),
                 "--baseline", str(out), "--baseline-key", f"file:{public}", "--report", f"json={report}"]) == 0
    doc = json.loads(report.read_text())
    assert doc["baseline"]["target"].endswith("/1.4.0/3")
    assert {f["baseline"] for f in doc["findings"]} == {"unchanged"}
    evidence = statement(envelopes(out)[1])["predicate"]["scanner"]["result"]
    assert {f["firstSeen"] for f in doc["findings"]} == {r["annotations"]["firstSeen"] for r in evidence}


def test_an_attestation_without_its_key_is_refused(attested: tuple[Path, Path], isolated_env: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = attested
    assert main(["check", *_next_build(isolated_env), "--baseline", str(out)]) == ExitCode.USAGE
    assert "--baseline-key" in capsys.readouterr().err


def test_another_key_or_a_changed_finding_list_is_refused(attested: tuple[Path, Path], isolated_env: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = attested
    _, other = pem_pair(isolated_env, name="other")
    args = [*_next_build(isolated_env), "--baseline", str(out)]
    assert main(["check", *args, "--baseline-key", f"file:{other}"]) == ExitCode.USAGE
    assert "no signature verifies" in capsys.readouterr().err
    lines = envelopes(out)
    doc = statement(lines[1])
    doc["predicate"]["scanner"]["result"].pop()  # NOTE: a forgotten finding would be "new" for ever after
    lines[1]["payload"] = base64.b64encode(json.dumps(doc).encode()).decode()
    rewrite(out, lines)
    assert main(["check", *args, "--baseline-key", f"file:{isolated_env / 'key.pub'}"]) == ExitCode.USAGE


def test_a_baseline_key_without_a_baseline_file_is_a_usage_error(isolated_env: Path) -> None:
    assert main(["check", *OFFLINE, "--baseline-key", "file:k.pub"]) == ExitCode.USAGE
    assert main(["check", *OFFLINE, "--baseline", "first", "--baseline-key", "file:k.pub"]) == ExitCode.USAGE
