"""The shipped policies' KEV deadline and ransomware rules, judged on the real catalog's values (CISA 2025.08.25)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from gate.cli.main import main
from tests.conftest import ROOT

CATALOG = ROOT / "tests" / "data" / "kev" / "known_exploited_vulnerabilities.json"


def entry(cve: str) -> dict[str, str]:
    found = [v for v in json.loads(CATALOG.read_text())["vulnerabilities"] if v["cveID"] == cve]
    assert len(found) == 1
    return found[0]


def case_file(tmp_path: Path, policy: str, as_of: date, cve: str, expect: str, rules: list[str]) -> Path:
    kev = entry(cve)
    ransomware = {"Known": True, "Unknown": False}[kev["knownRansomwareCampaignUse"]]
    text = (f"policy: {ROOT / 'policies' / policy}.yaml\nas_of: {as_of.isoformat()}\ncases:\n"
            f"  - name: {cve} as of {as_of}\n    finding: {{severity: LOW, fix: NO}}\n"
            f"    enrichment: {{kev: true, kev_ransomware: {str(ransomware).lower()}, "
            f"kev_date_added: {kev['dateAdded']}, kev_due_date: {kev['dueDate']}}}\n"
            f"    expect: {expect}\n    rules: [{', '.join(rules)}]\n")
    path = tmp_path / f"{policy}.test.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("policy", "cve", "ransomware_rule"), [
    ("strict", "CVE-2023-4966", ["kev-ransomware"]),  # Citrix Bleed: knownRansomwareCampaignUse Known
    ("strict", "CVE-2024-1086", []),  # Unknown
    ("default", "CVE-2023-4966", []),  # default does not read kev_ransomware (only the KEV catalog answers it)
])
def test_overdue_from_the_day_after_cisas_due_date(policy: str, cve: str, ransomware_rule: list[str],
                                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    due = date.fromisoformat(entry(cve)["dueDate"])
    on_time = case_file(tmp_path, policy, due, cve, "fail", ["known-exploited", *ransomware_rule])
    assert main(["policy", "test", str(on_time)]) == 0, capsys.readouterr().out
    late = case_file(tmp_path, policy, due + timedelta(days=1), cve, "fail",
                     ["known-exploited", "kev-overdue", *ransomware_rule])
    assert main(["policy", "test", str(late)]) == 0, capsys.readouterr().out


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    due = date.fromisoformat(entry("CVE-2023-4966")["dueDate"])
    assert main(["policy", "test", str(case_file(tmp_path, "strict", due, "CVE-2023-4966", "fail",
                                                  ["known-exploited"]))]) == 1
