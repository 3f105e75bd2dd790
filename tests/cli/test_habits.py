"""Habits from Trivy and Grype: `-f/-o` for one report, `-q`, and `gate version` naming the data it would use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.enrichment.feeds import update_feeds
from gate.errors import ExitCode
from tests.cli.test_check import DEMO
from tests.enrichment.feed_server import Site, site

__all__ = ["site"]


def test_format_and_output_write_one_report(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = isolated_env / "gate.sarif"
    assert main([*DEMO, "-f", "sarif", "-o", str(out)]) == ExitCode.VIOLATION
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert capsys.readouterr().out.startswith("gate: FAIL — 9 blocking")  # the summary stays on the terminal


def test_format_alone_goes_to_stdout_and_the_summary_to_stderr(isolated_env: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--format", "JSON"]) == ExitCode.VIOLATION
    captured = capsys.readouterr()
    assert json.loads(captured.out)["verdict"] == "fail"
    assert captured.err.startswith("gate: FAIL — 9 blocking")


def test_format_and_report_add_up_and_clash_like_reports(isolated_env: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    json_path, md_path = isolated_env / "r.json", isolated_env / "s.md"
    assert main([*DEMO, "-f", "markdown", "-o", str(md_path), "--report", f"json={json_path}"]) == 1
    assert md_path.read_text().startswith("## ❌ gate: FAIL") and json_path.is_file()
    assert main([*DEMO, "-f", "json", "-o", str(json_path), "--report", f"json={json_path}"]) == ExitCode.USAGE
    assert main([*DEMO, "-f", "yaml"]) == ExitCode.USAGE
    assert "'yaml' is not one of json, sarif" in capsys.readouterr().err


def test_table_to_stdout_is_the_summary_once(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "-f", "table"]) == ExitCode.VIOLATION
    assert capsys.readouterr().out.count("gate: FAIL — 9 blocking") == 2  # first and last line, printed once


def test_quiet_prints_nothing_but_keeps_the_exit_code_and_reports(isolated_env: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = isolated_env / "r.json"
    assert main([*DEMO, "-q", "-o", str(out), "-f", "json", "--fail-on", "never"]) == ExitCode.PASS
    assert capsys.readouterr() == ("", "")
    assert json.loads(out.read_text())["verdict"] == "fail"
    assert main([*DEMO, "--quiet", "--policy", "nope"]) == ExitCode.USAGE
    assert "no shipped policy named 'nope'" in capsys.readouterr().err  # errors still say why


def test_version_names_gate_the_feeds_and_the_cache(site: Site, isolated_env: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    cache = isolated_env / "cache"
    assert main(["version"]) == ExitCode.PASS
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("gate ") and text[1] == f"cache: {cache}"
    assert text[2] == "CISA KEV: not cached (run `gate feeds update`, or pass --kev-catalog FILE)"
    update_feeds(cache, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz", timeout=5)
    assert main(["version"]) == ExitCode.PASS
    text = capsys.readouterr().out.splitlines()
    assert text[2].startswith("CISA KEV: catalog 2025.08.25, data of 2025-08-25, fetched ")
    assert text[3].startswith("FIRST EPSS: model v2025.03.14, data of 2025-08-28, fetched ")
    assert text[4] == "CISA Vulnrichment: no CVE records cached (--vulnrichment DIR is read as it is)"
    assert main(["version", "--format", "json"]) == ExitCode.PASS
    doc = json.loads(capsys.readouterr().out)
    assert doc["cacheDir"] == str(cache)
    kev = doc["feeds"]["kev"]
    assert (kev["version"], kev["asOf"]) == ("2025.08.25", "2025-08-25T17:04:19.979600Z")
    assert (doc["feeds"]["epss"]["version"], doc["feeds"]["epss"]["asOf"]) == ("v2025.03.14", "2025-08-28T12:55:00Z")
    assert doc["vulnrichment"] == {"cachedRecords": 0, "newestFetchedAt": None, "problem": None}


def test_version_reads_a_damaged_answer_cache_as_a_problem_not_data(isolated_env: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (isolated_env / "cache").mkdir()
    (isolated_env / "cache" / "answers-v1.sqlite").write_bytes(b"not a database" * 100)
    assert main(["version", "--format", "json"]) == ExitCode.PASS
    problem = json.loads(capsys.readouterr().out)["vulnrichment"]["problem"]
    assert problem.startswith("the answer cache cannot be read")


def test_inventory_counts_the_kind_the_online_enricher_stores() -> None:
    from gate.enrichment import inventory, vulnrichment_online

    assert inventory.VULNRICHMENT_KIND == vulnrichment_online.KIND
