"""The domain of a fleet sweep: one small record per build, and the report that holds them.

A record keeps only what the fleet report, `--previous` and `gate sweep merge` need (never the
findings themselves), so a sweep's memory grows by a few hundred bytes per build, not by its findings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from gate.outcome import ActionRecord

SCHEMA = "gate-sweep/1"
"""The `schema` of a sweep's JSON report; `gate sweep merge` and `--previous` refuse any other."""


class Status(enum.StrEnum):
    """What became of one build in a sweep, worst first."""

    UNJUDGED = "unjudged"
    """gate could not decide (its scan unreadable, AWS refused): exit 3 unless --allow-unjudged."""
    FAIL = "fail"
    PASS = "pass"
    SKIPPED = "skipped"
    """Deleted, disabled, failed or cancelled: nothing to launch, nothing to judge."""


RANK = {s: i for i, s in enumerate(Status)}


class Change(enum.StrEnum):
    """A build's verdict now against its verdict in `--previous`."""

    NEWLY_FAILING = "newly failing"
    STILL_FAILING = "still failing"
    NEWLY_PASSING = "newly passing"
    UNCHANGED = "unchanged"
    NOT_BEFORE = "not in previous"


@dataclass(frozen=True)
class Ami:
    """One output AMI of a build (Image Builder's `outputResources.amis[]`)."""

    region: str
    image: str
    account: str | None = None

    @property
    def text(self) -> str:
        return f"{self.region} {self.image}"


@dataclass(frozen=True)
class Intel:
    """What the sweep's intelligence said about one CVE of a build: what `--previous` compares."""

    vulnerability_id: str
    decision: str
    """The worst decision among the build's findings of it: fail, warn, excepted, pass."""
    kev_added: date | None = None
    kev: bool | None = None
    epss: float | None = None


@dataclass(frozen=True)
class Blocker:
    """A CVE that fails the build, with what fixes it."""

    vulnerability_id: str
    packages: tuple[str, ...]
    fix: str
    """E.g. `update openssl to 3.0.15`, or `no fix available`."""
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Counts:
    total: int = 0
    failed: int = 0
    warned: int = 0
    excepted: int = 0
    passed: int = 0


@dataclass(frozen=True)
class BuildRecord:
    """One build's line in the fleet report."""

    build: str
    region: str
    status: Status
    pipeline: str | None = None
    amis: tuple[Ami, ...] = ()
    deprecated: bool = False
    reason: str = ""
    """Why it was skipped or left unjudged (one line)."""
    blocking: tuple[Blocker, ...] = ()
    counts: Counts = Counts()
    intel: tuple[Intel, ...] = ()
    """The build's CVEs that are in KEV, have EPSS of at least 0.05, or a decision other than pass."""
    notes: tuple[str, ...] = ()
    actions: tuple[ActionRecord, ...] = ()
    change: Change | None = None
    changes: tuple[str, ...] = ()
    """What changed since `--previous`, one line each: `CVE-X joined KEV on 2026-12-01`, `CVE-Y EPSS 0.08 → 0.61`."""

    @property
    def sort_key(self) -> tuple[int, int, str]:
        return (RANK[self.status], -len(self.blocking), self.build)


MAX_SHARDS = 1000
"""The most shards a sweep is split into (`--shard I/N`, and what `gate sweep merge` reads)."""


@dataclass(frozen=True)
class Shard:
    index: int
    """1-based."""
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Basis:
    """What makes the records of two sweeps parts of one whole: the same targets, policy, intelligence and clock.

    `gate sweep merge` joins only shards of one basis: a shard of another target list, policy file (whatever its
    name), KEV or EPSS release, or `--as-of` would make a fleet report whose verdicts do not belong together.
    """

    targets: str
    """sha256 of the target list as asked (builds, pipelines, regions, --since), order and repeats aside."""
    policy: str
    """sha256 of the policy file's bytes."""
    intelligence: tuple[str, ...]
    """Each offline feed's name, version, release time and size (Inspector is asked live, so it is not here)."""
    as_of: datetime | None = None
    """The --as-of instant; None when the sweep judged as of its own clock."""


@dataclass(frozen=True)
class FleetReport:
    """A whole sweep (or several merged shards): every build's record and how it was made."""

    generated_at: datetime
    policy: str
    records: tuple[BuildRecord, ...]
    shards: tuple[Shard, ...] = ()
    """The shards this report covers; empty for an unsharded sweep."""
    feeds: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    """Calls and counts worth showing: distinct CVEs, Inspector calls, cache hits."""
    compared_with: str | None = None
    complete: bool = True
    """False when the sweep stopped early (a listing failed, a signal): its targets were not all judged."""
    basis: Basis | None = None
    """None only in a report read back from a file that does not state it (merge refuses such a shard)."""

    def count(self, status: Status) -> int:
        return sum(1 for r in self.records if r.status is status)

    def ordered(self) -> list[BuildRecord]:
        """Worst first: unjudged, failing (most blockers first), passing, skipped."""
        return sorted(self.records, key=lambda r: r.sort_key)
