"""The terminal summary of a real-sized run fits a CI log: 302 findings, 25 blockers, at most 80 lines.

The run is the bundled example cut to its first 302 findings (the same pages, the last one short),
judged by a policy that blocks 25 of them; the whole summary is a reviewed golden file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.conftest import EXAMPLES
from tests.reports.conftest import Golden

POLICY = """\
version: 1
name: ci-log
rules:
  - id: known-exploited
    when: kev
    action: fail
  - id: likely-exploited
    when: epss > 0.5 and fix_available
    action: fail
  - id: high-epss
    when: severity in ["HIGH", "CRITICAL"] and epss > 0.0006 and fix_available
    action: fail
  - id: high
    when: severity == "HIGH"
    action: warn
  - id: medium-fixable
    when: severity == "MEDIUM" and fix_available
    action: warn
"""


def _first_findings(count: int, out: Path) -> None:
    """The example export's first `count` findings, paged as the CLI pages them (25 a page)."""
    pages = json.loads((EXAMPLES / "findings.json").read_text())
    findings = [f for page in pages for f in page["findings"]][:count]
    cut = []
    for n, start in enumerate(range(0, count, 25)):
        page = {"requestId": pages[n]["requestId"], "findings": findings[start : start + 25]}
        if start + 25 < count:
            page["nextToken"] = pages[n]["nextToken"]
        cut.append(page)
    out.write_text(json.dumps(cut))


@pytest.fixture
def run_302(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(isolated_env)  # NOTE: relative paths, so the summary names the same files everywhere
    (isolated_env / "examples").symlink_to(EXAMPLES)
    _first_findings(302, isolated_env / "findings-302.json")
    (isolated_env / "ci-log.yaml").write_text(POLICY)
    return ["check", "--findings", "findings-302.json", "--policy", "ci-log.yaml",
            "--finding-details", "examples/inspector-findings.json",
            "--finding-details", "examples/finding-details.json",
            "--kev-catalog", "examples/kev.json", "--epss-scores", "examples/epss-scores.csv.gz",
            "--as-of", "2025-08-30"]


def test_302_findings_fit_80_lines(golden: Golden, run_302: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(run_302) == ExitCode.VIOLATION
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "gate: FAIL — 25 blocking, 261 warnings, 0 excepted, 16 passed (302 findings)"
    assert len(out.splitlines()) <= 80
    assert out.count("    ✗ ") == 25  # every blocker, one line each
    golden.check("ci-log-302.txt", out)


def test_302_findings_verbose_lists_every_reason(run_302: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*run_302, "--verbose"]) == ExitCode.VIOLATION
    out = capsys.readouterr().out
    assert out.count("    ✗ ") == 25
    assert out.count("fail high-epss: ") == 24
    assert "CVE-2025-26465" in out and len(out.splitlines()) > 300  # every warning under its rule
