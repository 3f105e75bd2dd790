"""Attacks on a signed decision and on signing it: each refusal with its exact exit code and reason."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gate.cli.main import main
from gate.errors import ExitCode
from tests.actions.seed import event, write_event
from tests.attestation.kit import (
    AS_OF,
    FAILING,
    OFFLINE,
    PASSING,
    attest_offline,
    envelopes,
    pem_pair,
    policy,
    rewrite,
    statement,
    verify,
)
from tests.aws.fixtures import aws_env
from tests.conftest import EXAMPLES
from tests.e2e.seed import IMAGE_ARN, PIPELINE_ARN, example_findings, seed_example
from tests.emulator import Emulator, Faults

__all__ = ["aws_env"]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One passing decision signed with a P-256 PEM key, and that key's public half (copied per test)."""
    folder = tmp_path_factory.mktemp("signed")
    secret, public = pem_pair(folder)
    code, out = attest_offline(folder, secret)
    assert code == 0
    return out, public


@pytest.fixture
def copy(signed: tuple[Path, Path], tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "decision.jsonl"
    shutil.copy(signed[0], out)
    return out, f"file:{signed[1]}"


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


# -- verification: the file was signed, but it does not let the image go (exit 1) ------------------------------

def test_one_byte_of_the_payload_changed_fails_the_signature(copy: tuple[Path, str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    lines = envelopes(out)
    payload = bytearray(base64.b64decode(lines[0]["payload"]))
    payload[payload.index(b"PASSED")] ^= 0x01  # NOTE: one bit of one byte
    lines[0]["payload"] = base64.b64encode(bytes(payload)).decode()
    rewrite(out, lines)
    assert verify(out, key) == ExitCode.VIOLATION
    assert "line 1: no signature verifies under" in _err(capsys)


def test_a_changed_evidence_line_fails_even_when_the_decision_holds(copy: tuple[Path, str],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    lines = envelopes(out)
    doc = statement(lines[1])
    doc["predicate"]["scanner"]["result"] = []
    lines[1]["payload"] = base64.b64encode(json.dumps(doc).encode()).decode()
    rewrite(out, lines)
    assert verify(out, key) == ExitCode.VIOLATION
    assert "line 2: no signature verifies" in _err(capsys)


def test_another_key_does_not_verify(copy: tuple[Path, str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = copy
    _, other = pem_pair(tmp_path, name="other")
    assert verify(out, f"file:{other}") == ExitCode.VIOLATION
    assert "no signature verifies under file:" in _err(capsys)


def test_an_ami_that_is_not_a_subject_is_refused(copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    assert verify(out, key, "--ami", "ami-0123456789abcdef0", build=None) == ExitCode.VIOLATION
    assert "ami-0123456789abcdef0 is not a subject" in _err(capsys)


def test_another_build_is_refused(copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    other = IMAGE_ARN.rsplit("/", 1)[0] + "/4"
    assert verify(out, key, build=other) == ExitCode.VIOLATION
    assert "is not a subject" in _err(capsys)


def test_a_failed_decision_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret, public = pem_pair(tmp_path)
    code, out = attest_offline(tmp_path, secret, FAILING)
    assert code == ExitCode.VIOLATION
    assert out.exists()  # NOTE: a failing verdict is signed too: it is a decision
    capsys.readouterr()
    assert verify(out, f"file:{public}") == ExitCode.VIOLATION
    assert "is FAILED" in _err(capsys)


def test_a_decision_older_than_max_age_is_refused(copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    assert verify(out, key, "--max-age", "24h", as_of="2026-11-22T00:00:01Z") == ExitCode.VIOLATION
    assert "older than --max-age" in _err(capsys)
    assert verify(out, key, "--max-age", "24h", as_of="2026-11-22T00:00:00Z") == ExitCode.PASS


def test_a_decision_from_the_future_is_refused(copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    assert verify(out, key, as_of="2026-11-20T23:50:00Z") == ExitCode.VIOLATION
    assert "in the future" in _err(capsys)


def test_another_policy_digest_is_refused(copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    assert verify(out, key, "--policy-digest", "sha256:" + "0" * 64) == ExitCode.VIOLATION
    assert "the policy digest is sha256:" in _err(capsys)


# -- a file that is not gate's attestation (exit 2), or cannot be read (exit 3) ---------------------------------

@pytest.mark.parametrize(("name", "damage"), [
    ("empty", lambda text: ""),
    ("not-json", lambda text: "hello\n"),
    ("cut-short", lambda text: text[: len(text) // 2]),
    ("no-final-line-end", lambda text: text.rstrip("\n")),
    ("blank-line", lambda text: text + "\n"),
    ("decision-only-repeated", lambda text: text.splitlines(keepends=True)[0] * 2),
    ("evidence-only", lambda text: text.splitlines(keepends=True)[1]),
    ("crlf", lambda text: text.replace("\n", "\r\n")),
    ("nan", lambda text: text.replace('"payloadType"', '"x":NaN,"payloadType"', 1)),
])
def test_a_malformed_file_is_exit_2(name: str, damage: object, copy: tuple[Path, str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    out.write_text(damage(out.read_text()))  # type: ignore[operator]
    assert verify(out, key) == ExitCode.USAGE
    assert "not a gate attestation" in _err(capsys)


@pytest.mark.parametrize(("name", "edit"), [
    ("no-signatures", lambda e: e.update(signatures=[])),
    ("sig-not-base64", lambda e: e["signatures"][0].update(sig="!!!")),
    ("payload-not-base64", lambda e: e.update(payload="%%%")),
    ("other-payload-type", lambda e: e.update(payloadType="text/plain")),
    ("not-an-object", lambda e: e.clear()),
])
def test_a_malformed_envelope_is_exit_2(name: str, edit: object, copy: tuple[Path, str]) -> None:
    out, key = copy
    lines = envelopes(out)
    edit(lines[0])  # type: ignore[operator]
    rewrite(out, lines)
    assert verify(out, key) == ExitCode.USAGE


@pytest.mark.parametrize("argv", [
    ["--ami", "ami-XYZ"],
    ["--policy-digest", "sha256:ABC"],
    ["--max-age", "forever"],
    ["--as-of", "yesterday"],
])
def test_bad_verify_options_are_exit_2(argv: list[str], copy: tuple[Path, str]) -> None:
    out, key = copy
    target = argv if argv[0] == "--ami" else ["--image-build-version-arn", IMAGE_ARN, *argv]
    assert main(["verify", str(out), "--key", key, *target]) == ExitCode.USAGE


def test_a_bad_key_form_is_exit_2(copy: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = copy
    assert verify(out, "gpg:ABC") == ExitCode.USAGE
    assert main(["check", *OFFLINE, "--attest", str(tmp_path / "a.jsonl"), "--sign-key", "gpg:ABC"]) == ExitCode.USAGE
    assert not (tmp_path / "a.jsonl").exists()


@pytest.mark.parametrize("edit", ["no-digest", "empty-subjects", "vsa-without-result", "local-time"])
def test_a_signed_statement_that_is_not_gate_s_shape_is_exit_2(edit: str, copy: tuple[Path, str],
                                                               signed: tuple[Path, Path]) -> None:
    from securesystemslib.signer import CryptoSigner

    from gate.attestation.envelopes import sign

    out, key = copy
    private = serialization.load_pem_private_key(signed[1].with_suffix(".pem").read_bytes(), password=None)
    docs = [statement(e) for e in envelopes(out)]
    if edit == "no-digest":
        del docs[0]["subject"][0]["digest"]
    elif edit == "empty-subjects":
        docs[0]["subject"] = docs[1]["subject"] = []
    elif edit == "vsa-without-result":
        del docs[0]["predicate"]["verificationResult"]
    else:
        docs[0]["predicate"]["timeVerified"] = "2026-11-21T00:00:00+00:00"
    signer = CryptoSigner(private)  # type: ignore[arg-type]
    out.write_bytes(b"".join(sign(d, signer) + b"\n" for d in docs))
    assert verify(out, key) == ExitCode.USAGE


def test_a_missing_attestation_is_exit_3(copy: tuple[Path, str], tmp_path: Path) -> None:
    _, key = copy
    assert verify(tmp_path / "nothing.jsonl", key) == ExitCode.INCOMPLETE


# -- signing: a key gate cannot use stops the run before any work; a failure after the verdict is exit 3 ----------

def test_attest_without_a_key_is_exit_2(tmp_path: Path) -> None:
    assert main(["check", *OFFLINE, "--attest", str(tmp_path / "a.jsonl")]) == ExitCode.USAGE
    assert main(["check", *OFFLINE, "--sign-key", "file:x.pem"]) == ExitCode.USAGE


@pytest.mark.parametrize("kind", ["rsa", "p384", "encrypted", "not-pem"])
def test_a_key_gate_does_not_sign_with_is_exit_2_and_nothing_is_written(kind: str, tmp_path: Path,
                                                                        isolated_env: Path) -> None:
    key = tmp_path / "k.pem"
    if kind == "not-pem":
        key.write_text("hello\n")
    else:
        private = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
                   else ec.generate_private_key(ec.SECP384R1() if kind == "p384" else ec.SECP256R1()))
        crypt = (serialization.BestAvailableEncryption(b"secret") if kind == "encrypted"
                 else serialization.NoEncryption())
        key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, crypt))
    code, out = attest_offline(tmp_path, key)
    assert code == ExitCode.USAGE
    assert not out.exists()


def test_a_missing_key_file_is_exit_3_before_any_work(tmp_path: Path, isolated_env: Path) -> None:
    code, out = attest_offline(tmp_path, tmp_path / "absent.pem")
    assert code == ExitCode.INCOMPLETE
    assert not out.exists()


def test_a_run_without_a_verdict_signs_nothing_and_keeps_its_exit_code(tmp_path: Path, isolated_env: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    secret, _ = pem_pair(tmp_path)
    out = tmp_path / "a.jsonl"
    stale = [a for a in OFFLINE if a not in ("--max-feed-age", "460d")]  # NOTE: 2025 feeds judged in 2026: exit 3
    assert main(["check", *stale, "--policy", str(policy(tmp_path)), "--attest", str(out),
                 "--sign-key", f"file:{secret}"]) == ExitCode.INCOMPLETE
    assert not out.exists()
    assert "attest: sign" in (err := _err(capsys)) and "skipped" in err


def test_the_file_holds_only_inert_ascii_lines(copy: tuple[Path, str]) -> None:
    out, _ = copy
    data = out.read_bytes()
    assert data.isascii()
    assert b"\r" not in data
    assert data.count(b"\n") == 2 and data.endswith(b"\n")


def _live(emulator: Emulator, folder: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> tuple[int, Path]:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    out = folder / "decision.jsonl"
    code = main(["check", "--image-build-version-arn", IMAGE_ARN, "--kev-catalog", str(EXAMPLES / "kev.json"),
                 "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"), "--as-of", AS_OF, "--max-feed-age", "460d",
                 "--policy", str(policy(folder)), "--attest", str(out), "--sign-key", key])
    return code, out


def test_kms_sign_denied_after_the_verdict_is_exit_3_and_no_earlier_file_is_left(
        emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_example(emulator)
    key = emulator.add_kms_key()
    emulator.faults = Faults(forbidden=frozenset({"Sign"}))
    (isolated_env / "decision.jsonl").write_text("earlier\n")
    code, out = _live(emulator, isolated_env, monkeypatch, f"kms:{key.key_id}")
    assert code == ExitCode.INCOMPLETE
    assert not out.exists()  # NOTE: nothing half-signed replaced it, and the earlier file is not this decision
    err = _err(capsys)
    assert "AWS denied kms:Sign" in err and "failed after the verdict" in err
    assert emulator.count("ListImageScanFindings") > 0


def test_a_kms_signature_that_does_not_verify_is_never_written(
        emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_example(emulator)
    key = emulator.add_kms_key(wrong_signatures=True)
    code, out = _live(emulator, isolated_env, monkeypatch, f"kms:{key.arn}")
    assert code == ExitCode.INCOMPLETE
    assert not out.exists()
    assert "does not verify under the signing key" in _err(capsys)


@pytest.mark.parametrize(("name", "code"), [
    ("disabled", ExitCode.INCOMPLETE),
    ("encrypt-decrypt", ExitCode.USAGE),
    ("denied", ExitCode.INCOMPLETE),
    ("unknown", ExitCode.INCOMPLETE),
])
def test_a_kms_key_gate_cannot_use_stops_the_run_before_any_listing(
        name: str, code: ExitCode, emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_example(emulator)
    key = emulator.add_kms_key(enabled=name != "disabled", usage="ENCRYPT_DECRYPT" if name == "encrypt-decrypt"
                               else "SIGN_VERIFY")
    if name == "denied":
        emulator.faults = Faults(forbidden=frozenset({"GetPublicKey"}))
    ref = "kms:alias/absent" if name == "unknown" else f"kms:{key.arn}"
    got, out = _live(emulator, isolated_env, monkeypatch, ref)
    assert got == code
    assert not out.exists()
    assert emulator.count("ListImageScanFindings") == 0
    assert emulator.count("Sign") == 0


# -- attacks on the file's structure: what a holder of the file alone (no key) can change ----------------------

def _secret(signed: tuple[Path, Path]) -> Path:
    return signed[1].with_suffix(".pem")


def _sign_raw(payload: bytes, secret: Path) -> dict[str, object]:
    """An envelope over exactly these payload bytes, signed with the real key (what a signer could be led to sign)."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

    private = serialization.load_pem_private_key(secret.read_bytes(), password=None)
    envelope = Envelope(payload, "application/vnd.in-toto+json", {})
    envelope.sign(CryptoSigner(private))  # type: ignore[arg-type]
    return envelope.to_dict()


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_a_deeply_nested_line_is_exit_2_not_an_internal_error(opener: str, copy: tuple[Path, str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out, key = copy
    out.write_text(opener * 100_000 + "\n")
    assert verify(out, key) == ExitCode.USAGE
    err = _err(capsys)
    assert "not a gate attestation" in err and "internal error" not in err


@pytest.mark.parametrize("duplicate", ['"payloadType":"application/vnd.in-toto+json"', '"payload":"e30="'])
def test_a_duplicate_key_in_an_envelope_is_exit_2(duplicate: str, copy: tuple[Path, str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Two readers of `{"payload": A, …, "payload": B}` may check a signature over A and read B."""
    out, key = copy
    first, second = out.read_text().splitlines()
    out.write_text(first[:-1] + "," + duplicate + "}\n" + second + "\n")
    assert verify(out, key) == ExitCode.USAGE
    assert "duplicate key" in _err(capsys)


def test_a_signed_payload_with_a_duplicate_key_is_exit_2(copy: tuple[Path, str], signed: tuple[Path, Path],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A reader that keeps the first `verificationResult` sees FAILED; one that keeps the last, PASSED."""
    out, key = copy
    lines = envelopes(out)
    payload = base64.b64decode(lines[0]["payload"])
    assert b'"verificationResult":"PASSED"' in payload
    payload = payload.replace(b'"verificationResult":"PASSED"',
                              b'"verificationResult":"FAILED","verificationResult":"PASSED"')
    lines[0] = _sign_raw(payload, _secret(signed))  # type: ignore[assignment]
    rewrite(out, lines)
    assert verify(out, key) == ExitCode.USAGE
    assert "duplicate key" in _err(capsys)


@pytest.mark.parametrize("where", ["envelope", "signature"])
def test_a_field_gate_does_not_write_in_an_envelope_is_exit_2(where: str, copy: tuple[Path, str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Unsigned fields beside the signed ones (`payloadB`, a signature's `cert`) are somebody else's file."""
    out, key = copy
    lines = envelopes(out)
    target = lines[0] if where == "envelope" else lines[0]["signatures"][0]
    target["verificationResult"] = "PASSED"
    rewrite(out, lines)
    assert verify(out, key) == ExitCode.USAGE
    assert "verificationResult" in _err(capsys)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Two decisions about the same build signed with the same key: a PASS and a FAIL (other policy)."""
    folder = tmp_path_factory.mktemp("two-runs")
    secret, public = pem_pair(folder)
    passed, out = attest_offline(folder, secret)
    shutil.move(out, folder / "passed.jsonl")
    failed, out = attest_offline(folder, secret, FAILING)
    shutil.move(out, folder / "failed.jsonl")
    assert (passed, failed) == (ExitCode.PASS, ExitCode.VIOLATION)
    return folder / "passed.jsonl", folder / "failed.jsonl", public


@pytest.mark.parametrize("splice", ["decision-only", "evidence-twice", "evidence-of-the-failed-run", "swapped"])
def test_a_decision_without_its_own_evidence_is_exit_2(splice: str, two_runs: tuple[Path, Path, Path],
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every envelope verifies, but the evidence is missing, repeated, or another run's (its FAILED findings
    hidden behind a PASSED decision): not the file gate wrote."""
    passed, failed, public = two_runs
    decision, evidence = passed.read_text().splitlines()
    other = failed.read_text().splitlines()[1]
    lines = {"decision-only": [decision], "evidence-twice": [decision, evidence, evidence],
             "evidence-of-the-failed-run": [decision, other], "swapped": [evidence, decision]}[splice]
    out = tmp_path / "spliced.jsonl"
    out.write_text("".join(line + "\n" for line in lines))
    assert verify(out, f"file:{public}") == ExitCode.USAGE
    assert "not a gate attestation" in _err(capsys)


def test_a_spliced_attestation_is_no_baseline(two_runs: tuple[Path, Path, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    passed, failed, public = two_runs
    spliced = tmp_path / "spliced.jsonl"
    spliced.write_text(passed.read_text().splitlines()[0] + "\n" + failed.read_text().splitlines()[1] + "\n")
    findings = tmp_path / "next.json"
    findings.write_text((EXAMPLES / "findings.json").read_text().replace("/1.4.0/3", "/1.4.0/4"))
    args = list(OFFLINE)
    args[args.index("--findings") + 1] = str(findings)
    assert main(["check", *args, "--policy", str(policy(tmp_path)), "--baseline", str(spliced),
                 "--baseline-key", f"file:{public}"]) == ExitCode.USAGE
    assert "not a usable gate attestation" in _err(capsys)


# -- attacks on signing: a file that says something false, or outlives the run that made it ---------------------

@pytest.mark.parametrize("clash", ["policy", "output", "vex", "image", "baseline-key", "event", "config"])
def test_attest_over_an_input_or_a_report_is_exit_2_before_any_work(clash: str, tmp_path: Path, isolated_env: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`--attest policy.yaml` replaced the policy the decision names by digest; `-o` replaced the attestation."""
    secret, _ = pem_pair(tmp_path)
    target = tmp_path / "target"
    target.write_text("keep me\n")
    if clash == "event":
        write_event(target, event(IMAGE_ARN, "step-01234567-89ab-cdef-0123-456789abcdef"))
        before = target.read_bytes()
        assert main(["check", "--event", str(target), "--attest", str(target), "--sign-key", f"file:{secret}"]) == 2
        assert "is also an input, a report or a key" in _err(capsys)
        assert target.read_bytes() == before
        return
    if clash == "config":
        target.write_text("fail-on: violation\n")
    extra = {"policy": [], "config": ["--config", str(target)],
             "output": ["-f", "json", "-o", str(target)], "vex": ["--vex", str(target)],
             "image": ["--image", str(target)],
             "baseline-key": ["--baseline", str(tmp_path / "b.jsonl"), "--baseline-key", f"file:{target}"]}[clash]
    pol = target if clash == "policy" else policy(tmp_path)
    if clash == "policy":
        target.write_text(PASSING)
    if clash == "output":
        target.unlink()  # NOTE: a report that does not exist yet is no input: only --attest's own check sees it
    before = target.read_bytes() if target.exists() else None
    code = main(["check", *OFFLINE, "--policy", str(pol), *extra, "--attest", str(target),
                 "--sign-key", f"file:{secret}"])
    assert code == ExitCode.USAGE
    assert "is also an input, a report or a key" in _err(capsys)
    assert (target.read_bytes() if target.exists() else None) == before


def test_a_decision_dated_in_the_future_is_never_signed(tmp_path: Path, isolated_env: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`check --as-of` a month ahead signed a decision `verify --max-age 24h` would take as fresh a month later."""
    secret, _ = pem_pair(tmp_path)
    args = [{AS_OF: "2999-01-01", "460d": "3000d"}.get(a, a) for a in OFFLINE]
    out = tmp_path / "a.jsonl"
    assert main(["check", *args, "--policy", str(policy(tmp_path)), "--attest", str(out),
                 "--sign-key", f"file:{secret}"]) == ExitCode.USAGE
    assert not out.exists()
    assert "--as-of" in (err := _err(capsys)) and "future" in err


def test_a_run_without_a_verdict_removes_an_earlier_attestation(tmp_path: Path, isolated_env: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """An earlier PASSED file at the path looked like this run's decision to the next step (`if: always()`)."""
    secret, _ = pem_pair(tmp_path)
    out = tmp_path / "a.jsonl"
    code, earlier = attest_offline(tmp_path, secret)
    assert code == ExitCode.PASS
    shutil.move(earlier, out)
    stale = [a for a in OFFLINE if a not in ("--max-feed-age", "460d")]
    assert main(["check", *stale, "--policy", str(policy(tmp_path)), "--attest", str(out),
                 "--sign-key", f"file:{secret}"]) == ExitCode.INCOMPLETE
    assert not out.exists()
    assert "earlier" in _err(capsys)


def test_a_key_that_cannot_be_loaded_removes_an_earlier_attestation(tmp_path: Path, isolated_env: Path) -> None:
    out = tmp_path / "decision.jsonl"
    out.write_text("earlier\n")
    code, _ = attest_offline(tmp_path, tmp_path / "absent.pem")
    assert code == ExitCode.INCOMPLETE
    assert not out.exists()


def test_the_attestation_may_be_the_next_run_s_baseline_at_the_same_path(tmp_path: Path,
                                                                          isolated_env: Path) -> None:
    """The ratchet's natural loop, `--baseline d.jsonl --attest d.jsonl`: read first, then replaced."""
    secret, public = pem_pair(tmp_path)
    code, out = attest_offline(tmp_path, secret)
    assert code == ExitCode.PASS
    findings = tmp_path / "next.json"
    findings.write_text((EXAMPLES / "findings.json").read_text().replace("/1.4.0/3", "/1.4.0/4"))
    args = list(OFFLINE)
    args[args.index("--findings") + 1] = str(findings)
    assert main(["check", *args, "--policy", str(policy(tmp_path)), "--baseline", str(out),
                 "--baseline-key", f"file:{public}", "--attest", str(out), "--sign-key", f"file:{secret}"]) == 0
    evidence = statement(envelopes(out)[1])
    assert evidence["predicate"]["urn:gate:run:v1"]["build"].endswith("/1.4.0/4")
    assert {r["annotations"]["baseline"] for r in evidence["predicate"]["scanner"]["result"]} == {"unchanged"}
    # NOTE: and a failed run at that path leaves nothing behind to be taken for its decision
    stale = [a for a in args if a not in ("--max-feed-age", "460d")]
    assert main(["check", *stale, "--policy", str(policy(tmp_path)), "--baseline", str(out),
                 "--baseline-key", f"file:{public}", "--attest", str(out), "--sign-key", f"file:{secret}"]) == 3
    assert not out.exists()


# -- subjects: an AMI is named by its id, exactly --------------------------------------------------------------

FOREIGN_AMI = "ami-0123456789abcdef0"


def test_an_output_ami_that_is_no_ami_id_is_never_signed(emulator: Emulator, isolated_env: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """GetImage naming `ami-…/ami-X` signed a subject whose ARN ends in ami-X: `verify --ami ami-X` passed."""
    seed_example(emulator)
    emulator.add_image(IMAGE_ARN, findings=example_findings(), pipeline_arn=PIPELINE_ARN, extra_amis=[
        {"region": "us-east-1", "image": f"ami-0aaaaaaaaaaaaaaaa/{FOREIGN_AMI}", "accountId": "111122223333"}])
    secret, _ = pem_pair(isolated_env)
    code, out = _live(emulator, isolated_env, monkeypatch, f"file:{secret}")
    assert code == ExitCode.INCOMPLETE
    assert not out.exists()
    assert "is not an AMI id" in _err(capsys)


def _resign(out: Path, signed: tuple[Path, Path], edit: Callable[[dict[str, Any], dict[str, Any]], None]) -> None:
    """The file's two statements changed by `edit(decision, evidence)` and signed again with the real key, the
    evidence bound to the new decision: what gate's key could be made to sign, in gate's shape otherwise."""
    from securesystemslib.signer import CryptoSigner

    from gate.attestation.envelopes import sign
    from gate.attestation.statements import digest_of, payload_bytes

    decision, evidence = (statement(e) for e in envelopes(out))
    edit(decision, evidence)
    evidence["predicate"]["urn:gate:run:v1"]["decision"] = {"sha256": digest_of(payload_bytes(decision))}
    signer = CryptoSigner(serialization.load_pem_private_key(_secret(signed).read_bytes(), password=None))  # type: ignore[arg-type]
    out.write_bytes(b"".join(sign(d, signer) + b"\n" for d in (decision, evidence)))


def test_an_ami_is_a_subject_by_its_digest_not_by_the_end_of_a_uri(copy: tuple[Path, str],
                                                                   signed: tuple[Path, Path]) -> None:
    out, key = copy
    odd = {"uri": f"arn:aws:ec2:us-east-1:111122223333:image/ami-0aaaaaaaaaaaaaaaa/{FOREIGN_AMI}",
           "digest": {"awsAmiId": f"ami-0aaaaaaaaaaaaaaaa/{FOREIGN_AMI}"}}

    def add(decision: dict[str, Any], evidence: dict[str, Any]) -> None:
        decision["subject"] = evidence["subject"] = [odd, *decision["subject"]]

    _resign(out, signed, add)
    assert verify(out, key) == ExitCode.PASS  # NOTE: the re-signed file itself is gate's shape
    assert verify(out, key, "--ami", FOREIGN_AMI, build=None) == ExitCode.VIOLATION


# -- what held: each a signed decision in gate's shape but for one field ----------------------------------------

@pytest.mark.parametrize(("time", "code"), [
    ("2026-11-21T00:00:00Z", ExitCode.PASS),
    ("2026-11-20T23:59:60Z", ExitCode.USAGE),  # NOTE: a leap second: Python has none, RFC 3339 does
    ("2026-11-21T00:00:00z", ExitCode.USAGE),
    ("2026-11-21T00:00:00+00:00", ExitCode.USAGE),
    ("2026-11-21T05:30:00+05:30", ExitCode.USAGE),
    ("2026-11-21 00:00:00Z", ExitCode.USAGE),
    (" 2026-11-21T00:00:00Z", ExitCode.USAGE),
    ("2026-02-30T00:00:00Z", ExitCode.USAGE),
    ("\uff12026-11-21T00:00:00Z", ExitCode.USAGE),  # NOTE: a fullwidth digit
    ("NaN", ExitCode.USAGE),
    ("9999-12-31T23:59:59Z", ExitCode.VIOLATION),
    ("2026-11-21T00:05:01Z", ExitCode.VIOLATION),  # NOTE: beyond the 5 minutes of clock skew at --as-of
])
def test_time_verified_is_a_z_time_not_in_the_future(time: str, code: ExitCode, copy: tuple[Path, str],
                                                     signed: tuple[Path, Path]) -> None:
    out, key = copy
    _resign(out, signed, lambda d, _: d["predicate"].update(timeVerified=time))
    assert verify(out, key, as_of="2026-11-21T00:00:00Z") == code


@pytest.mark.parametrize("result", ["passed", "PASSED ", " PASSED", "PASSED\u200b", "P\u0410SSED", "", None, True])
def test_only_the_exact_word_passed_passes(result: object, copy: tuple[Path, str], signed: tuple[Path, Path]) -> None:
    out, key = copy
    _resign(out, signed, lambda d, _: d["predicate"].update(verificationResult=result))
    assert verify(out, key) == ExitCode.USAGE


@pytest.mark.parametrize("build", [
    IMAGE_ARN.rsplit("/", 1)[0] + "/33", IMAGE_ARN.rsplit("/", 1)[0] + "/", IMAGE_ARN.upper(),
    IMAGE_ARN.replace("us-east-1", "us-east-2"), IMAGE_ARN.replace("111122223333", "111122223334"),
    IMAGE_ARN.replace("arn:aws:", "arn:aws-cn:"),
])
def test_a_build_is_a_subject_only_exactly(build: str, copy: tuple[Path, str], signed: tuple[Path, Path]) -> None:
    """The subject holds build /3; a prefix, a case, another region, account or partition is another build."""
    out, key = copy
    _resign(out, signed, lambda d, e: None)
    assert verify(out, key, build=build) in (ExitCode.VIOLATION, ExitCode.USAGE)
    assert verify(out, key, "--ami", "ami-0123456789abcdef", build=None) == ExitCode.VIOLATION


@pytest.mark.parametrize("digest", ["SHA256:{}", "sha256:{}0", "sha256:{:.63}", "sha512:{}", "{}"])
def test_the_policy_digest_is_exactly_sha256_and_lower_case_hex(digest: str, copy: tuple[Path, str],
                                                                signed: tuple[Path, Path]) -> None:
    out, key = copy
    real = statement(envelopes(out)[0])["predicate"]["policy"]["digest"]["sha256"]
    assert verify(out, key, "--policy-digest", f"sha256:{real}") == ExitCode.PASS
    assert verify(out, key, "--policy-digest", f"sha256:{real.upper()}") == ExitCode.USAGE
    assert verify(out, key, "--policy-digest", digest.format(real)) == ExitCode.USAGE


@pytest.mark.slow
def test_a_run_killed_before_its_verdict_leaves_no_earlier_attestation(aws_env: Emulator, tmp_path: Path) -> None:
    """A real process, SIGTERM while the listing is on the wire: the earlier PASSED file is gone from the start."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.emulator import image_arn, image_scan_finding

    arn = image_arn()
    aws_env.add_image(arn, [image_scan_finding(f"CVE-2024-{1000 + i}") for i in range(40)])
    aws_env.faults = Faults(latency=0.1, latency_by_operation={"ListImageScanFindings": 6.0})
    secret, _ = pem_pair(tmp_path)
    out = tmp_path / "decision.jsonl"
    out.write_text("an earlier run's decision\n")
    env = {**os.environ, **aws_env.env(), "GATE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("AWS_PROFILE", None)
    proc = subprocess.Popen([sys.executable, "-m", "gate", "check", "--image-build-version-arn", arn,
                             "--attest", str(out), "--sign-key", f"file:{secret}", *OFFLINE[2:]],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60  # NOTE: a guard against hanging, not a timed assertion
    while not any(c.operation == "ListImageScanFindings" for c in aws_env.calls):
        assert time.monotonic() < deadline and proc.poll() is None, "gave up waiting for the listing"
        time.sleep(0.05)
    assert not out.exists()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if "decision" in p.name) == []  # no temporary file either


@pytest.mark.parametrize(("argv", "code"), [
    (["--max-age", "0", "--as-of", "2026-11-21T00:00:00Z"], ExitCode.PASS),  # NOTE: "older than", not "as old as"
    (["--max-age", "0", "--as-of", "2026-11-21T00:00:01Z"], ExitCode.VIOLATION),
    (["--max-age", "1", "--as-of", "2026-11-21T00:00:01Z"], ExitCode.PASS),
    (["--max-age", "-1h"], ExitCode.USAGE),
    (["--max-age", "1e3"], ExitCode.USAGE),
    (["--max-age", "nan"], ExitCode.USAGE),
    (["--max-age", "\uff12\uff14h"], ExitCode.USAGE),  # NOTE: fullwidth digits
    (["--max-age", "3661d"], ExitCode.USAGE),
    (["--as-of", "2026-11-21T00:00:00-00:05"], ExitCode.PASS),
    (["--as-of", "2026-11-20T23:54:59Z"], ExitCode.VIOLATION),  # NOTE: 5 min 1 s before timeVerified: the future
])
def test_max_age_and_as_of_edges(argv: list[str], code: ExitCode, copy: tuple[Path, str]) -> None:
    out, key = copy
    as_of = argv[argv.index("--as-of") + 1] if "--as-of" in argv else "2026-11-21T01:00:00Z"
    rest = [a for i, a in enumerate(argv) if "--as-of" not in (a, argv[i - 1] if i else "")]
    assert verify(out, key, *rest, as_of=as_of) == code


@pytest.mark.parametrize("ami", ["\u0430mi-0123456789abcdef0", "ami-0123456789abcdef\uff10", "AMI-0123456789ABCDEF0",
                                 "ami-0123456789abcdef0 ", "ami-0123456789abcdef0\n"])
def test_an_ami_id_that_only_looks_like_one_is_exit_2(ami: str, copy: tuple[Path, str]) -> None:
    out, key = copy
    assert verify(out, key, "--ami", ami, build=None) == ExitCode.USAGE


def test_a_signature_by_another_key_beside_the_key_s_own_changes_nothing(copy: tuple[Path, str], tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """DSSE: the payload is what the given key signed, whatever else signed it too (its keyid is not trusted);
    the other key's signature alone verifies nothing."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

    out, key = copy
    other, _ = pem_pair(tmp_path, name="other")
    signer = CryptoSigner(serialization.load_pem_private_key(other.read_bytes(), password=None))  # type: ignore[arg-type]
    lines = envelopes(out)
    foreign = []
    for line in lines:
        envelope = Envelope(base64.b64decode(line["payload"]), line["payloadType"], {})
        foreign.append(base64.b64encode(bytes.fromhex(envelope.sign(signer).signature)).decode())
    for line, sig in zip(lines, foreign, strict=True):
        line["signatures"] = [{"keyid": line["signatures"][0]["keyid"], "sig": sig}, {"sig": "AAAA"},
                              *line["signatures"]]
    rewrite(out, lines)
    assert verify(out, key) == ExitCode.PASS
    for line, sig in zip(lines, foreign, strict=True):
        line["signatures"] = [{"keyid": "the key's own id, claimed", "sig": sig}]
    rewrite(out, lines)
    capsys.readouterr()
    assert verify(out, key) == ExitCode.VIOLATION
    assert "line 1: no signature verifies" in _err(capsys)


def test_an_earlier_attestation_behind_a_symlink_is_removed_where_it_is_written(tmp_path: Path,
                                                                               isolated_env: Path) -> None:
    """gate writes through a symlink (to its target); removing only the link left the target's old decision."""
    secret, _ = pem_pair(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "decision.jsonl"
    target.write_text("an earlier run's decision\n")
    link = tmp_path / "decision.jsonl"
    link.symlink_to(target)
    stale = [a for a in OFFLINE if a not in ("--max-feed-age", "460d")]
    assert main(["check", *stale, "--policy", str(policy(tmp_path)), "--attest", str(link),
                 "--sign-key", f"file:{secret}"]) == ExitCode.INCOMPLETE
    assert not target.exists()
    code, out = attest_offline(tmp_path, secret)  # NOTE: writes tmp_path/decision.jsonl: the link
    assert code == ExitCode.PASS
    assert out.is_symlink() and target.read_text() == out.read_text()
