"""`gate allowed-amis criteria`: the whole document replace-image-criteria-in-allowed-images-settings takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from gate.cli.main import main
from gate.errors import ExitCode
from tests.emulator import Emulator

EXISTING = {"State": "audit-mode", "ManagedBy": "account", "ImageCriteria": [
    {"ImageProviders": ["amazon"], "CreationDateCondition": {"MaximumDaysSinceCreated": 300}},
    {"ImageWatermarks": [{"WatermarkKey": "123456789012:gate-passed", "MaximumDaysSinceWatermarkCreated": 7}]},
]}


def printed(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def valid_input(doc: dict[str, Any]) -> list[str]:
    shape = botocore.session.get_session().get_service_model("ec2").operation_model(
        "ReplaceImageCriteriaInAllowedImagesSettings").input_shape
    report = ParamValidator().validate(doc, shape).generate_report()
    return [line for line in report.splitlines() if line]


def test_the_caller_account_names_the_key(aws_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    aws_env.account = "210987654321"
    assert main(["allowed-amis", "criteria", "--watermark", "gate-passed", "--max-age", "14d"]) == ExitCode.PASS
    doc = printed(capsys)
    assert doc == {"ImageCriteria": [{"ImageWatermarks": [
        {"WatermarkKey": "210987654321:gate-passed", "MaximumDaysSinceWatermarkCreated": 14}]}]}
    assert valid_input(doc) == []
    assert aws_env.count("GetCallerIdentity") == 1


def test_existing_criteria_are_kept_and_an_earlier_run_replaced(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(EXISTING))
    args = ["allowed-amis", "criteria", "--watermark", "gate-passed", "--account", "123456789012",
            "--existing", str(path)]
    assert main(args) == ExitCode.PASS
    doc = printed(capsys)
    assert doc["ImageCriteria"][0] == EXISTING["ImageCriteria"][0]
    assert doc["ImageCriteria"][1:] == [{"ImageWatermarks": [
        {"WatermarkKey": "123456789012:gate-passed", "MaximumDaysSinceWatermarkCreated": 30}]}]
    assert valid_input(doc) == []


@pytest.mark.parametrize("args", [["--account", "12345"], ["--max-age", "0d"], ["--max-age", "30h"],
                                  ["--max-age", "9999d"], ["--watermark", "x*"]],
                         ids=["short-account", "zero-age", "hours", "too-old", "bad-name"])
def test_bad_options_are_exit_2(args: list[str]) -> None:
    base = {"--watermark": "gate-passed", "--account": "123456789012"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    assert main(["allowed-amis", "criteria", *[x for kv in base.items() for x in kv]]) == ExitCode.USAGE


def test_an_unreadable_existing_file_is_exit_2_or_3(tmp_path: Path) -> None:
    base = ["allowed-amis", "criteria", "--watermark", "gate-passed", "--account", "123456789012", "--existing"]
    assert main([*base, str(tmp_path / "absent.json")]) == ExitCode.INCOMPLETE
    (tmp_path / "cut.json").write_text('{"ImageCriteria": [')
    assert main([*base, str(tmp_path / "cut.json")]) == ExitCode.USAGE


@pytest.mark.parametrize("entry", [
    {"WatermarkKey": "123456789012:gate-passed", "MaximumDaysSinceWatermarkCreated": 365},
    {"WatermarkKey": "123456789012:gate-passed"},
    {"WatermarkKey": "123456789012:*", "MaximumDaysSinceWatermarkCreated": 90},
    {"WatermarkKey": "*:gate-pass??"},
], ids=["longer-age", "no-age", "wildcard-name", "wildcard-account"])
def test_an_existing_criterion_that_admits_the_mark_for_longer_is_exit_2(tmp_path: Path, entry: dict[str, Any],
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Criteria are alternatives: one that admits the same mark without the age bound makes --max-age void."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"State": "enabled", "ImageCriteria": [
        {"ImageNames": ["web-*"], "ImageWatermarks": [entry, {"WatermarkKey": "999999999999:other"}]}]}))
    args = ["allowed-amis", "criteria", "--watermark", "gate-passed", "--account", "123456789012",
            "--existing", str(path), "--max-age", "30d"]
    assert main(args) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.out == "" and "criterion 1" in captured.err and "30" in captured.err


def test_an_existing_criterion_with_a_tighter_bound_or_another_key_is_kept(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    kept = {"ImageWatermarks": [{"WatermarkKey": "123456789012:gate-passed", "MaximumDaysSinceWatermarkCreated": 7},
                                {"WatermarkKey": "123456789012:gate-passed-[old]"}]}
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"ImageCriteria": [kept]}))
    args = ["allowed-amis", "criteria", "--watermark", "gate-passed", "--account", "123456789012",
            "--existing", str(path)]
    assert main(args) == ExitCode.PASS
    assert printed(capsys)["ImageCriteria"][0] == kept


def test_without_existing_the_replace_all_is_said_on_stderr(aws_env: Emulator,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["allowed-amis", "criteria", "--watermark", "gate-passed", "--account", "123456789012"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ImageCriteria"][0]["ImageWatermarks"][0]["WatermarkKey"].endswith("gate-passed")
    assert "replaces all" in captured.err and "--existing" in captured.err
