"""The Emulator: a local imagebuilder + inspector2 + ec2 endpoint that tests seed and inspect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import boto3
from botocore.config import Config

from .app import App, Call, Violation
from .factories import ACCOUNT, finding_arn, inspector_finding, stable_hex
from .faults import Faults, FaultState
from .kms import KmsKey, new_key
from .pagination import Pager
from .server import HttpServer
from .store import AmiRecord, ImageRecord, ScanRecord, State, StepRecord, Store, ami_id, format_date_created

REGION = "us-east-1"
RetryMode = Literal["legacy", "standard", "adaptive"]
ACCESS_KEY = "emulator"  # NOTE: dummy credentials; the emulator never checks signatures.


class Emulator:
    """Serves imagebuilder and inspector2 on ``url`` while running (use it as a context manager)."""

    def __init__(self, *, check_responses: bool = True) -> None:
        self._state = State(Store(), Pager(), FaultState(Faults()))
        self._app = App(self._state, check_responses=check_responses)
        self._server: HttpServer | None = None
        self._clients: list[Any] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Start serving on an ephemeral port of 127.0.0.1."""
        if self._server is None:
            self._server = HttpServer(self._app)
        return self

    def stop(self) -> None:
        """Close the clients made by ``client()`` and stop the server."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The endpoint, ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.url

    # -- pointing clients at it --------------------------------------------------------------
    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client(service, **kwargs)``."""
        return {
            "endpoint_url": self.url,
            "region_name": REGION,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": ACCESS_KEY,
        }

    def env(self) -> dict[str, str]:
        """Environment variables that point a subprocess's boto3 at the emulator."""
        return {
            "AWS_ENDPOINT_URL_IMAGEBUILDER": self.url,
            "AWS_ENDPOINT_URL_INSPECTOR2": self.url,
            "AWS_ENDPOINT_URL_EC2": self.url,
            "AWS_ENDPOINT_URL_STS": self.url,
            "AWS_ENDPOINT_URL_KMS": self.url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self, service: str, *, max_attempts: int = 1, mode: RetryMode = "standard") -> Any:
        """A boto3 client for ``service``, closed by ``stop()``.

        ``max_attempts`` counts every attempt (1: no retries). NOTE: botocore's own
        ``retries={"max_attempts": n}`` counts retries only, so n=1 still retries once.
        """
        config = Config(retries={"total_max_attempts": max_attempts, "mode": mode})
        make: Any = boto3.client
        client = make(service, config=config, **self.client_kwargs())
        self._clients.append(client)
        return client

    # -- seeding -----------------------------------------------------------------------------
    def add_image(
        self,
        arn: str,
        findings: Iterable[Mapping[str, Any]] = (),
        *,
        scanning_enabled: bool = True,
        scan_states: Sequence[str] | None = None,
        scan_reason: str | None = None,
        pipeline_arn: str | None = None,
        date_created: str | dt.datetime = "2025-01-15T12:00:00.000Z",
        status: str = "AVAILABLE",
        image_type: str = "AMI",
        scanning_types: Sequence[str] | None = None,
        scan_result_condition: Mapping[str, Any] | None = None,
        extra_amis: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Add an image build version and its ImageScanFindings (as the AWS CLI prints them).

        Successive GetImage calls walk ``scan_states`` (the last repeats); the default is
        ``["COMPLETED"]`` when scanning is enabled and no scanState at all when it is not.
        Raises ValueError if a finding or the resulting Image is not valid for the model.
        """
        states = list(scan_states) if scan_states is not None else (["COMPLETED"] if scanning_enabled else [])
        record = ImageRecord(
            arn=arn,
            findings=[dict(f) for f in findings],
            scanning_enabled=scanning_enabled,
            scan_states=states,
            scan_reason=scan_reason,
            pipeline_arn=pipeline_arn,
            date_created=format_date_created(date_created),
            status=status,
            image_type=image_type,
            scanning_types=list(scanning_types) if scanning_types is not None else None,
            scan_result_condition=dict(scan_result_condition) if scan_result_condition is not None else None,
            extra_amis=[dict(a) for a in extra_amis],
        )
        self._state.store.add_image(record)

    @staticmethod
    def ami_of(arn: str) -> str:
        """The AMI an image build version creates in its build region (its on-demand scan's target)."""
        return ami_id(arn)

    def add_ondemand_scan(
        self,
        ami: str,
        findings: Iterable[Mapping[str, Any]] = (),
        *,
        statuses: Sequence[str] = ("SUCCESSFUL",),
        reason: str | None = None,
        started_at: str = "2025-01-15T12:30:00.000Z",
    ) -> str:
        """Add an on-demand scan of ``ami`` and the ImageFindings EC2 serves once one succeeded.

        Each ListOnDemandScans / GetOnDemandScanStatus look walks ``statuses`` (the last repeats);
        ``statuses=()`` adds the findings with no scan at all. Returns the scan id.
        """
        self._state.store.set_ami_findings(ami, [dict(f) for f in findings])
        with self._state.store.lock:
            scan_id = stable_hex(f"{ami}/{len(self._state.store.ami(ami).scans)}", 32)
        if statuses:
            self._state.store.add_scan(ScanRecord(scan_id, ami, list(statuses), reason, started_at))
        return scan_id

    def add_inspector_finding(
        self,
        *,
        vulnerability_id: str,
        arn: str | None = None,
        resource_tags: Mapping[str, str] | None = None,
        epss: float | None = None,
        exploit_available: str | None = None,
        details: Mapping[str, Any] | None = None,
        severity: str = "HIGH",
        status: str = "ACTIVE",
        finding_type: str = "PACKAGE_VULNERABILITY",
        package: str = "openssl",
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Add an Inspector finding (and its FindingDetail, or None: details gone); return its ARN.

        ``arn`` defaults to one derived from the CVE and a counter; ``extra`` overrides
        top-level members of the generated ``Finding``. Raises ValueError if invalid.
        """
        with self._state.store.lock:
            arn = arn or finding_arn(f"{vulnerability_id}/{len(self._state.store.inspector)}")
        finding = inspector_finding(
            arn,
            vulnerability_id,
            resource_tags=resource_tags,
            epss=epss,
            exploit_available=exploit_available,
            severity=severity,
            status=status,
            finding_type=finding_type,
            package=package,
        )
        self._state.store.add_inspector({**finding, **(extra or {})}, details)
        return arn

    @property
    def account(self) -> str:
        """The account the emulated credentials belong to: GetCallerIdentity, watermark keys, `Owners=self`."""
        return self._state.store.account

    @account.setter
    def account(self, account: str) -> None:
        self._state.store.account = account

    def add_ami(
        self,
        ami: str,
        *,
        region: str = REGION,
        owner: str | None = None,
        public: bool = False,
        watermarks: Sequence[str | Mapping[str, Any]] = (),
        scan_results: Mapping[str, Any] | None = None,
        name: str = "gate-emulated-image",
    ) -> None:
        """Register ``ami`` with EC2 in ``region`` (DescribeImages); ``watermarks`` are keys or whole
        ``ImageWatermark``s, ``scan_results`` an ``ImageScanResults`` (boto3 keys, ISO timestamps)."""
        marks = [{"WatermarkKey": w, "SourceImageRegion": region, "SourceImageId": ami,
                  "SourceImageCreationTime": "2025-01-15T12:00:00.000Z",
                  "WatermarkCreationTime": "2025-01-15T13:00:00.000Z"} if isinstance(w, str) else dict(w)
                 for w in watermarks]
        self._state.store.register_ami(AmiRecord(
            ami, region=region, owner=owner or self.account, public=public, name=name, watermarks=marks,
            scan_results=dict(scan_results) if scan_results is not None else None))

    def add_pipeline(self, arn: str, *, status: str = "ENABLED") -> None:
        """An image pipeline ListImagePipelines lists in its ARN's region (pipelines of added images are listed too)."""
        from .fleet import pipeline_document
        from .store import checked

        checked("imagebuilder", "ImagePipeline", pipeline_document(arn, status))
        with self._state.store.lock:
            self._state.store.pipelines[arn] = status

    def ami(self, ami: str) -> dict[str, Any]:
        """What DescribeImages says of ``ami`` now (boto3 keys)."""
        with self._state.store.lock:
            return self._state.store.amis[ami].image()

    def add_waiting_step(
        self,
        image_arn: str,
        *,
        name: str = "WaitForGate",
        status: str = "WAITING",
        action: str | None = None,
        reason: str | None = None,
        token: str | None = None,
        timeout_seconds: int = 43200,
        step_id: str | None = None,
        listed: bool = False,
    ) -> str:
        """A WaitForAction step of ``image_arn``'s test workflow; returns its step execution id.

        ``status`` COMPLETED/FAILED with an ``action`` (and the ``token`` it was sent with) is a step
        someone already actioned; TIMED_OUT one that waited too long. ``listed`` keeps such a step in
        ListWaitingWorkflowSteps (the race of an action sent between gate's listing and its own).
        """
        with self._state.store.lock:
            n = len(self._state.store.steps)
        key = f"{image_arn}/{name}/{n}"
        hexes = stable_hex(key, 32)
        uuid = f"{hexes[:8]}-{hexes[8:12]}-{hexes[12:16]}-{hexes[16:20]}-{hexes[20:32]}"
        region, account = image_arn.split(":")[3], image_arn.split(":")[4]
        record = StepRecord(
            step_id=step_id or f"step-{uuid}", image_arn=image_arn, workflow_execution_id=f"wf-{uuid}",
            workflow_arn=f"arn:aws:imagebuilder:{region}:{account}:workflow/test/gate-hold/1.0.0/1", name=name,
            start_time="2025-01-15T12:40:00.000Z", status=status, timeout_seconds=timeout_seconds, action=action,
            reason=reason, token=token, listed=listed)
        self._state.store.add_step(record)
        if token is not None and action is not None:
            request = {"stepExecutionId": record.step_id, "imageBuildVersionArn": image_arn, "action": action,
                       "reason": reason}
            answer = {"stepExecutionId": record.step_id, "imageBuildVersionArn": image_arn, "clientToken": token}
            with self._state.store.lock:
                self._state.store.step_tokens[token] = (request, answer)
        return record.step_id

    def step(self, step_id: str) -> StepRecord:
        """The step as it is now: its status and what was sent to it."""
        with self._state.store.lock:
            return self._state.store.steps[step_id]

    def add_vulnerability(self, vulnerability_id: str, record: Mapping[str, Any]) -> None:
        """Add what SearchVulnerabilities returns for the CVE (a ``Vulnerability``)."""
        self._state.store.add_vulnerability(vulnerability_id, record)

    def add_kms_key(self, *, usage: str = "SIGN_VERIFY", enabled: bool = True, alias: str | None = None,
                    wrong_signatures: bool = False) -> KmsKey:
        """A new ECC_NIST_P256 KMS key with a real private half; `usage` ENCRYPT_DECRYPT makes one Sign refuses.

        `wrong_signatures`: Sign answers with another key's signatures, which its public key does not verify.
        """
        key = new_key(REGION, ACCOUNT, usage=usage, enabled=enabled, alias=alias)
        if wrong_signatures:
            key.sign_with = new_key(REGION, ACCOUNT).private
        with self._state.store.lock:
            self._state.store.kms_keys[key.key_id] = key
        return key

    # -- faults ------------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        """The faults in force; assigning new ones restarts every fault counter."""
        return self._state.faults.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._state.faults = FaultState(faults)

    # -- what happened -----------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        """Every answered call, as (service, operation, params, status), in order."""
        return list(self._app.calls)

    @property
    def violations(self) -> list[Violation]:
        """Contract breaches seen so far (invalid requests, invalid responses, gaps)."""
        return list(self._app.violations)

    @property
    def max_in_flight(self) -> int:
        """The most requests served at the same moment (counted while injected latency is slept)."""
        return self._app.max_in_flight

    @property
    def latency_served(self) -> dict[str, float]:
        """Injected latency slept so far, in seconds per operation."""
        return dict(self._app.latency_served)

    def count(self, operation: str, *, status: int | None = None) -> int:
        """How many calls of ``operation`` were answered (with ``status``, if given)."""
        return sum(1 for c in self._app.calls if c.operation == operation and status in (None, c.status))

    def reset_calls(self) -> None:
        """Forget recorded calls and violations."""
        self._app.clear()
