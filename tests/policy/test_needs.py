"""What each shipped policy's rules need, as `gate policy show` prints it and the README's table says it."""

from __future__ import annotations

import re

import pytest

from gate.policy.loader import load_policy, shipped_policies
from gate.policy.needs import rule_needs
from tests.conftest import ROOT


def _readme_row(name: str) -> tuple[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| `{re.escape(name)}` \| (.*?) \| (.*?) \|$", text, re.M)
    assert row is not None, f"README has no row for the shipped policy {name}"
    return row[1], row[2]


@pytest.mark.parametrize("name", sorted(shipped_policies()))
def test_the_readme_lists_what_each_shipped_policy_judges_from_exports(name: str) -> None:
    rows = rule_needs(load_policy(name))
    alone, more = _readme_row(name)
    judged = [r.label for r in rows if r.from_exports]
    if len(judged) == len(rows):
        assert (alone, more) == ("every rule", "–")
        return
    assert re.findall(r"`([^`]+)`", alone) == judged
    assert [label for label in re.findall(r"`([^`]+)`", more) if label in {r.label for r in rows}] == \
        [r.label for r in rows if not r.from_exports]


def test_needs_group_fields_by_what_answers_them() -> None:
    rows = {r.label: r for r in rule_needs(load_policy("ratchet"))}
    assert rows["kev-overdue"].needs == ((("kev", "kev_due_date"), ("KEV feed", "Inspector")),)
    assert rows["new-known-exploited"].needs == ((("kev",), ("KEV feed", "Inspector")), (("new",), ("a baseline",)))
    assert rows["high-or-critical"].needs == () and rows["high-or-critical"].from_exports
    assert not rows["critical-overdue"].from_exports
