"""Findings of an image built with on-demand AMI scans, read from EC2 once Inspector's scan of its AMI succeeded.

Which AMI: Image Builder runs the on-demand scan during the test phase, on the AMI the build just
created in the build region; distribution copies it to other regions and accounts afterwards, and
those copies (same content, other ids) are never scanned. So gate reads the findings of the one AMI
in `outputResources.amis` whose region is the build region (the ARN's) and whose account is the
image's own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from gate.aws.retry import Backoff, Caller
from gate.aws.session import Clients
from gate.errors import ScanNotReadyError, ShapeError, one_line
from gate.model import Finding, ScanResultCondition, ScanSummary
from gate.sources.ec2_codec import parse_image_finding
from gate.sources.imagestate import check_image
from gate.sources.listing import Listing, restartable
from gate.sources.scantype import ON_DEMAND, ScanPath, output_ami_arns, output_amis, scan_path, scan_result_condition
from gate.sources.waiting import patience
from gate.timeutil import to_utc

PAGE_SIZE = 1000
"""`GetImageFindings` allows 1..1000: the fewest round trips."""
LIST_SCANS = "inspector2:ListOnDemandScans"
SCAN_STATUS = "inspector2:GetOnDemandScanStatus"
FINDINGS = "ec2:GetImageFindings"
BAD_TOKENS = frozenset({"InvalidPaginationToken", "InvalidNextToken"})
BUILDING = frozenset({"PENDING", "CREATING", "BUILDING", "TESTING"})
"""Image states before the test phase ends: the AMI or its scan may still be on the way."""
NO_RETRY: tuple[str, ...] = ()
"""Inspector's and EC2's throttling and 5xx are botocore's to retry."""


class _NotYet(Exception):
    """The scan is not finished; the message says what gate is waiting for."""


def _arn_parts(arn: str) -> tuple[str, str]:
    """(region, account) of an image build version ARN."""
    parts = arn.split(":")
    return (parts[3], parts[4]) if len(parts) > 5 else ("", "")


def _started(scan: Mapping[str, Any]) -> datetime:
    try:
        return to_utc(scan.get("startedAt")) or datetime.min.replace(tzinfo=UTC)
    except ShapeError:
        return datetime.min.replace(tzinfo=UTC)


