"""Every shipped policy validates, and its policy tests pass."""

from __future__ import annotations

import pytest

from gate.cli.main import main
from gate.policy.loader import load_policy, shipped_policies
from gate.policy_cases import run_test_file
from tests.conftest import ROOT


@pytest.mark.parametrize("name", sorted(shipped_policies()))
def test_shipped_policy_is_valid_and_tested(name: str) -> None:
    policy = load_policy(name)
    assert policy.rules
    tests = ROOT / "policies" / f"{name}.test.yaml"
    outcomes = list(run_test_file(tests))
    assert outcomes, f"{tests} has no cases"
    failures = [o for o in outcomes if not o.ok]
    assert not failures, failures
    # every rule is exercised by at least one case
    text = tests.read_text()
    assert all(r.id in text for r in policy.rules), [r.id for r in policy.rules if r.id not in text]


def test_default_policy_has_the_documented_rules() -> None:
    rules = {r.id: (r.action.value, r.when) for r in load_policy("default").rules}
    assert rules == {
        "known-exploited": ("fail", "kev"),
        "kev-overdue": ("fail", "kev and kev_due_date < today"),
        "likely-exploited": ("fail", "epss > 0.5 and fix_available"),
        "critical-fixable": ("fail", 'severity == "CRITICAL" and fix_available'),
        "critical-unknown": ("fail", 'severity == "CRITICAL" and not enriched'),
        "high": ("warn", 'severity == "HIGH"'),
    }


def test_policy_test_command(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["policy", "test", str(ROOT / "policies")]) == 0
    assert "0 failed" in capsys.readouterr().out
    broken = tmp_path / "x.test.yaml"
    broken.write_text("policy: default\ncases:\n  - name: wrong on purpose\n    finding: {severity: LOW}\n"
                      "    expect: fail\n")
    assert main(["policy", "test", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    assert "wrong on purpose: expected fail, got pass" in out


def test_policy_fields_lists_every_registry_field_with_its_sources(capsys: pytest.CaptureFixture[str]) -> None:
    from gate.cli.main import main
    from gate.fields import FIELDS

    assert main(["policy", "fields"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(FIELDS)
    kev = next(line for line in lines if line.startswith("kev "))
    assert kev.endswith("[from: inspector, inspector-search, kev-catalog]")
