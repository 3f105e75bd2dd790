"""The emulated accounts' data: images with their scan findings, Inspector findings, CVEs."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .factories import parse_image_arn, stable_hex
from .faults import FaultState
from .pagination import Pager
from .validation import check_shape
from .wire import service_model, to_wire


def checked(service: str, shape_name: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` as given, after making sure its wire form is a valid ``shape_name``."""
    shape = service_model(service).shape_for(shape_name)
    problems = check_shape(to_wire(document, shape), shape, wire=True)
    if problems:
        raise ValueError(f"invalid {service} {shape_name}: " + "; ".join(problems))
    return dict(document)


@dataclass
class ImageRecord:
    """One image build version and what GetImage and the scan-finding listings report."""

    arn: str
    findings: list[dict[str, Any]]
    scanning_enabled: bool
    scan_states: list[str]
    scan_reason: str | None
    pipeline_arn: str | None
    date_created: str
    status: str
    image_type: str
    get_calls: int = 0

    def next_scan_state(self) -> str | None:
        """The scan status the next GetImage reports: walks scan_states, the last repeats."""
        if not self.scan_states:
            return None
        state = self.scan_states[min(self.get_calls, len(self.scan_states) - 1)]
        self.get_calls += 1
        return state

    def document(self, scan_status: str | None) -> dict[str, Any]:
        """The ``Image`` structure of GetImage."""
        doc = self.summary()
        del doc["owner"]
        doc |= {
            "enhancedImageMetadataEnabled": True,
            "imageScanningConfiguration": {"imageScanningEnabled": self.scanning_enabled},
        }
        if self.pipeline_arn:
            doc["sourcePipelineArn"] = self.pipeline_arn
            doc["sourcePipelineName"] = self.pipeline_arn.rsplit("/", 1)[1]
        if scan_status is not None:
            doc["scanState"] = {"status": scan_status}
            if self.scan_reason:
                doc["scanState"]["reason"] = self.scan_reason
        return doc

    def summary(self) -> dict[str, Any]:
        """The ``ImageSummary`` structure of ListImagePipelineImages."""
        parts = parse_image_arn(self.arn)
        outputs: dict[str, Any]
        if self.image_type == "DOCKER":
            uri = f"{parts['account']}.dkr.ecr.{parts['region']}.amazonaws.com/{parts['name']}"
            outputs = {"containers": [{"region": parts["region"], "imageUris": [uri]}]}
        else:
            ami = {
                "region": parts["region"],
                "image": f"ami-{stable_hex(self.arn, 17)}",
                "name": f"{parts['name']} {self.date_created[:10]}",
                "accountId": parts["account"],
            }
            outputs = {"amis": [ami]}
        return {
            "arn": self.arn,
            "name": parts["name"],
            "type": self.image_type,
            "version": f"{parts['version']}/{parts['build']}",
            "platform": "Linux",
            "osVersion": "Amazon Linux 2023",
            "state": {"status": self.status},
            "owner": parts["account"],
            "dateCreated": self.date_created,
            "outputResources": outputs,
            "buildType": "USER_INITIATED",
            "imageSource": "CUSTOM",
        }


@dataclass
class InspectorRecord:
    """One Inspector finding and, if Inspector still has them, its details."""

    finding: dict[str, Any]
    details: dict[str, Any] | None


def format_date_created(value: str | dt.datetime) -> str:
    """Image Builder's dateCreated string (it is a string, not a timestamp, in the model)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


@dataclass
class Store:
    """Everything the emulator knows; guard reads and writes with ``lock``."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    images: dict[str, ImageRecord] = field(default_factory=dict)
    inspector: dict[str, InspectorRecord] = field(default_factory=dict)
    vulnerabilities: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_image(self, record: ImageRecord) -> None:
        """Store ``record``; its findings get the image's ARNs and account where missing."""
        parts = parse_image_arn(record.arn)
        filled = []
        for finding in record.findings:
            item = dict(finding)
            item.setdefault("imageBuildVersionArn", record.arn)
            item.setdefault("awsAccountId", parts["account"])
            if record.pipeline_arn:
                item.setdefault("imagePipelineArn", record.pipeline_arn)
            filled.append(checked("imagebuilder", "ImageScanFinding", item))
        record.findings = filled
        states: list[str | None] = [*record.scan_states] or [None]
        for state in dict.fromkeys(states):
            checked("imagebuilder", "Image", record.document(state))
        with self.lock:
            self.images[record.arn] = record

    def add_inspector(self, finding: Mapping[str, Any], details: Mapping[str, Any] | None) -> None:
        """Store an Inspector finding (and its FindingDetail, if any) under its ARN."""
        stored = checked("inspector2", "Finding", finding)
        detail = None
        if details is not None:
            detail = checked("inspector2", "FindingDetail", {**details, "findingArn": stored["findingArn"]})
        with self.lock:
            self.inspector[stored["findingArn"]] = InspectorRecord(stored, detail)

    def add_vulnerability(self, vulnerability_id: str, record: Mapping[str, Any]) -> None:
        """Store what SearchVulnerabilities returns for ``vulnerability_id``."""
        stored = checked("inspector2", "Vulnerability", {**record, "id": vulnerability_id})
        with self.lock:
            self.vulnerabilities[vulnerability_id] = stored


@dataclass
class State:
    """What operation handlers work on: the data, the token book and the faults in force."""

    store: Store
    pager: Pager
    faults: FaultState
