"""The lists users read — shipped policies, report formats — name everything the code has."""

from __future__ import annotations

import re

import pytest
import yaml

from gate.cli.main import main
from gate.policy.loader import shipped_policies
from gate.reports.registry import Format
from tests.conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main([*argv, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())


def _readme_row(option: str) -> str:
    row = re.search(rf"^\| `{re.escape(option)}(?: [^`]*)?` \|.*$", README, re.M)  # the options table's row
    assert row is not None, option
    return row[0]


def test_every_shipped_policy_is_named_wherever_policies_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    places = {
        "action.yml policy input": ACTION["inputs"]["policy"]["description"],
        "gate check --help": _help(capsys, "check"),
        "gate policy show --help": _help(capsys, "policy", "show"),
        "README --policy row": _readme_row("--policy"),
    }
    for name in shipped_policies():
        for place, text in places.items():
            assert re.search(rf"\b{re.escape(name)}\b", text), f"{place} does not name the shipped policy {name}"


def test_every_report_format_is_named_wherever_formats_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    places = {
        "action.yml reports input": ACTION["inputs"]["reports"]["description"],
        "gate check --help": _help(capsys, "check"),
        "README --report row": _readme_row("--report"),
    }
    for fmt in Format:
        for place, text in places.items():
            assert re.search(rf"\b{fmt.value}\b", text), f"{place} does not name the format {fmt.value}"


def test_the_options_table_has_no_loose_rows() -> None:
    """Every `| `-…` |` row sits in a table: a blank line before it would end the table and show it as text."""
    lines = README.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("| `-"):
            assert lines[n - 1].startswith("|"), f"README line {n + 1} is outside its table: {line[:60]}"
