"""Findings of one image build version, read live from Image Builder once its scan has completed."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any

from gate.aws.retry import Backoff, Caller
from gate.aws.session import Clients
from gate.errors import IncompleteError, ScanNotReadyError, ShapeError, UsageError, one_line
from gate.model import Finding, ScanSummary
from gate.sources.codec import parse_finding
from gate.sources.imagestate import check_image
from gate.sources.listing import Listing, restartable
from gate.sources.scantype import LIST, TEST_INSTANCE, ScanPath, output_ami_arns
from gate.sources.waiting import patience
from gate.timeutil import to_utc

PAGE_SIZE = 25
"""Valid under both the published limit (25) and the current model's (100)."""
COUNT = "imagebuilder:ListImageScanFindingAggregations"
BAD_TOKEN = "InvalidPaginationTokenException"


def _version_key(version: object) -> tuple[int, ...]:
    """`1.2.3/4` sorts as (1, 2, 3, 4); anything unparsable sorts first."""
    if not isinstance(version, str):
        return ()
    try:
        return tuple(int(part) for part in version.replace("/", ".").split("."))
    except ValueError:
        return ()


def _created(summary: Mapping[str, Any]) -> datetime | None:
    try:
        return to_utc(summary.get("dateCreated"))
    except ShapeError:
        return None


def _order(summary: Mapping[str, Any]) -> tuple[float, tuple[int, ...]]:
    """Builds of a pipeline in the order they were made: creation time, then version."""
    created = _created(summary)
    return (created.timestamp() if created else float("-inf"), _version_key(summary.get("version")))


