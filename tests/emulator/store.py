"""The emulated accounts' data: images with their scan findings, Inspector findings, CVEs."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .factories import ACCOUNT, REGION, parse_image_arn, stable_hex
from .faults import FaultState
from .pagination import Pager
from .validation import check_shape, xml_problems
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
    scanning_types: list[str] | None = None
    scan_result_condition: dict[str, Any] | None = None
    extra_amis: list[dict[str, Any]] = field(default_factory=list)
    """Distributed copies in other regions or accounts, listed after the build region's AMI."""
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
        config: dict[str, Any] = {"imageScanningEnabled": self.scanning_enabled}
        if self.scanning_types is not None:
            config["imageScanningTypes"] = list(self.scanning_types)
        if self.scan_result_condition is not None:
            config["scanResultCondition"] = dict(self.scan_result_condition)
        doc |= {"enhancedImageMetadataEnabled": True, "imageScanningConfiguration": config}
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
                "image": ami_id(self.arn),
                "name": f"{parts['name']} {self.date_created[:10]}",
                "accountId": parts["account"],
            }
            # NOTE: while the build runs there is no AMI yet.
            building = self.status in ("PENDING", "CREATING", "BUILDING")
            outputs = {"amis": [] if building else [ami, *self.extra_amis]}
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


def ami_id(arn: str) -> str:
    """The id of the AMI an image build version creates in its build region."""
    return f"ami-{stable_hex(arn, 17)}"


@dataclass
class ScanRecord:
    """One Inspector on-demand scan of an AMI; each look at its status walks ``statuses``."""

    scan_id: str
    ami: str
    statuses: list[str]
    reason: str | None
    started_at: str
    looks: int = 0

    def current(self) -> str:
        return self.statuses[min(max(self.looks - 1, 0), len(self.statuses) - 1)]

    def look(self) -> dict[str, Any]:
        """The ``OnDemandScan`` as the next status call sees it."""
        self.looks += 1
        status = self.current()
        doc: dict[str, Any] = {"scanId": self.scan_id, "resourceId": self.ami, "resourceType": "AMI",
                               "scanStatus": status, "startedAt": self.started_at}
        if status != "IN_PROGRESS":
            doc["completedAt"] = self.started_at
        if status == "FAILED" and self.reason:
            doc["scanStatusReason"] = self.reason
        return doc


@dataclass
class AmiRecord:
    """What EC2 and Inspector know of one AMI: its on-demand scans and the findings of the last one, and,
    once registered, what DescribeImages says of it (owner, region, public, watermarks, scan results)."""

    ami: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    scans: list[ScanRecord] = field(default_factory=list)
    registered: bool = False
    """DescribeImages knows it; an AMI seeded only with findings stays invisible there."""
    region: str = REGION
    owner: str = ACCOUNT
    public: bool = False
    name: str = "gate-emulated-image"
    creation_date: str = "2025-01-15T12:00:00.000Z"
    watermarks: list[dict[str, Any]] = field(default_factory=list)
    """`ImageWatermark`s (boto3 keys, ISO timestamps), in the order they were attached."""
    scan_results: dict[str, Any] | None = None
    """`ImageScanResults` (boto3 keys, ISO timestamps)."""
    deprecation_time: str | None = None

    def scanned(self) -> bool:
        """EC2 serves findings only for an AMI Inspector has finished scanning."""
        return any(s.current() == "SUCCESSFUL" for s in self.scans)

    def image(self) -> dict[str, Any]:
        """The ``Image`` of DescribeImages (boto3 keys)."""
        doc: dict[str, Any] = {
            "ImageId": self.ami, "ImageLocation": f"{self.owner}/{self.name}", "State": "available",
            "OwnerId": self.owner, "CreationDate": self.creation_date, "Public": self.public,
            "Architecture": "x86_64", "ImageType": "machine", "Name": self.name, "RootDeviceType": "ebs",
            "VirtualizationType": "hvm", "Hypervisor": "xen", "EnaSupport": True, "SourceImageRegion": self.region,
        }
        if self.watermarks:
            doc["ImageWatermarks"] = [dict(w) for w in self.watermarks]
        if self.scan_results is not None:
            doc["ScanResults"] = dict(self.scan_results)
        if self.deprecation_time is not None:
            doc["DeprecationTime"] = self.deprecation_time
        return doc