class OnDemandSource:
    """The build region's output AMI → its newest on-demand scan (waited for) → every page of its findings.

    `image` is the `GetImage` `image` the caller already read to choose this path; it is read again
    only while the build has not yet produced its AMI.
    """

    def __init__(
        self,
        clients: Clients,
        *,
        image_build_version_arn: str,
        image: Mapping[str, Any],
        wait_timeout: float = 0,
        poll_interval: float = 15,
        progress: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        caller: Caller | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._clients = clients
        self._page_size = page_size
        # NOTE: the installed type stubs predate the on-demand scan operations; botocore has them.
        self._inspector: Any = clients.inspector2
        self._arn = image_build_version_arn
        self._image = image
        self._patience = patience(wait_timeout, poll_interval, progress, sleep, clock)
        self._call = caller or Caller(Backoff(sleep=sleep, clock=clock))
        if scan_path(image, image_build_version_arn) is not ScanPath.ON_DEMAND:
            raise ScanNotReadyError(f"{image_build_version_arn} was not scanned with ON_DEMAND_AMI_CVE",
                                    hint="report this to the gate maintainers")
        self.scan_result_condition: ScanResultCondition | None = scan_result_condition(image, self._arn)
        self.ami: str | None = None
        self.scan_id: str | None = None
        self._scan: Mapping[str, Any] | None = None
        self.notes: tuple[str, ...] = ()
        """What the reports should say about the image (e.g. that it is DEPRECATED)."""

    @property
    def target(self) -> str:
        return self._arn

    @property
    def output_amis(self) -> tuple[str, ...]:
        """Every output AMI of the build, the scanned one first: VEX statements may name any of them."""
        found = [self.ami] if self.ami else []
        return tuple(dict.fromkeys([*found, *output_amis(self._image)]))

    @property
    def image(self) -> Mapping[str, Any]:
        """The `GetImage` `image` gate last read: snapshots record it."""
        return self._image

    def summary(self) -> ScanSummary:
        return ScanSummary(scan_result_condition=self.scan_result_condition, output_amis=self.output_amis,
                           image=self.image, notes=self.notes, output_ami_arns=self.output_ami_arns,
                           scan_type=self.scan_type)

    @property
    def output_ami_arns(self) -> tuple[str, ...]:
        """The output AMIs as ARNs (with region and account): a signed attestation names them."""
        return output_ami_arns(self._image, self._arn)

    scan_type = ON_DEMAND
    """How Inspector scanned the build, as Image Builder names it."""

    def calls(self) -> dict[str, int]:
        return self._call.counts()

    def pages(self) -> Iterator[Sequence[Finding]]:
        ami = self._await_scan()
        yield from self._listing(ami)

    # -- readiness ---------------------------------------------------------------------------
    def _await_scan(self) -> str:
        deadline = self._patience.deadline()
        image = self._image
        while True:
            try:
                return self._check(image)
            except _NotYet as not_yet:
                waiting = str(not_yet)
            # NOTE: outside the handler, so a refusal does not carry _NotYet as its context
            self._patience.pause(deadline, state=waiting, refusal=waiting, ready="SUCCESSFUL")
            if self._scan is None:
                response = self._call("imagebuilder:GetImage", partial(
                    self._clients.imagebuilder.get_image, imageBuildVersionArn=self._arn))
                image = self._image = response.get("image") or {}

    def _check(self, image: Mapping[str, Any]) -> str:
        """The AMI once its newest scan SUCCEEDED; `_NotYet` while waiting makes sense; else an error."""
        checked = check_image(image, self._arn)
        self.notes = checked.notes
        state = checked.status
        building = state in BUILDING
        ami = self.ami or self._find_ami(image, building, state)
        scan = self._scan
        if scan is None:
            scan = self._scan = self._newest_scan(ami)
            if scan is None:
                if building:
                    raise _NotYet(f"the build has not started an on-demand scan of {ami} yet")
                raise ScanNotReadyError(f"there is no on-demand scan of {ami}, the output AMI of {self._arn}",
                                        hint="scan it (inspector2 StartOnDemandScan, or rebuild) and run gate again")
        else:
            scan = self._scan = self._call(SCAN_STATUS, partial(
                self._inspector.get_on_demand_scan_status, scanId=str(scan.get("scanId")),
                resourceId=ami, resourceType="AMI"), retry_codes=NO_RETRY)
        self.scan_id = str(scan.get("scanId") or "") or None
        status = str(scan.get("scanStatus") or "UNKNOWN")
        reason = one_line(scan.get("scanStatusReason") or "")
        because = f" ({reason})" if reason else ""
        if status == "SUCCESSFUL":
            return ami
        if status == "IN_PROGRESS":
            raise _NotYet(f"the on-demand scan {self.scan_id} of {ami} is IN_PROGRESS, not SUCCESSFUL")
        raise ScanNotReadyError(
            f"the on-demand scan {self.scan_id} of {ami} ended {one_line(status, 40)}{because}: "
            "its findings are incomplete",
            hint="fix the cause, scan the AMI again (or rebuild) and run gate again")

    def _find_ami(self, image: Mapping[str, Any], building: bool, state: str) -> str:
        region, account = _arn_parts(self._arn)
        amis = (image.get("outputResources") or {}).get("amis") or []
        here = [a for a in amis if isinstance(a, Mapping) and a.get("region") == region
                and a.get("accountId") in (None, account) and isinstance(a.get("image"), str)]
        if len(here) == 1:
            self.ami = str(here[0]["image"])
            return self.ami
        if len(here) > 1:
            ids = ", ".join(str(a["image"]) for a in here)
            raise ScanNotReadyError(f"{self._arn} lists {len(here)} output AMIs in {region} ({ids}); gate cannot "
                                    "tell which one Inspector scanned", hint="report this to the gate maintainers")
        if building:
            raise _NotYet(f"{self._arn} has no output AMI in {region} yet")
        raise ScanNotReadyError(f"{self._arn} lists no output AMI in its build region {region} (image state "
                                f"{one_line(state, 40)}): there is no scanned AMI to read findings of",
                                hint="check the ARN; rebuild if the AMI is gone")

    def _newest_scan(self, ami: str) -> Mapping[str, Any] | None:
        scans: list[Mapping[str, Any]] = []
        params = {"resourceId": ami, "resourceType": "AMI", "maxResults": 100}
        for response in self._call.pages(LIST_SCANS, self._inspector.list_on_demand_scans, params,
                                         retry_codes=NO_RETRY):
            scans.extend(s for s in response.get("items") or [] if s.get("resourceId") in (None, ami))
        return max(scans, key=_started) if scans else None

    # -- the listing -------------------------------------------------------------------------
    def _listing(self, ami: str) -> Generator[list[Finding], None, int]:
        params = {"ImageId": ami, "MaxResults": self._page_size}
        return restartable(Listing(
            action=FINDINGS, service="EC2", cursor="NextToken", bad_tokens=BAD_TOKENS,
            pages=partial(self._call.pages, FINDINGS, self._clients.ec2.get_image_findings, params,
                          retry_codes=NO_RETRY, cursor_name="NextToken"),
            findings=lambda response: [parse_image_finding(raw, image_build_version_arn=self._arn)
                                       for raw in response.get("ImageFindings") or []],
        ), self._patience.progress)
