"""Three builds of one pipeline, and one of another, as the emulator serves them and as exports.

Build 1 has openssl (CRITICAL, fixable), curl (HIGH) and zlib (MEDIUM). Build 2 bumps openssl's
version (the same finding), keeps curl, fixes zlib and adds glibc (CRITICAL, fixable) and libwebp
(CVE-2023-4863, in CISA KEV). Build 3 keeps openssl, curl, glibc and libwebp. Image Builder observes
every finding afresh in each build, so only the baseline can say how long one has been open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.emulator import Emulator, image_arn, image_scan_finding, pipeline_arn

PIPELINE = pipeline_arn("web")
OTHER_PIPELINE = pipeline_arn("batch")
BUILDS = {n: image_arn("web", "1.0.0", n) for n in (1, 2, 3)}
OTHER_BUILD = image_arn("batch", "1.0.0", 1)
CREATED = {1: "2026-09-01T10:00:00Z", 2: "2026-10-01T10:00:00Z", 3: "2026-10-20T10:00:00Z"}
OPENSSL, CURL, ZLIB, GLIBC, WEBP = "CVE-2099-1001", "CVE-2099-1002", "CVE-2099-1003", "CVE-2099-1004", "CVE-2023-4863"


def _at(build: int) -> str:
    return CREATED[build].replace("Z", "+00:00")


def findings(build: int) -> list[dict[str, Any]]:
    """The ImageScanFindings of one build, as the AWS CLI prints them (without the image ARNs)."""
    seen = _at(build)
    listed = [
        image_scan_finding(OPENSSL, "CRITICAL", package="openssl", version=f"3.0.{7 + build}", observed=seen),
        image_scan_finding(CURL, "HIGH", package="curl", version="8.5.0", fixed_in=None, observed=seen),
    ]
    if build == 1:
        listed.append(image_scan_finding(ZLIB, "MEDIUM", package="zlib", version="1.2.13", observed=seen))
    else:
        listed.append(image_scan_finding(GLIBC, "CRITICAL", package="glibc", version="2.34", observed=seen))
        listed.append(image_scan_finding(WEBP, "LOW", package="libwebp", version="1.2.0", fixed_in=None,
                                         observed=seen))
    return listed


def seed(emulator: Emulator, builds: tuple[int, ...] = (1, 2, 3)) -> None:
    for n in builds:
        emulator.add_image(BUILDS[n], findings(n), pipeline_arn=PIPELINE, date_created=CREATED[n])


def export(path: Path, build: int, *, pipeline: str | None = PIPELINE, arn: str | None = None) -> Path:
    """The build's `list-image-scan-findings` output, with the ARNs Image Builder adds to each finding."""
    listed: list[Mapping[str, Any]] = []
    for f in findings(build):
        item = {**f, "imageBuildVersionArn": arn or BUILDS[build]}
        if pipeline:
            item["imagePipelineArn"] = pipeline
        listed.append(item)
    path.write_text(json.dumps({"findings": listed}))
    return path
