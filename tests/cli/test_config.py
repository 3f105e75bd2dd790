"""Options from GATE_* variables and gate.yaml: precedence, parsing, and errors that name the real source."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gate.cli.config import color
from gate.cli.main import main
from gate.errors import ExitCode
from tests.conftest import EXAMPLES

FINDINGS = ["check", "--findings", str(EXAMPLES / "findings.json"), "--as-of", "2026-11-21", "--max-feed-age", "1000d",
            "--finding-details", str(EXAMPLES / "inspector-findings.json"),
            "--finding-details", str(EXAMPLES / "finding-details.json"),
            "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz")]
KEV = str(EXAMPLES / "kev.json")


@pytest.fixture
def workdir(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(isolated_env)
    return isolated_env


def test_a_bad_variable_is_blamed_on_the_variable(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "abc")
    assert main(FINDINGS) == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("gate: error: GATE_WAIT_TIMEOUT: 'abc' is not a duration")
    assert "argument --wait-timeout" not in err
    assert len(err.splitlines()) == 1


def test_a_bad_config_value_is_blamed_on_the_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "gate.yaml").write_text("max-workers: 500\n")
    assert main(FINDINGS) == ExitCode.USAGE
    assert "gate.yaml: max-workers: --max-workers must be between 1 and 64" in capsys.readouterr().err


def test_unknown_config_keys_are_refused_with_a_suggestion(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "gate.yaml").write_text("fail_on: warn\n")
    assert main(FINDINGS) == ExitCode.USAGE
    assert "unknown option 'fail_on' (did you mean 'fail-on'?)" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["[unclosed", "- a list\n", "\xff"])
def test_a_broken_config_file_is_exit_2(workdir: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "gate.yaml").write_bytes(text.encode("latin-1"))
    assert main(FINDINGS) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith("gate: error: gate.yaml:")


_LOL = "[" + ", ".join(["lol"] * 9) + "]"
_BOMB = "vex: [&a " + _LOL + "".join(f", &{n} [" + ", ".join([f"*{p}"] * 9) + "]"
                                     for p, n in zip("abcdefgh", "bcdefghi", strict=True)) + "]\n"


@pytest.mark.parametrize(("text", "message"), [
    # gate.yaml comes with the repository: a pull request can add one. Nine levels of aliases stood for
    # 9**9 strings, each item of `vex` written out in full before any was found missing (about 6 GB).
    (_BOMB, "gate.yaml:1: YAML aliases (*name) are not supported"),
    # `cat gate.yaml` shows one comment line; YAML (and gate) read `fail-on: never` after the NEL.
    ("policy: strict  # reviewed by security\x85fail-on: never\n", "gate.yaml:1:39: U+0085 is not allowed"),
])
def test_a_config_file_is_read_as_carefully_as_a_policy(workdir: Path, text: str, message: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "gate.yaml").write_text(text, encoding="utf-8")
    assert main(FINDINGS) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"gate: error: {message}") and len(err.splitlines()) == 1, err[:300]


def test_a_missing_config_file_is_exit_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*FINDINGS, "--config", "nothere.yaml"]) == ExitCode.USAGE
    assert "--config 'nothere.yaml': no such file" in capsys.readouterr().err


def test_command_line_beats_variable_beats_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "gate.yaml").write_text(f"policy: strict\nkev-catalog: {KEV}\nreport: [json=file.json]\n")
    assert main(FINDINGS) == ExitCode.VIOLATION
    assert json.loads((workdir / "file.json").read_text())["policy"]["name"] == "strict"
    monkeypatch.setenv("GATE_POLICY", "kev-only")
    monkeypatch.setenv("GATE_REPORT", "json=env.json,markdown=env.md")
    assert main(FINDINGS) == ExitCode.VIOLATION
    assert json.loads((workdir / "env.json").read_text())["policy"]["name"] == "kev-only"
    assert (workdir / "env.md").is_file()
    assert main([*FINDINGS, "--policy", "default", "--report", "json=cli.json"]) == ExitCode.VIOLATION
    assert json.loads((workdir / "cli.json").read_text())["policy"]["name"] == "default"


def test_config_from_variable(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "ci.yaml").write_text("fail-on: never\n")
    monkeypatch.setenv("GATE_CONFIG", "ci.yaml")
    assert main([*FINDINGS, "--kev-catalog", KEV]) == ExitCode.PASS  # the policy fails; fail-on: never


@pytest.mark.parametrize(("fail_on", "policy", "expected"), [
    ("violation", "default", ExitCode.VIOLATION),
    ("never", "default", ExitCode.PASS),
    ("warn", "default", ExitCode.VIOLATION),
])
def test_fail_on(workdir: Path, fail_on: str, policy: str, expected: ExitCode) -> None:
    # NOTE: the saved Inspector answers leave most CVEs unasked about KEV; the catalog answers them.
    assert main([*FINDINGS, "--kev-catalog", KEV, "--fail-on", fail_on, "--policy", policy]) == expected


def test_fail_on_warn_fails_on_warnings_alone(workdir: Path) -> None:
    policy = workdir / "warn-only.yaml"
    policy.write_text('version: 1\nname: warn-only\nrules:\n  - id: high\n    when: severity == "HIGH"\n'
                      "    action: warn\n")
    assert main([*FINDINGS, "--policy", str(policy)]) == ExitCode.PASS
    assert main([*FINDINGS, "--policy", str(policy), "--fail-on", "warn"]) == ExitCode.VIOLATION


def test_errors_fail_even_with_fail_on_never(workdir: Path) -> None:
    assert main([*FINDINGS, "--fail-on", "never", "--policy", "no-such-policy"]) == ExitCode.USAGE
    broken = workdir / "broken.json"
    broken.write_text('{"findings": [')
    assert main(["check", "--findings", str(broken), "--fail-on", "never"]) in (ExitCode.USAGE, ExitCode.INCOMPLETE)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("env", "tty", "expected"), [
    ({}, True, True),
    ({}, False, False),
    ({"NO_COLOR": "1"}, True, False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
    ({"FORCE_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": "0"}, False, False),
    ({"TERM": "dumb"}, True, False),
    ({"TERM": "dumb", "FORCE_COLOR": "1"}, False, True),
])
def test_colour_conventions(env: dict[str, str], tty: bool, expected: bool) -> None:
    assert color(_Tty() if tty else io.StringIO(), env) is expected


def test_verbose_lists_every_warning(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([*FINDINGS, "--kev-catalog", KEV])
    short = capsys.readouterr().out
    main([*FINDINGS, "--kev-catalog", KEV, "--verbose"])
    full = capsys.readouterr().out
    assert len(full.splitlines()) > len(short.splitlines()) + 90


def test_fetch_reads_the_same_variables_and_file(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "gate.yaml").write_text("policy: strict\nfail-on: warn\n")  # check's keys do not trouble fetch
    assert main(["fetch", "-o", "snap.json"]) == ExitCode.USAGE
    assert "unknown option" not in capsys.readouterr().err
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "abc")
    assert main(["fetch", "-o", "snap.json"]) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith("gate: error: GATE_WAIT_TIMEOUT: 'abc' is not a duration")
