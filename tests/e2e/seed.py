"""Load the bundled example (examples/) into the emulator, so live runs and dry runs judge the same data."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import EXAMPLES
from tests.emulator import Emulator

IMAGE_ARN = "arn:aws:imagebuilder:us-east-1:111122223333:image/al2023-web-base/1.4.0/3"
PIPELINE_ARN = "arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/al2023-web-base"


def example_findings() -> list[dict[str, Any]]:
    pages = json.loads((EXAMPLES / "findings.json").read_text())
    return [f for page in pages for f in page["findings"]]


def seed_example(emu: Emulator) -> str:
    """The image with every example finding, and Inspector knowing what the saved Inspector files know."""
    emu.add_image(IMAGE_ARN, findings=example_findings(), pipeline_arn=PIPELINE_ARN)
    listed = json.loads((EXAMPLES / "inspector-findings.json").read_text())["findings"]
    saved = json.loads((EXAMPLES / "finding-details.json").read_text())
    details = {d["findingArn"]: d for d in saved["findingDetails"]}
    for item in listed:
        arn = item["findingArn"]
        emu.add_inspector_finding(
            arn=arn,
            vulnerability_id=item["packageVulnerabilityDetails"]["vulnerabilityId"],
            resource_tags={"Ec2ImageBuilderArn": IMAGE_ARN},
            epss=(item.get("epss") or {}).get("score"),
            exploit_available=item.get("exploitAvailable"),
            details=details.get(arn),
        )
    return IMAGE_ARN
