"""A local wire-level emulator of the imagebuilder, inspector2 and ec2 APIs, for tests and benchmarks."""

from .app import Call, Violation
from .emulator import Emulator
from .factories import (
    ACCOUNT,
    REGION,
    finding_arn,
    image_arn,
    image_finding,
    image_scan_finding,
    inspector_finding,
    pipeline_arn,
)
from .faults import DetailFault, Faults

__all__ = [
    "ACCOUNT",
    "REGION",
    "Call",
    "DetailFault",
    "Emulator",
    "Faults",
    "Violation",
    "finding_arn",
    "image_arn",
    "image_finding",
    "image_scan_finding",
    "inspector_finding",
    "pipeline_arn",
]
