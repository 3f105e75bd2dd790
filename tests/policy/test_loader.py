"""Policy files: every bad input gets one line naming the file, the line and what is wrong (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate import yamlsrc
from gate.cli.main import main
from gate.errors import ExitCode, PolicyError
from gate.policy.loader import load_policy, parse_policy
from tests.conftest import EndlessFifo

GOOD = """\
version: 1
name: production
rules:
  - id: known-exploited
    description: Anything in CISA KEV blocks the release
    when: kev
    action: fail
  - id: likely-exploited
    when: epss > 0.5 and fix_available
    action: fail
  - id: high
    when: severity == "HIGH"
    action: warn
exceptions:
  - vulnerability: CVE-2023-4911
    packages: [glibc]
    reason: not reachable in this image (SEC-123)
    owner: platform-team
    expires: 2027-01-31
"""


def test_the_issue_example_loads() -> None:
    policy = parse_policy(GOOD, "p.yaml")
    assert [r.id for r in policy.rules] == ["known-exploited", "likely-exploited", "high"]
    assert policy.exceptions[0].expires.isoformat() == "2027-01-31"
    assert policy.exceptions[0].packages == ("glibc",)


def errors_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "p.yaml")
    return err.value.diagnostics().splitlines()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace("rules:\n  - id: known", "rules:\n  - id: known\n   bad"), "p.yaml:5"),
        (lambda t: "- just\n- a list\n", "p.yaml:1: a policy must be a mapping"),
        (lambda t: "42\n", "p.yaml:1: a policy must be a mapping"),
        (lambda t: t.replace("    action: warn", "    actoin: warn"),
         "p.yaml:13:5: rules[2]: unknown key(s) 'actoin' (did you mean 'action'?)"),
        (lambda t: t.replace("id: high", "id: likely-exploited"),
         "p.yaml:11:9: duplicate rule id 'likely-exploited' (first at line 8)"),
        (lambda t: t.replace("2027-01-31", "2027-02-30"),
         "p.yaml:19:14: exceptions[0].expires: '2027-02-30' is not a valid YYYY-MM-DD date"),
        (lambda t: t.replace("when: kev", "when: kev and"), "p.yaml:6:"),
        (lambda t: t.replace("fix_available", "fix_avaliable"),
         "p.yaml:9:26: rule 'likely-exploited': unknown field `fix_avaliable` (did you mean `fix_available`?)"),
        (lambda t: t.replace("when: kev", "when: kev.__class__"),
         "p.yaml:6:11: rule 'known-exploited': attribute access is not allowed"),
        (lambda t: t.replace("action: warn", "action: warning"),
         "p.yaml:13:13: rules[2].action: 'warning' is not one of fail, warn"),
        (lambda t: t.replace("    reason: not reachable in this image (SEC-123)\n", ""),
         "p.yaml:15:5: exceptions[0]: missing 'reason'"),
        (lambda t: t.replace("    expires: 2027-01-31\n", ""),
         "p.yaml:15:5: exceptions[0]: missing 'expires'"),
        (lambda t: t.replace("version: 1", "version: 2"), "p.yaml:1:10: version: 2 is not supported"),
        (lambda t: t.replace("name: production", "name: a\nname: b"), "p.yaml:3: duplicate key 'name'"),
        (lambda t: t + "extra: [\n", "p.yaml:21:1: invalid YAML"),
    ],
)
def test_bad_policies_name_file_and_line(mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    lines = errors_of(mutate(GOOD))
    assert any(line.startswith(expected) for line in lines), lines


def test_validate_reports_every_problem() -> None:
    text = GOOD.replace("action: warn", "action: warning").replace("fix_available", "fix_avaliable")
    lines = errors_of(text)
    assert len(lines) == 2
    assert "warning" in lines[0] or "warning" in lines[1]


def test_unknown_exception_rule_is_an_error() -> None:
    lines = errors_of(GOOD.replace("    packages: [glibc]", "    rules: [hihg]"))
    assert lines == ["p.yaml:16:12: exception CVE-2023-4911: unknown rule 'hihg' (did you mean 'high'?)"]


def test_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    # Refused at the first alias event, before anything is composed or expanded.
    assert errors_of(bomb) == ["p.yaml:2: YAML aliases (*name) are not supported"]


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (2 * 1024 * 1024))
    with pytest.raises(PolicyError, match="larger than"):
        load_policy(str(path))


def test_an_endless_policy_test_file_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    # A FIFO says st_size 0, so the size check before reading passed and everything was read.
    # NOTE: 16 MiB on offer, if anyone read it all
    with (EndlessFifo(tmp_path / "p.test.yaml", b"#" * 4096, 4096) as fifo,
          pytest.raises(PolicyError, match="larger than 1024 KiB")):
        yamlsrc.read_text(fifo.path)
    assert fifo.written < 4 * 1024 * 1024


def test_missing_policy_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nope\.yaml: no such file") as err:
        load_policy(str(tmp_path / "nope.yaml"))
    assert err.value.exit_code == ExitCode.USAGE


def test_unknown_shipped_name_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "validate", "defualt"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "no shipped policy named 'defualt'" in err
    assert "did you mean 'default'?" in err


def test_validate_cli_prints_file_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD.replace("action: warn", "action: block"))
    assert main(["policy", "validate", str(path), "default"]) == ExitCode.USAGE
    out = capsys.readouterr()
    assert f"{path}:13:13: error: rules[2].action: 'block' is not one of fail, warn\n" in out.err
    assert f"{path}: invalid (1 error, 0 warnings)\n" in out.err
    assert "default.yaml: ok" in out.out


def test_check_with_invalid_policy_exits_2_before_reading_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD.replace("when: kev", "when: kev or"))
    code = main(["check", "--policy", str(path), "--findings", str(tmp_path / "missing.json")])
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"gate: error: {path}:6:")
    assert len(err.splitlines()) == 1


def test_schema_command_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "schema"]) == 0
    assert '"title": "gate policy, version 1"' in capsys.readouterr().out


@pytest.mark.slow
def test_a_policy_with_very_many_rules_loads_or_is_refused_in_one_line(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # Within the 1 MiB limit: the deciding function's rule bit 1 << 14300 has more than the 4,300
    # digits Python writes out, which ended in 'internal error: ValueError' (exit 3).
    count = 14_300
    path = tmp_path / "wide.yaml"
    path.write_text("version: 1\nrules:\n" + "".join(f"  - {{id: r{i}, when: kev, action: fail}}\n"
                                                     for i in range(count)))
    assert main(["policy", "validate", str(path)]) == ExitCode.PASS
    assert capsys.readouterr().out == f"{path}: ok ({count} rules, 0 exceptions)\n"
