"""`--deprecate`: mark the AMIs of a failing build deprecated (`ec2:EnableImageDeprecation`).

Deprecation hides an AMI from `DescribeImages` listings for everyone but its owner and makes Allowed
AMIs' `DeprecationTimeCondition` able to refuse it; instances already running are untouched and anyone
who knows the AMI id can still launch it. The time is the current time rounded up to the next minute:
EC2 refuses a past `DeprecateAt`, so it is never `--as-of`. Only with `--apply`: otherwise each AMI is a
`PLANNED` record, and the reports list what would be done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from gate.actions.interface import Outcome
from gate.aws.retry import Backoff, Caller
from gate.errors import GateError
from gate.fleet import Ami
from gate.outcome import ActionRecord, ActionStatus, Verdict
from gate.timeutil import utcnow

OPERATION = "ec2:EnableImageDeprecation"


MARGIN = timedelta(minutes=1)
"""How far ahead of the clock the deprecation time is at least: EC2 refuses a time already past when the call lands
(a slow call, a busy runner, a clock a little behind AWS's), and that would fail the action."""


def next_minute(now: datetime) -> datetime:
    """The first whole minute at least `MARGIN` after `now`."""
    later = now + MARGIN
    rounded = later.replace(second=0, microsecond=0)
    return rounded if rounded == later else rounded + timedelta(minutes=1)


def failing(outcome: Outcome) -> bool:
    """Only a verdict of FAIL acts: a build gate could not judge is reported, never deprecated or unmarked."""
    return outcome.error is None and outcome.evaluation is not None and outcome.evaluation.verdict is Verdict.FAIL


class DeprecateAction:
    """Deprecate every AMI of a failing build that the build's own account owns."""

    name = "deprecate"
    revocable = False
    """A deprecation is not undone: it acts only on a FAIL, never because of a pass."""

    def __init__(self, amis: Callable[[], tuple[Ami, ...]], owner: str, ec2_for: Callable[[str], Any], *,
                 apply: bool, clock: Callable[[], datetime] = utcnow, caller: Caller | None = None) -> None:
        self._amis = amis
        self._owner = owner
        self._ec2_for = ec2_for
        self._apply = apply
        self._clock = clock
        self._call = caller or Caller(Backoff())

    def prepare(self) -> None:
        return None

    def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
        if not failing(outcome):
            return ()
        records = []
        for ami in self._amis():
            records.append(self._one(ami))
        return tuple(records)

    def _one(self, ami: Ami) -> ActionRecord:
        def record(status: ActionStatus, detail: str) -> ActionRecord:
            return ActionRecord(action=self.name, target=ami.text, operation="deprecate", status=status, detail=detail)

        if ami.account is not None and ami.account != self._owner:
            return record(ActionStatus.SKIPPED, f"owned by account {ami.account}: only its owner can deprecate it")
        at = next_minute(self._clock())
        if not self._apply:
            return record(ActionStatus.PLANNED, f"would deprecate at {at.isoformat()} (pass --apply)")
        try:
            ec2 = self._ec2_for(ami.region)
            answer = self._call(OPERATION, partial(ec2.enable_image_deprecation, ImageId=ami.image, DeprecateAt=at))
        except GateError as e:
            return record(ActionStatus.FAILED, e.diagnostics())
        if answer.get("Return") is False:
            return record(ActionStatus.FAILED, "EC2 answered Return=false")
        return record(ActionStatus.DONE, f"deprecated at {at.isoformat()}")
