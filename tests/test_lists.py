"""Lists people copy (report formats, shipped policies) are checked against the one place that defines them."""

from __future__ import annotations

import re

import pytest
import yaml

from gate.cli.main import main
from gate.policy.loader import shipped_policies
from gate.reports.registry import Format
from gate.vocab import is_build_version_arn
from tests.conftest import ROOT

FORMATS = [f.value for f in Format]
POLICIES = sorted(shipped_policies())


def _action_input(name: str) -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    description: str = action["inputs"][name]["description"]
    return " ".join(description.split())


def _listed(text: str, before: str) -> list[str]:
    """The comma-separated names in the parentheses right after `before` (`(a, b)` or `(label: a, b)`)."""
    match = re.search(re.escape(before) + r"\s*\((?:[a-z ]+: )?([^)]*)\)", text)
    assert match, f"no list after {before!r} in {text!r}"
    return [name.strip(" `") for name in match[1].split(",")]


def test_the_actions_report_formats_are_the_registrys() -> None:
    assert _listed(_action_input("reports"), "or newlines") == FORMATS


def test_the_actions_shipped_policies_are_the_packages() -> None:
    assert sorted(_listed(_action_input("policy"), "shipped policy name")) == POLICIES


def test_the_readme_lists_every_format_and_shipped_policy() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    report_row = next(line for line in readme.splitlines() if line.startswith("| `--report FORMAT=PATH`"))
    assert re.findall(r"`([a-z]+)`", report_row.split("|")[3]) == FORMATS
    policy_row = next(line for line in readme.splitlines() if line.startswith("| `--policy NAME\\|FILE`"))
    assert sorted(_listed(policy_row, "a shipped policy")) == POLICIES


def test_policy_show_help_lists_every_shipped_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "show", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert sorted(_listed(text, "a shipped policy")) == POLICIES


def test_check_help_lists_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    match = re.search(r"write a report: ([a-z, ]+);", text)
    assert match and match[1].split(", ") == FORMATS


@pytest.mark.parametrize("literal", [
    pytest.param('"YES", "NO", "PARTIAL"', id="fix-values"),
    pytest.param('"none", "poc", "active"', id="ssvc-exploitation"),
    pytest.param('"partial", "total"', id="ssvc-technical-impact"),
    pytest.param("openvex.dev/ns/", id="openvex-context"),
    pytest.param("arn:aws[a-z-]*:imagebuilder:", id="imagebuilder-arn-pattern"),
])
def test_each_closed_set_of_values_is_written_once_in_vocab(literal: str) -> None:
    where = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "gate").rglob("*.py"))
             if literal in path.read_text(encoding="utf-8")]
    assert where == ["gate/vocab.py"]


@pytest.mark.parametrize(("arn", "build_version"), [
    ("arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.4.2/3", True),
    ("arn:aws-us-gov:imagebuilder:us-gov-west-1:123456789012:image/web/1.4.2/3", True),
    ("arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.4.2", False),
    ("arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.4.2/x", False),
    ("arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/web", False),
    ("arn:aws:imagebuilder:us-east-1:12345:image/web/1.4.2/3", False),
    ("arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.4.2/3\n", False),
])
def test_an_image_build_version_arn_names_name_version_and_build(arn: str, build_version: bool) -> None:
    assert is_build_version_arn(arn) is build_version
