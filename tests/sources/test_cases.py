"""Data-driven export cases (`cases/*/`): each way an export is cut, repeated or corrupted, and its refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.cli.main import main

CASES = Path(__file__).parent / "cases"
POLICY = CASES / "policy.yaml"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())


def test_there_are_cases_of_both_kinds() -> None:
    codes = {(c / "expected.txt").read_text().split("\n")[0] for c in _cases()}
    assert codes == {"0", "2", "3"}


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_case(case: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, message = (case / "expected.txt").read_text().split("\n")[:2]
    inputs = sorted(str(p) for p in case.glob("input*.json"))
    argv = ["check", "--policy", str(POLICY), "--as-of", "2026-11-21", "--no-cached-feeds"]
    for path in inputs:
        argv += ["--findings", path]
    assert main(argv) == int(code)
    err = capsys.readouterr().err
    if message:
        assert err == f"gate: error: {message.replace('{case}', str(case))}\n"
    else:
        assert err == ""
