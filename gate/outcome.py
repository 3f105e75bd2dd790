"""The domain of what gate decides: per-finding decisions and their reasons, and the run's evaluation."""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from gate.declared import Action, PolicyException, RuleInfo, VexStatement
from gate.vocab import identity

if TYPE_CHECKING:
    from gate.model import Enrichment, FeedInfo, Finding, ImageBuilderCheck


class Decision(enum.StrEnum):
    """What the policy says about one finding."""

    FAIL = "fail"
    WARN = "warn"
    EXCEPTED = "excepted"
    PASS = "pass"


class Verdict(enum.StrEnum):
    """The gate's answer for the whole image."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    """Could not complete: never a pass."""


@dataclass(frozen=True)
class RuleMatch:
    """A rule whose condition held for a finding, and the values that made it hold."""

    rule_id: str
    action: Action
    reasons: tuple[str, ...]
    """E.g. `epss 0.94 > 0.5`, `kev is true`."""
    excepted_by: str | None = None
    """The id of the exception that covers this match, if any."""


@dataclass(frozen=True)
class Revocation:
    """An exception that would have covered a finding but revoked itself: its `until` held."""

    exception_id: str
    reasons: tuple[str, ...]
    """E.g. `epss 0.41 > 0.3`: the values that made `until` hold."""


class BaselineState(enum.StrEnum):
    """A finding compared with the baseline (SARIF's `baselineState` values)."""

    NEW = "new"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PriorFinding:
    """A finding of the baseline, reduced to what the ratchet carries forward (and reports when fixed)."""

    vulnerability_id: str
    packages: tuple[str, ...]
    severity: str
    first_seen: date

    @property
    def identity(self) -> str:
        return identity(self.vulnerability_id, self.packages)


@dataclass(frozen=True)
class BaselineInfo:
    """The earlier build a run was compared with, and what that comparison found."""

    source: str
    """What the user passed: a file, or the previous build's ARN."""
    target: str | None
    pipeline: str | None
    first_seen: Mapping[str, date]
    """`Finding.identity` -> the day it was first seen, for every finding of the baseline."""
    fixed: tuple[PriorFinding, ...] = ()


@dataclass(frozen=True)
class FindingResult:
    """One finding, its enrichment and the policy's decision on it."""

    finding: Finding
    enrichment: Enrichment
    decision: Decision
    matches: tuple[RuleMatch, ...] = ()
    expired_exceptions: tuple[str, ...] = ()
    """Ids of exceptions that would have covered a match but have expired."""
    first_seen: date | None = None
    """The baseline's first sighting if it had this finding, else this build's first observation."""
    baseline: BaselineState | None = None
    """NEW or UNCHANGED against the baseline; None when the run had no baseline."""
    revoked: tuple[Revocation, ...] = ()
    """Exceptions that would have covered a match but whose `until` held for this finding."""
    vex: VexStatement | None = None
    """The VEX statement that applies to this finding (the latest), whether or not it covers it."""

    @property
    def blocking(self) -> tuple[RuleMatch, ...]:
        return tuple(m for m in self.matches if m.action is Action.FAIL and not m.excepted_by)


@dataclass(frozen=True)
class Summary:
    total: int
    failed: int
    warned: int
    excepted: int
    passed: int


class ActionStatus(enum.StrEnum):
    """What became of one step of an action after the verdict."""

    DONE = "done"
    """Carried out (a step resumed or stopped, a mark attached or detached, a file signed)."""
    SKIPPED = "skipped"
    """Deliberately not done, with the reason (an AMI another account owns cannot carry our mark)."""
    PLANNED = "planned"
    """Would be done, but the run was asked only to say so (`gate sweep` without `--apply`)."""
    FAILED = "failed"
    """Tried and failed: the run exits 3 whatever the verdict."""


@dataclass(frozen=True)
class ActionRecord:
    """One thing an action did, or did not do, after the verdict: reports show each one."""

    action: str
    """The action's name: `workflow-step`, `watermark`, `attest`, …"""
    target: str
    """What it acted on: a step execution id, `REGION AMI-ID`, a file."""
    operation: str
    """What it did or would do: `RESUME`, `STOP`, `attach`, `detach`, `sign`, …"""
    status: ActionStatus
    detail: str = ""
    """Why, in words: the reason sent, the mark's key, why it was skipped, the error."""


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one gate run: what reports render and what decides the exit code."""

    verdict: Verdict
    results: tuple[FindingResult, ...]
    policy_name: str
    policy_source: str
    rules: tuple[RuleInfo, ...]
    exceptions: tuple[PolicyException, ...] = ()
    stale_exceptions: tuple[str, ...] = ()
    """Active exceptions that covered nothing in this run."""
    expired_exceptions: tuple[str, ...] = ()
    expiring_exceptions: tuple[str, ...] = ()
    """Active exceptions whose expiry falls within `expiring_within_days` of the evaluation date."""
    revoked_exceptions: tuple[str, ...] = ()
    """Exceptions whose `until` held for at least one finding they would have covered."""
    expiring_within_days: int = 14
    products: tuple[str, ...] = ()
    """What names the judged image: its build version ARN, pipeline ARN and output AMI ids (for VEX)."""
    feeds: tuple[FeedInfo, ...] = ()
    target: str | None = None
    """What was judged: an image build version ARN or the input file names."""
    evaluated_at: datetime | None = None
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    """Non-fatal observations worth a user's attention (e.g. stale feeds)."""
    image_builder_check: ImageBuilderCheck | None = None
    """For an on-demand AMI scan with a `scanResultCondition`: Image Builder's own decision, for comparison."""
    pipeline: str | None = None
    """The image pipeline the target was built by, when known: the next run's baseline is checked against it."""
    build: str | None = None
    """The image build version judged, when known (an export's target is its file names)."""
    baseline: BaselineInfo | None = None
    actions: tuple[ActionRecord, ...] = ()
    """What was done after the verdict (workflow step, watermarks, signature); never changes the verdict."""
    policy_digest: str | None = None
    """The sha256 (hex) of the policy file's bytes exactly as gate read them: a signed decision names it."""
    output_ami_arns: tuple[str, ...] = ()
    """The judged build's output AMIs as ARNs, when the source learned them (live runs, snapshots)."""
    scan_type: str | None = None
    """How Inspector scanned the image, when the source knows it (`TEST_INSTANCE_CVE`, `ON_DEMAND_AMI_CVE`)."""

    @functools.cached_property
    def summary(self) -> Summary:
        """Counted once: every report reads it, some several times, and the results never change."""
        counts = dict.fromkeys(Decision, 0)
        for r in self.results:
            counts[r.decision] += 1
        return Summary(
            total=len(self.results),
            failed=counts[Decision.FAIL],
            warned=counts[Decision.WARN],
            excepted=counts[Decision.EXCEPTED],
            passed=counts[Decision.PASS],
        )