@dataclass
class StepRecord:
    """One WaitForAction step execution of an image build's workflow, and what was sent to it."""

    step_id: str
    image_arn: str
    workflow_execution_id: str
    workflow_arn: str
    name: str
    start_time: str
    status: str = "WAITING"
    """WAITING, COMPLETED (resumed), FAILED (stopped), TIMED_OUT."""
    timeout_seconds: int = 43200
    action: str | None = None
    reason: str | None = None
    token: str | None = None
    listed: bool = False
    """Still listed as waiting after it was actioned: ListWaitingWorkflowSteps lags, or someone acted in between."""

    @property
    def shown_waiting(self) -> bool:
        return self.status == "WAITING" or self.listed

    def listing(self) -> dict[str, Any]:
        """The ``WorkflowStepExecution`` of ListWaitingWorkflowSteps."""
        return {"stepExecutionId": self.step_id, "imageBuildVersionArn": self.image_arn,
                "workflowExecutionId": self.workflow_execution_id, "workflowBuildVersionArn": self.workflow_arn,
                "name": self.name, "action": "WaitForAction", "startTime": self.start_time}

    def execution(self) -> dict[str, Any]:
        """GetWorkflowStepExecution's answer (the model has no WAITING: a waiting step is RUNNING)."""
        status = {"WAITING": "RUNNING", "COMPLETED": "COMPLETED"}.get(self.status, "FAILED")
        doc = {**self.listing(), "status": status, "onFailure": "Abort", "timeoutSeconds": self.timeout_seconds,
               "inputs": "{}", "outputs": "{}"}
        if self.status == "TIMED_OUT":
            doc["message"] = "The step timed out waiting for an action"
        elif self.action is not None:
            doc["message"] = (self.reason or self.action)[:500]
            doc["outputs"] = json.dumps({"action": self.action, "reason": self.reason or ""})
        return doc


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
    amis: dict[str, AmiRecord] = field(default_factory=dict)
    steps: dict[str, StepRecord] = field(default_factory=dict)
    step_tokens: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    """SendWorkflowStepAction's clientToken -> (the request, the answer): its idempotency."""
    pipelines: dict[str, str] = field(default_factory=dict)
    """Image pipeline ARN -> status, for pipelines seeded without images (ListImagePipelines)."""
    account: str = ACCOUNT
    """The account the emulated credentials belong to (GetCallerIdentity, watermark keys, Owners=self)."""
    kms_keys: dict[str, Any] = field(default_factory=dict)
    """KMS key id -> `kms.KmsKey`."""

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

    def ami(self, ami: str) -> AmiRecord:
        """The record of ``ami``, made empty on first use (hold ``lock``)."""
        return self.amis.setdefault(ami, AmiRecord(ami))

    def set_ami_findings(self, ami: str, findings: list[dict[str, Any]]) -> None:
        """What GetImageFindings serves for ``ami`` once a scan of it succeeded (boto3 keys)."""
        stored = [checked("ec2", "ImageFinding", f) for f in findings]
        problems = xml_problems(stored)
        if problems:
            raise ValueError("invalid ec2 ImageFinding: " + "; ".join(problems))
        with self.lock:
            self.ami(ami).findings = stored

    def add_scan(self, record: ScanRecord) -> None:
        for status in dict.fromkeys(record.statuses):
            probe = ScanRecord(record.scan_id, record.ami, [status], record.reason, record.started_at)
            checked("inspector2", "OnDemandScan", probe.look())
        with self.lock:
            self.ami(record.ami).scans.append(record)

    def register_ami(self, record: AmiRecord) -> None:
        """Make ``record`` an image DescribeImages knows (its findings and scans, if any, are kept)."""
        record.registered = True
        checked("ec2", "Image", record.image())
        with self.lock:
            known = self.amis.get(record.ami)
            if known is not None:
                record.findings, record.scans = known.findings, known.scans
            self.amis[record.ami] = record

    def add_step(self, record: StepRecord) -> None:
        checked("imagebuilder", "WorkflowStepExecution", record.listing())
        checked("imagebuilder", "GetWorkflowStepExecutionResponse", record.execution())
        with self.lock:
            self.steps[record.step_id] = record

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
