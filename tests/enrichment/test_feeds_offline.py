"""The offline feeds: CISA's KEV catalog, FIRST's EPSS CSV, and saved Inspector output."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gate.enrichment.epss import EpssEnricher, EpssScores
from gate.enrichment.inspector_export import InspectorExport
from gate.enrichment.kev import KevCatalog, KevEnricher
from gate.errors import IncompleteError, InputError
from tests.conftest import DATA, EXAMPLES

KEV = DATA / "kev" / "known_exploited_vulnerabilities.json"
EPSS = DATA / "epss" / "epss_scores-2025-08-28.csv.gz"
EXCERPT = DATA / "epss" / "epss_excerpt_v2026.06.15_2026-09-29_first12rows.csv"


def test_real_kev_catalog() -> None:
    catalog = KevCatalog.load(KEV)
    assert catalog.version == "2025.08.25"
    assert len(catalog.entries) == 1404
    log4shell = catalog.entries["CVE-2021-44228"]
    assert log4shell.date_added == date(2021, 12, 10)
    answer = KevEnricher(catalog).enrich(["CVE-2021-44228", "CVE-2024-6000"])
    assert answer["CVE-2021-44228"].kev is not None
    assert answer["CVE-2024-6000"].kev is None
    assert answer["CVE-2024-6000"].kev_known_by == ("cisa-kev",)


@pytest.mark.slow
def test_real_epss_file_and_cross_checks() -> None:
    scores = EpssScores.load(EPSS)
    assert scores.model_version == "v2025.03.14"
    assert scores.score_date == datetime(2025, 8, 28, 12, 55, tzinfo=UTC)
    assert len(scores.scores) == 291_419
    assert scores.scores["CVE-2024-3400"] == (0.94326, 0.99945)
    assert scores.scores["CVE-2025-48384"] == (0.04084, 0.88105)
    enriched = EpssEnricher(scores).enrich(["CVE-2024-6003", "CVE-1999-99999"])
    assert enriched["CVE-2024-6003"].epss is not None
    assert enriched["CVE-2024-6003"].epss.score == 0.00035
    assert "CVE-1999-99999" not in enriched


def test_newer_epss_model_and_dropped_trailing_zero() -> None:
    scores = EpssScores.load(EXCERPT)
    assert scores.model_version == "v2026.06.15"
    assert len(scores.scores) == 12


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("#model_version:v1,score_date:2025-08-28T00:00:00Z\ncve,epss,percentile\nCVE-2024-1,1.5,0.9\n",
         ":3: score 1.5 is outside 0..1"),
        ("cve,epss,percentile\nCVE-2024-1,0.5,-0.1\n", ":2: percentile -0.1 is outside 0..1"),
        ("cve,epss,percentile\nCVE-2024-1,nan,0.1\n", ":2: score nan is outside 0..1"),
        ("cve,epss,percentile\nCVE-2024-1,abc,0.1\n", "is not a number"),
        ("id,score\nCVE-1,0.1\n", "not an EPSS CSV"),
    ],
)
def test_bad_epss_files(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "epss.csv.gz"
    path.write_bytes(gzip.compress(body.encode()))
    with pytest.raises(InputError) as err:
        EpssScores.load(path)
    assert message in err.value.message


def test_bad_kev_file(tmp_path: Path) -> None:
    path = tmp_path / "kev.json"
    path.write_text(json.dumps({"title": "x"}))
    with pytest.raises(InputError, match="not a CISA KEV catalog"):
        KevCatalog.load(path)


def test_saved_inspector_output_maps_details_to_cves() -> None:
    export = InspectorExport([EXAMPLES / "inspector-findings.json", EXAMPLES / "finding-details.json"])
    found = export.enrich(["CVE-2023-4863", "CVE-2099-0001"])
    webp = found["CVE-2023-4863"]
    assert webp.kev is not None and webp.kev.date_added == date(2023, 9, 13)
    assert webp.kev.provenance is not None and webp.kev.provenance.source == "inspector:BatchGetFindingDetails"
    assert webp.exploit_available is not None and webp.exploit_available.value is True
    assert "CVE-2099-0001" not in found


def test_details_without_the_list_findings_output_are_refused() -> None:
    with pytest.raises(InputError, match="no known CVE"):
        InspectorExport([EXAMPLES / "finding-details.json"])


def test_saved_internal_error_means_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"findingDetails": [], "errors": [
        {"findingArn": "arn:aws:inspector2:us-east-1:1:finding/x", "errorCode": "INTERNAL_ERROR",
         "errorMessage": "try again"}]}))
    with pytest.raises(IncompleteError, match="INTERNAL_ERROR"):
        InspectorExport([path])
