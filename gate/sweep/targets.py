"""What a sweep judges: builds named one a line, every build of some pipelines, or of every pipeline in some regions.

Targets are produced lazily, page by page, so the sweep starts judging while pipelines are still
listed and never holds the fleet's summaries at once. A build Image Builder lists as deleted,
disabled, failed or cancelled is still a target: the sweep lists it as skipped with that reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from gate.aws.retry import Caller
from gate.aws.session import Clients
from gate.errors import IncompleteError, ShapeError, UsageError
from gate.fleet import Ami, Shard
from gate.timeutil import to_utc
from gate.vocab import build_version_arn, pipeline_arn

PAGE_SIZE = 25
SKIP_STATES = frozenset({"DELETED", "DISABLED", "FAILED", "CANCELLED"})
"""Image states with nothing to launch or nothing scanned: listed, not judged."""
UNFINISHED = frozenset({"PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"})


@dataclass(frozen=True)
class Target:
    """One build to judge, with what its listing already told (nothing, for a build named in --builds)."""

    arn: str
    region: str
    pipeline: str | None = None
    state: str | None = None
    """Image Builder's image status when listed; None when only the ARN is known."""
    reason: str = ""
    amis: tuple[Ami, ...] = ()
    deprecation_time: datetime | None = None

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def listed(self) -> bool:
        return self.state is not None


def build_region(arn: str, where: str) -> str:
    """The region of an image build version ARN; a `UsageError` naming `where` if it is not one."""
    match = build_version_arn(arn)
    if match is None:
        raise UsageError(f"{where}: {arn[:200]!r} is not an image build version ARN",
                         hint="expected arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/1.0.0/1")
    return match["region"]


def pipeline_region(arn: str) -> str:
    match = pipeline_arn(arn)
    if match is None:
        raise UsageError(f"--pipeline {arn[:200]!r} is not an image pipeline ARN",
                         hint="expected arn:aws:imagebuilder:REGION:ACCOUNT:image-pipeline/NAME")
    return match["region"]


def read_builds(stream: TextIO, name: str) -> list[Target]:
    """Every line of a --builds file: one ARN each; blank lines and `#` comments are allowed, nothing else.

    Read whole before any AWS call, so a bad line 900 stops the sweep before build 1 is judged.
    """
    targets: list[Target] = []
    for number, raw in enumerate(stream, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        targets.append(Target(arn=text, region=build_region(text, f"--builds {name} line {number}")))
    return targets


def in_shard(arn: str, shard: Shard | None) -> bool:
    """A stable 1/N of the targets: the ARN's SHA-256, modulo N (the same on every machine and run)."""
    return shard is None or shard_of(arn, shard.count) == shard.index


def shard_of(arn: str, count: int) -> int:
    """The 1-based shard of N that `arn` falls in."""
    return int.from_bytes(hashlib.sha256(arn.encode()).digest()[:8], "big") % count + 1


def amis_of(summary: Mapping[str, Any]) -> tuple[Ami, ...]:
    out = []
    for item in (summary.get("outputResources") or {}).get("amis") or []:
        if isinstance(item, Mapping) and isinstance(item.get("image"), str) and isinstance(item.get("region"), str):
            account = item.get("accountId")
            out.append(Ami(item["region"], item["image"], account if isinstance(account, str) else None))
    return tuple(out)


def _time(value: Any) -> datetime | None:
    try:
        return to_utc(value)
    except ShapeError:
        return None


def from_summary(summary: Mapping[str, Any], pipeline: str) -> Target:
    """A target from an `ImageSummary`; one without a build version ARN is exit 3 (it cannot be named)."""
    arn = summary.get("arn")
    if not isinstance(arn, str) or build_version_arn(arn) is None:
        # NOTE: a listed build gate cannot name would otherwise drop out of the sweep unseen.
        raise IncompleteError(f"imagebuilder:ListImagePipelineImages for {pipeline} listed an image without a build "
                              f"version ARN ({str(arn)[:200]!r})", hint="report this to the gate maintainers")
    state = summary.get("state") or {}
    status = str(state.get("status") or "UNKNOWN")
    reason = " ".join(str(state.get("reason") or "").split())[:300]
    return Target(arn=arn, region=arn.split(":")[3], pipeline=pipeline, state=status, reason=reason,
                  amis=amis_of(summary), deprecation_time=_time(summary.get("deprecationTime")))


@dataclass
class Older:
    """Listed builds created before the --since window (in the shard): not judged, but counted for the reports."""

    count: int = 0


def pipeline_builds(clients: Clients, caller: Caller, pipeline: str, since: datetime | None,
                    older: Callable[[Target], None] = lambda _: None) -> Iterator[Target]:
    """Every build `ListImagePipelineImages` lists for the pipeline, created at or after `since` (`older` is told
    of the others; a build without a creation time is kept)."""
    params = {"imagePipelineArn": pipeline, "maxResults": PAGE_SIZE}
    for page in caller.pages("imagebuilder:ListImagePipelineImages", clients.imagebuilder.list_image_pipeline_images,
                             params):
        for summary in page.get("imageSummaryList") or []:
            created = _time(summary.get("dateCreated"))
            if since is not None and created is not None and created < since:
                older(from_summary(summary, pipeline))
                continue
            yield from_summary(summary, pipeline)


def region_pipelines(clients: Clients, caller: Caller) -> Iterator[str]:
    """Every image pipeline `ListImagePipelines` lists in the clients' region."""
    for page in caller.pages("imagebuilder:ListImagePipelines", clients.imagebuilder.list_image_pipelines,
                             {"maxResults": PAGE_SIZE}):
        for pipeline in page.get("imagePipelineList") or []:
            arn = pipeline.get("arn")
            if not isinstance(arn, str) or pipeline_arn(arn) is None:
                raise IncompleteError(f"imagebuilder:ListImagePipelines listed a pipeline without a pipeline ARN "
                                      f"({str(arn)[:200]!r})", hint="report this to the gate maintainers")
            yield arn


def all_targets(*, builds: Iterable[Target], pipelines: Iterable[str], regions: Iterable[str],
                clients_for: Callable[[str], Clients], caller: Caller, since: datetime | None,
                shard: Shard | None, older: Older | None = None) -> Iterator[Target]:
    """Named builds, then each named pipeline's, then each region's pipelines'; each build once, in its shard."""
    seen: set[str] = set()
    named = set()
    skipped: set[str] = set()

    def before(target: Target) -> None:
        if older is not None and target.arn not in skipped | seen and in_shard(target.arn, shard):
            skipped.add(target.arn)
            older.count += 1

    def keep(target: Target) -> bool:
        if target.arn in seen or not in_shard(target.arn, shard):
            return False
        seen.add(target.arn)
        return True

    yield from (t for t in builds if keep(t))
    for pipeline in pipelines:
        named.add(pipeline)
        yield from (t for t in pipeline_builds(clients_for(pipeline_region(pipeline)), caller, pipeline, since,
                                               before) if keep(t))
    for region in regions:
        clients = clients_for(region)
        for pipeline in region_pipelines(clients, caller):
            if pipeline in named:
                continue
            named.add(pipeline)
            yield from (t for t in pipeline_builds(clients, caller, pipeline, since, before) if keep(t))
