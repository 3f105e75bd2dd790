"""`--deprecate`: mark the AMIs of a failing build deprecated (`ec2:EnableImageDeprecation`).

Deprecation hides an AMI from `DescribeImages` listings for everyone but its owner and makes Allowed
AMIs' `DeprecationTimeCondition` able to refuse it; instances already running are untouched and anyone
who knows the AMI id can still launch it. The time is the current time rounded up to the next minute
(at least `MARGIN` ahead): EC2 refuses a past `DeprecateAt`, so it is never `--as-of`. An AMI already
deprecated by then, or one EC2 says another account owns, is left as it is (`DescribeImages` first):
setting it again would move its deprecation to now, and an Allowed AMIs `MaximumDaysSinceDeprecated`
would count from the start again. Only with `--apply`: otherwise each AMI is a `PLANNED` record, and the
reports list what would be done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from gate.actions.interface import Outcome
from gate.aws.retry import Backoff, Caller
from gate.errors import GateError, ShapeError
from gate.fleet import Ami
from gate.outcome import ActionRecord, ActionStatus, Verdict
from gate.timeutil import to_utc, utcnow

OPERATION = "ec2:EnableImageDeprecation"
DESCRIBE = "ec2:DescribeImages"


MARGIN = timedelta(minutes=1)
"""How far ahead of the clock the deprecation time is at least: the answer to `DescribeImages`, retries and the network
all come between the clock read and EC2's check, and EC2 refuses a `DeprecateAt` already past."""


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
        amis = self._amis()
        if not amis:  # NOTE: said, not silent: an operator reading "exactly the failing AMIs" must see this one
            return (ActionRecord(action=self.name, target="(no AMI)", operation="deprecate",
                                 status=ActionStatus.SKIPPED, detail="the build lists no output AMI to deprecate"),)
        return tuple(self._one(ami) for ami in amis)

    def _one(self, ami: Ami) -> ActionRecord:
        def record(status: ActionStatus, detail: str) -> ActionRecord:
            return ActionRecord(action=self.name, target=ami.text, operation="deprecate", status=status, detail=detail)

        if ami.account is not None and ami.account != self._owner:
            return record(ActionStatus.SKIPPED, f"owned by account {ami.account}: only its owner can deprecate it")
        at = next_minute(self._clock())
        try:
            ec2 = self._ec2_for(ami.region)
            described = self._call(DESCRIBE, partial(ec2.describe_images, ImageIds=[ami.image]))
            images = [i for i in described.get("Images") or [] if i.get("ImageId") == ami.image]
            if not images:
                return record(ActionStatus.SKIPPED, "EC2 does not describe it (deregistered): nothing to deprecate")
            owner = images[0].get("OwnerId")
            if isinstance(owner, str) and owner != self._owner:
                return record(ActionStatus.SKIPPED, f"owned by account {owner}: only its owner can deprecate it")
            since = to_utc(images[0].get("DeprecationTime"))
            if since is not None and since <= at:
                # NOTE: setting it again would move it to now: Allowed AMIs' days-since-deprecation would restart
                return record(ActionStatus.SKIPPED, f"already deprecated since {since.isoformat()}; left as it is")
            if not self._apply:
                return record(ActionStatus.PLANNED, f"would deprecate at {at.isoformat()} (pass --apply)")
            answer = self._call(OPERATION, partial(ec2.enable_image_deprecation, ImageId=ami.image, DeprecateAt=at))
        except ShapeError as e:
            return record(ActionStatus.FAILED, f"{DESCRIBE} answered a DeprecationTime that is not a time: {e}")
        except GateError as e:
            return record(ActionStatus.FAILED, e.diagnostics())
        if answer.get("Return") is False:
            return record(ActionStatus.FAILED, "EC2 answered Return=false")
        return record(ActionStatus.DONE, f"deprecated at {at.isoformat()}")
