"""A small fleet in the emulator: pipelines in two regions, builds sharing CVEs, feeds written to files.

One CVE (`SHARED`) is in every build; `KEV_LATER` is in some builds and joins the KEV catalog between
two sweeps; `CRITICAL_FIX` fails the builds that hold it under the default policy from the start.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.emulator import Emulator, image_arn, image_scan_finding, pipeline_arn

REGIONS = ("us-east-1", "eu-west-1")
SHARED = "CVE-2024-1000"
KEV_LATER = "CVE-2024-2000"
CRITICAL_FIX = "CVE-2024-3000"
OTHER = ("CVE-2024-4000", "CVE-2024-4001", "CVE-2024-4002")
AS_OF = "2026-12-01"
FEED_DAY = "2026-11-30"


@dataclass
class Fleet:
    pipelines: list[str] = field(default_factory=list)
    builds: list[str] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    """Builds the default policy fails from the start (they hold CRITICAL_FIX)."""
    holding_kev_later: set[str] = field(default_factory=set)
    deleted: str = ""


def kev_document(cves: Sequence[str]) -> dict[str, object]:
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.11.30",
        "dateReleased": f"{FEED_DAY}T12:00:00.000Z", "count": len(cves),
        "vulnerabilities": [{
            "cveID": cve, "vendorProject": "OpenSSL", "product": "OpenSSL", "vulnerabilityName": "test entry",
            "dateAdded": "2026-11-29", "shortDescription": "test", "requiredAction": "Apply updates.",
            "dueDate": "2026-12-20", "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": []}
            for cve in cves],
    }


def write_feeds(folder: Path, *, kev: Sequence[str] = ("CVE-2023-9999",),
                epss: dict[str, float] | None = None) -> list[str]:
    """KEV and EPSS files in `folder`; returns the sweep/check options that read them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kev.json").write_text(json.dumps(kev_document(kev)))
    scores = {SHARED: 0.08, KEV_LATER: 0.08, CRITICAL_FIX: 0.01, **(epss or {})}
    rows = "".join(f"{cve},{score},0.5\n" for cve, score in sorted(scores.items()))
    text = f"#model_version:v2026.06.15,score_date:{FEED_DAY}T12:00:00Z\ncve,epss,percentile\n{rows}"
    (folder / "epss.csv.gz").write_bytes(gzip.compress(text.encode()))
    return ["--kev-catalog", str(folder / "kev.json"), "--epss-scores", str(folder / "epss.csv.gz"), "--as-of", AS_OF]


def seed_fleet(emu: Emulator, *, per_pipeline: int = 3, pipelines_per_region: int = 2) -> Fleet:
    """Pipelines in both regions, `per_pipeline` builds each, and one deleted build in the first pipeline."""
    fleet = Fleet()
    n = 0
    for region in REGIONS:
        for p in range(pipelines_per_region):
            pipeline = pipeline_arn(f"web-{region[:2]}-{p}", region=region)
            fleet.pipelines.append(pipeline)
            for b in range(1, per_pipeline + 1):
                n += 1
                arn = image_arn(f"web-{region[:2]}-{p}", "1.0.0", b, region=region)
                findings = [image_scan_finding(SHARED, "HIGH"), image_scan_finding(OTHER[n % 3], "MEDIUM",
                                                                                   package="zlib")]
                if n % 2 == 0:
                    findings.append(image_scan_finding(KEV_LATER, "MEDIUM", package="curl", fixed_in="8.5.0"))
                    fleet.holding_kev_later.add(arn)
                if n % 5 == 0:
                    findings.append(image_scan_finding(CRITICAL_FIX, "CRITICAL", package="glibc", fixed_in="2.34-100"))
                    fleet.failing.add(arn)
                emu.add_image(arn, findings, pipeline_arn=pipeline, date_created=f"2026-10-{b:02d}T12:00:00.000Z")
                fleet.builds.append(arn)
    deleted = image_arn(f"web-{REGIONS[0][:2]}-0", "0.9.0", 1, region=REGIONS[0])
    emu.add_image(deleted, [image_scan_finding(SHARED)], pipeline_arn=fleet.pipelines[0], status="DELETED",
                  date_created="2026-09-01T12:00:00.000Z")
    fleet.deleted = deleted
    for cve, score in ((SHARED, 0.08), (KEV_LATER, 0.08), (CRITICAL_FIX, 0.01)):
        emu.add_vulnerability(cve, {"epss": {"score": score}, "source": "NVD"})
    return fleet