def _newest(summaries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    return max(summaries, key=_order)


class ImageBuilderSource:
    """`GetImage` until the scan is `COMPLETED`, then every page of `ListImageScanFindings`, then a recount.

    If Image Builder rejects a `nextToken` mid-listing the listing restarts once from the first page.
    Pages already yielded cannot be taken back, so the restarted pass skips each finding it has
    already yielded (matched by `Finding.key`, counting repeats) and yields only the rest; a finding
    yielded before the restart that the new pass no longer lists is an `IncompleteError`.
    """

    def __init__(
        self,
        clients: Clients,
        *,
        image_build_version_arn: str,
        wait_timeout: float = 0,
        poll_interval: float = 15,
        progress: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        caller: Caller | None = None,
        image: Mapping[str, Any] | None = None,
    ) -> None:
        """`image`: a `GetImage` `image` already read (to choose this path); the first check uses it."""
        self._client = clients.imagebuilder
        self._arn = image_build_version_arn
        self._patience = patience(wait_timeout, poll_interval, progress, sleep, clock)
        self._call = caller or Caller(Backoff(sleep=sleep, clock=clock))
        self._image = image
        self.output_amis: tuple[str, ...] = ()
        """The build's output AMI ids (every region), known once the scan is complete: VEX products name them."""
        self.notes: tuple[str, ...] = ()
        """What the reports should say about the image (e.g. that it is DEPRECATED), known with the scan."""
        self.image: Mapping[str, Any] | None = None
        """The `GetImage` `image` that found the scan complete: snapshots record it."""
        self.output_ami_arns: tuple[str, ...] = ()
        """The same AMIs as ARNs (with region and account): a signed attestation names them."""
        self.scan_type: str | None = None
        """How Inspector scanned the build, as Image Builder names it (`TEST_INSTANCE_CVE`; `ECR` for a container)."""

    @property
    def target(self) -> str:
        """The image build version ARN."""
        return self._arn

    def summary(self) -> ScanSummary:
        return ScanSummary(output_amis=self.output_amis, image=self.image, notes=self.notes,
                           output_ami_arns=self.output_ami_arns, scan_type=self.scan_type)

    def calls(self) -> dict[str, int]:
        return self._call.counts()

    def pages(self) -> Iterator[Sequence[Finding]]:
        arn = self.target
        self._await_scan(arn)
        # NOTE: the independent count does not depend on the listing; asking it alongside saves a
        # round trip after the last page, when enrichment is waiting for the final ids.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate-count") as pool:
            counting = pool.submit(self._count, arn)
            listed = yield from self._listing(arn)
            counted = counting.result()
        if counted != listed:
            raise IncompleteError(
                f"listed {listed} findings for {arn} but Image Builder counts {counted}",
                hint="the findings changed or the listing was cut short; run gate again",
            )

    def _await_scan(self, arn: str) -> None:
        deadline = self._patience.deadline()
        while True:
            image = self._image or self._call(
                "imagebuilder:GetImage", partial(self._client.get_image, imageBuildVersionArn=arn)).get("image")
            self._image = None
            state = check_image(image, arn)
            if state.path is not ScanPath.IMAGE_BUILDER:
                # NOTE: ListImageScanFindings is empty for such a build: an empty listing here is no verdict.
                raise ScanNotReadyError(f"{arn} was scanned with ON_DEMAND_AMI_CVE: its findings are not in "
                                        f"{LIST}", hint="read it through gate's on-demand path (gate check picks it)")
            if state.complete:
                self.output_amis = state.output_amis
                self.notes = state.notes
                self.image = image
                self.output_ami_arns = output_ami_arns(image, arn)
                self.scan_type = "ECR" if image.get("type") == "DOCKER" else TEST_INSTANCE
                return
            self._patience.pause(deadline, state=f"image scan is {state.waiting}",
                                 refusal=f"the image scan of {arn} is {state.waiting}, not COMPLETED",
                                 ready="COMPLETED")

    def _listing(self, arn: str) -> Generator[list[Finding], None, int]:
        params = {"filters": [{"name": "imageBuildVersionArn", "values": [arn]}], "maxResults": PAGE_SIZE}
        return restartable(Listing(
            action=LIST, service="Image Builder", cursor="nextToken", bad_tokens=(BAD_TOKEN,),
            pages=partial(self._call.pages, LIST, self._client.list_image_scan_findings, params),
            findings=lambda response: [self._own(parse_finding(raw)) for raw in response["findings"]],
        ), self._patience.progress)

    def _own(self, finding: Finding) -> Finding:
        """The finding, if it is of the build asked about and its account: never judge another build's as this one's."""
        arn = self.target
        account = arn.split(":")[4] if arn.count(":") >= 5 else None
        if finding.image_build_version_arn != arn or finding.aws_account_id != account:
            build = one_line(finding.image_build_version_arn or "no build", 200)
            owner = one_line(finding.aws_account_id or "no account", 40)
            raise IncompleteError(f"{LIST} for {arn} answered {finding.vulnerability_id} of {build} in {owner}",
                                  hint="Image Builder answered about another build; run gate again")
        return finding

    def _count(self, arn: str) -> int:
        counted = 0
        params = {"filter": {"name": "imageBuildVersionArn", "values": [arn]}}
        for response in self._call.pages(COUNT, self._client.list_image_scan_finding_aggregations, params):
            for item in response.get("responses") or []:
                image = item.get("imageAggregation") or {}
                if image.get("imageBuildVersionArn") in (None, arn):
                    counted += int((image.get("severityCounts") or {}).get("all") or 0)
        return counted


def _pipeline_images(clients: Clients, pipeline_arn: str, caller: Caller | None) -> list[Mapping[str, Any]]:
    """Every image summary the pipeline lists, all pages."""
    call = caller or Caller(Backoff())
    params = {"imagePipelineArn": pipeline_arn, "maxResults": PAGE_SIZE}
    summaries: list[Mapping[str, Any]] = []
    for response in call.pages("imagebuilder:ListImagePipelineImages",
                               clients.imagebuilder.list_image_pipeline_images, params):
        summaries.extend(response.get("imageSummaryList") or [])
    return summaries


def newest_build(clients: Clients, pipeline_arn: str, *, caller: Caller | None = None,
                 progress: Callable[[str], None] | None = None) -> str:
    """The ARN of a pipeline's newest image build version (by creation time, then version)."""
    summaries = _pipeline_images(clients, pipeline_arn, caller)
    usable = [s for s in summaries if isinstance(s.get("arn"), str) and s["arn"]]
    if not usable:
        raise ScanNotReadyError(f"image pipeline {pipeline_arn} has no image build versions",
                                hint="run the pipeline first, or check the ARN and --region")
    newest = _newest(usable)
    if progress is not None:
        progress(f"newest build of the pipeline: {newest['arn']} ({newest.get('dateCreated')})")
    return str(newest["arn"])


def build_pipeline(clients: Clients, arn: str, *, caller: Caller | None = None) -> str | None:
    """The image pipeline that built this image build version (`GetImage`'s sourcePipelineArn), if any."""
    call = caller or Caller(Backoff())
    image = call("imagebuilder:GetImage", partial(clients.imagebuilder.get_image, imageBuildVersionArn=arn))
    value = (image.get("image") or {}).get("sourcePipelineArn")
    return value if isinstance(value, str) and value else None


USABLE = frozenset({"AVAILABLE", None})
"""Image states whose build finished (and so may have been scanned); failed or cancelled builds have no scan."""


def previous_build(clients: Clients, pipeline_arn: str, current_arn: str, *,
                   caller: Caller | None = None) -> Mapping[str, Any] | None:
    """The pipeline's finished build just before `current_arn` (by creation time, then version); None if none.

    Raises `UsageError` when the pipeline does not list `current_arn` at all.
    """
    summaries = _pipeline_images(clients, pipeline_arn, caller)
    ordered = sorted((s for s in summaries if isinstance(s.get("arn"), str)), key=_order)
    position = next((i for i, s in enumerate(ordered) if s["arn"] == current_arn), None)
    if position is None:
        raise UsageError(f"image pipeline {pipeline_arn} does not list the build {current_arn}",
                         hint="check --image-pipeline-arn and --image-build-version-arn")
    earlier = [s for s in ordered[:position] if (s.get("state") or {}).get("status") in USABLE]
    return earlier[-1] if earlier else None
