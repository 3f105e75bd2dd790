"""`gate policy validate` reports every problem of a file in one run, each at file:line:col, in gate's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode

ONE_OF_EACH = """\
version: 1
rules:
  - id: kev
    when: kev
    action: fail
  - id: cut-short
    when: epss > 0.5 and
    action: fail
  - id: blocked
    when: severity == "HIGH"
    action: block
  - id: misspelt
    when: cvss > 7
    action: warn
    descripton: a key the schema does not know
  - id: never
    when: severity == "critical"
    action: warn
  - id: unclosed
    when: (kev or epss > 0.5
    action: warn
exceptions:
  - vulnerability: CVE-2024-0001
    reason: accepted until the rebuild
    owner: platform-team
    expires: 2026-10-31
"""


def validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    code = main(["policy", "validate", str(path), "--as-of", "2026-11-21", *args])
    out = capsys.readouterr()
    return code, out.out, out.err.replace(f"{path}:", "policy.yaml:")


def test_every_kind_of_problem_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = validate(tmp_path, ONE_OF_EACH, capsys)
    assert code == ExitCode.USAGE
    assert out == ""
    grammar = "(join conditions with and/or/not; compare with ==, !=, <, <=, >, >=, in, not in)"
    assert err.splitlines() == [
        "policy.yaml:7:25: error: rule 'cut-short': the condition ends after `and`: something must follow it "
        f"{grammar}",
        "policy.yaml:11:13: error: rules[2].action: 'block' is not one of fail, warn",
        "policy.yaml:15:5: error: rules[3]: unknown key(s) 'descripton' (did you mean 'description'?)",
        "policy.yaml:17:11: warning: rule 'never': `severity == \"critical\"` can never match: severity is one of "
        "CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNTRIAGED (upper-case: \"CRITICAL\"), never \"critical\"",
        "policy.yaml:20:11: error: rule 'unclosed': '(' is opened here and never closed",
        "policy.yaml:26:14: error: exception CVE-2024-0001: expired on 2026-10-31 (21 days ago), so it never applies "
        "(renew it with a later `expires` and a reason, or delete it)",
        "policy.yaml: invalid (5 errors, 1 warning)",
    ]
    assert "invalid syntax" not in err and "was never closed" not in err and "['fail'" not in err


def test_a_valid_policy_counts_in_the_singular(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ONE_OF_EACH.split("  - id: cut-short")[0] + ONE_OF_EACH[ONE_OF_EACH.index("exceptions:"):]
    code, out, err = validate(tmp_path, text.replace("2026-10-31", "2026-11-21"), capsys)  # the last day it holds
    assert (code, err) == (ExitCode.PASS, "")
    assert out.endswith("policy.yaml: ok (1 rule, 1 exception)\n")


def test_an_expired_exception_alone_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ONE_OF_EACH.split("  - id: cut-short")[0] + ONE_OF_EACH[ONE_OF_EACH.index("exceptions:"):]
    code, _, err = validate(tmp_path, text.replace("2026-10-31", "2026-11-20"), capsys)
    assert code == ExitCode.USAGE
    assert "error: exception CVE-2024-0001: expired on 2026-11-20 (1 day ago)" in err


def test_warnings_alone_pass_and_a_bad_as_of_is_a_usage_error(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    text = "version: 1\nrules:\n  - {id: w, when: 'epss > 50', action: warn}\n"
    code, out, err = validate(tmp_path, text, capsys)
    assert code == ExitCode.PASS
    assert err.startswith("policy.yaml:3:20: warning: rule 'w': `epss > 50` can never match")
    assert out.endswith("ok (1 rule, 0 exceptions)\n")
    assert validate(tmp_path, text, capsys, "--as-of", "yesterday")[0] == ExitCode.USAGE


def test_other_files_are_still_checked_after_a_broken_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nrules: [\n")
    assert main(["policy", "validate", str(broken), "default", "kev-only"]) == ExitCode.USAGE
    out = capsys.readouterr()
    assert f"{broken}:3:1: error: invalid YAML" in out.err
    assert "default.yaml: ok (6 rules, 0 exceptions)" in out.out and "kev-only.yaml: ok" in out.out
