"""Hostile command lines, environments and policies: each is exit 2 with one line naming the input, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.conftest import DATA

AWSCLI = DATA / "aws-examples" / "awscli-imagebuilder-list-image-scan-findings.output.json"
ARN = "arn:aws:imagebuilder:us-west-2:123456789012:image/my-example-recipe/1.0.0/1"
CHECK = ["check", "--findings", str(AWSCLI), "--no-cached-feeds"]


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gate: error: "), err
    assert "internal error" not in err
    return err.removeprefix("gate: error: ").rstrip("\n")


@pytest.mark.parametrize(("argv", "env", "message"), [
    ([*CHECK, "--as-of", "9999-12-31T23:59:59-12:00"], {},
     "--as-of '9999-12-31T23:59:59-12:00': outside 1970-01-01..9000-01-01"),
    ([*CHECK, "--as-of", "0001-01-01T00:00:00+01:00"], {},
     "--as-of '0001-01-01T00:00:00+01:00': outside 1970-01-01..9000-01-01"),
    ([*CHECK, "--as-of", "9999-12-31"], {}, "--as-of '9999-12-31': outside 1970-01-01..9000-01-01"),
    ([*CHECK, "--as-of", "yesterday"], {}, "--as-of 'yesterday': expected YYYY-MM-DD or an ISO-8601 time"),
    (["check", "--image-build-version-arn", ARN, "--wait-timeout", "1000000000d"], {},
     "--wait-timeout: '1000000000d' is longer than the maximum, 3660d"),
    (["check", "--image-build-version-arn", ARN, "--wait-timeout", "-1"], {},
     "--wait-timeout: '-1' is not a duration (e.g. 90s, 30m, 24h, 7d, 0)"),
    (["check", "--image-build-version-arn", ARN, "--cache-ttl", "soon"], {},
     "--cache-ttl: 'soon' is not a duration (e.g. 90s, 30m, 24h, 7d, 0)"),
    (["check", "--image-build-version-arn", ARN], {"GATE_CACHE_TTL": "99999999999d"},
     "GATE_CACHE_TTL: '99999999999d' is longer than the maximum, 3660d"),
    (["fetch", "--image-build-version-arn", ARN, "-o", "x.json"], {"GATE_WAIT_TIMEOUT": "9" * 40 + "d"},
     f"GATE_WAIT_TIMEOUT: '{'9' * 40}d' is not a duration (e.g. 90s, 30m, 24h, 7d, 0)"),
])
def test_bad_times_and_durations(argv: list[str], env: dict[str, str], message: str, isolated_env: Path,
                                 monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(isolated_env)
    for name in ("GATE_CACHE_TTL", "GATE_WAIT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == ExitCode.USAGE
    assert _one_line(capsys) == message


def _policy(tmp_path: Path, text: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("text", "message"), [
    ("version: 1\nrules: " + "[" * 5000 + "]" * 5000 + "\n", "p.yaml:2: nested deeper than 50 levels"),
    ("version: 1\nrules: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "p.yaml:2: nested deeper than 50 levels"),
    ("version: 1\nrules:\n" + "".join(" " * i + "-\n" for i in range(200)), "p.yaml:52: nested deeper than 50 levels"),
    ('version: 1\nrules:\n  - {id: a, when: "cvss > ' + "9" * 300 + '", action: fail}\n',
     "p.yaml:3:27: rule 'a': numbers must be finite and at most 1e+15 in size"),
    ('version: 1\nrules:\n  - {id: a, when: "cvss > -' + "9" * 400 + '", action: fail}\n',
     "p.yaml:3:28: rule 'a': numbers must be finite and at most 1e+15 in size"),
    ('version: 1\nrules:\n  - {id: a, when: "cvss > 1e999", action: fail}\n',
     "p.yaml:3:27: rule 'a': numbers must be finite and at most 1e+15 in size"),
])
def test_hostile_policies(text: str, message: str, tmp_path: Path, isolated_env: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    path = _policy(tmp_path, text)
    assert main([*CHECK, "--policy", path]) == ExitCode.USAGE
    assert _one_line(capsys) == f"{tmp_path}/{message}"


HIDDEN = ("is not allowed: a file gate reads as YAML holds no control, invisible or line-separator character "
          "(it would not read as it shows)")
RULE = '  - {id: crit, when: severity == "CRITICAL", action: fail}\n'
XZ_WAIVER = "exceptions: [{vulnerability: CVE-2024-3094, reason: x, expires: 2099-01-01}]"


@pytest.mark.parametrize(("text", "message"), [
    # YAML (and libyaml) end a line at NEL, LS and PS; a terminal, `cat` and many editors show one line:
    # here a comment that hides a waiver for the xz backdoor.
    ("version: 1\nrules:\n" + RULE + "# none in production\x85" + XZ_WAIVER + "\n", f"p.yaml:4:21: U+0085 {HIDDEN}"),
    ("version: 1\nrules:\n" + RULE + "# none in production\u2028" + XZ_WAIVER + "\n", f"p.yaml:4:21: U+2028 {HIDDEN}"),
    ("version: 1\nrules:\n" + RULE + "# none in production\u2029" + XZ_WAIVER + "\n", f"p.yaml:4:21: U+2029 {HIDDEN}"),
    # an invisible character makes a rule that reads `severity == "CRITICAL"` match nothing
    ('version: 1\nrules:\n  - {id: crit, when: severity == "CRITICAL\u200b", action: fail}\n',
     f"p.yaml:3:43: U+200B {HIDDEN}"),
    ("version: 1\nrules:\n" + RULE + XZ_WAIVER.replace("3094", "3094\u2060") + "\n", f"p.yaml:4:43: U+2060 {HIDDEN}"),
    ("version: 1\nrules:\n" + RULE + "# \u202e" + XZ_WAIVER[::-1] + "\n", f"p.yaml:4:3: U+202E {HIDDEN}"),
    ("version: 1\nname: a\x00b\n" + "rules:\n" + RULE, f"p.yaml:2:8: U+0000 {HIDDEN}"),
    ("version: 1\nname: \x1b]0;title\x07\n" + "rules:\n" + RULE, f"p.yaml:2:7: U+001B {HIDDEN}"),
    ("version: 1\n\ufeffrules:\n" + RULE, f"p.yaml:2:1: U+FEFF {HIDDEN}"),
    ("version: 1\nname: \ufffe\nrules:\n" + RULE, f"p.yaml:2:7: U+FFFE {HIDDEN}"),
    # a tag on a list or mapping was dropped: this loaded as the plain list of rules
    ("version: 1\nrules: !!python/object/apply:os.system [{id: crit, when: kev, action: fail}]\n",
     "p.yaml:2: the tag tag:yaml.org,2002:python/object/apply:os.system is not supported "
     "(gate reads plain mappings and lists)"),
    ("version: 1\nrules:\n" + RULE + "exceptions:\n  - {vulnerability: CVE-2024-3094, packages: !!set {xz: null}, "
     "reason: x, expires: 2099-01-01}\n",
     "p.yaml:5: the tag tag:yaml.org,2002:set is not supported (gate reads plain mappings and lists)"),
])
def test_policies_that_would_not_read_as_they_show(text: str, message: str, tmp_path: Path, isolated_env: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    assert main([*CHECK, "--policy", str(path)]) == ExitCode.USAGE
    assert _one_line(capsys) == f"{tmp_path}/{message}"


def test_a_policy_with_a_leading_bom_and_crlf_lines_still_loads(tmp_path: Path, isolated_env: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(("\ufeffversion: 1\r\nname: caf\u00e9 \u6f22\u5b57\r\nrules:\r\n" + RULE).encode())
    assert main(["policy", "validate", str(path)]) == ExitCode.PASS
    assert capsys.readouterr().out == f"{path}: ok (1 rule, 0 exceptions)\n"


def test_invalid_utf8_names_its_line(tmp_path: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"version: 1\r\nrules:\n" + RULE.encode() + b"name: caf\xe9\n")
    assert main([*CHECK, "--policy", str(path)]) == ExitCode.USAGE
    assert _one_line(capsys) == f"{path}:4: not UTF-8 text (byte 0xe9)"


def test_a_file_named_like_a_shipped_policy_never_replaces_it(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(isolated_env)
    # a pull request adds ./default that would let everything through
    (isolated_env / "default").write_text("version: 1\nrules:\n  - {id: none, when: 'false', action: fail}\n")
    assert main(["policy", "validate", "default"]) == ExitCode.PASS
    assert "policies/default.yaml: ok" in capsys.readouterr().out
    assert main(["policy", "validate", "./default"]) == ExitCode.PASS
    assert capsys.readouterr().out == "default: ok (1 rule, 0 exceptions)\n"


@pytest.mark.parametrize(("argv", "message"), [
    ([*CHECK, "--policy", "nosuch.yaml"],
     "nosuch.yaml: no such file (check the path; a bare name such as 'default' means a shipped policy)"),
    ([*CHECK, "--policy", "policies/"],
     "policies/: no such file (check the path; a bare name such as 'default' means a shipped policy)"),
    ([*CHECK, "--policy", "defualt"],
     "defualt: no shipped policy named 'defualt' (a policy file needs a / or a .yaml suffix) "
     "(did you mean 'default'?)"),
])
def test_policy_names_that_resolve_to_nothing_are_usage_errors(
    argv: list[str], message: str, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(isolated_env)
    assert main(argv) == ExitCode.USAGE
    assert _one_line(capsys) == message


def test_an_empty_gate_policy_means_the_default(isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATE_POLICY", "")
    out = isolated_env / "r.json"
    # the real feeds, as of two days after CVE-2025-38064 was scored, so every default rule can be answered
    feeds = ["--kev-catalog", str(DATA / "kev" / "known_exploited_vulnerabilities.json"),
             "--epss-scores", str(DATA / "epss" / "epss_scores-2025-08-28.csv.gz"), "--as-of", "2025-08-30"]
    assert main([*CHECK, *feeds, "--report", f"json={out}"]) == ExitCode.PASS
    policy = json.loads(out.read_text())["policy"]
    assert policy["name"] == "default" and policy["source"].endswith("policies/default.yaml")


def test_policy_test_accepts_a_shipped_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", "default"]) == ExitCode.PASS
    assert capsys.readouterr().out.endswith(" passed, 0 failed\n")
