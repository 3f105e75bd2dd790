"""`--revoke-watermark NAME`: detach this account's mark from the AMIs of failing builds (the in-build watermark code).

Only a verdict of FAIL revokes: a build gate could not judge keeps its mark (and is reported unjudged). The mark is
looked up first (`DescribeImages`), so an AMI without it is a SKIPPED record, and without `--apply` each detach is a
PLANNED record. What revoking cannot do: copies of the AMI already made in other accounts carry the mark too, and
only their owners can detach it; they keep passing an Allowed AMIs watermark criterion until its
`MaximumDaysSinceWatermarkCreated` runs out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gate.actions.context import AwsContext
from gate.actions.deprecate import failing
from gate.actions.interface import Outcome
from gate.actions.watermark import NAME, OutputAmi, Watermark, check_name
from gate.actions.workflow_step import inert
from gate.aws.retry import Caller
from gate.errors import AwsCallError
from gate.fleet import Ami
from gate.outcome import ActionRecord, ActionStatus

__all__ = ["SharedContext", "check_name", "revoke_action"]


class SharedContext(AwsContext):
    """One `AwsContext` for every build of a sweep: its clients and the caller's account are made once, under a lock."""

    def __init__(self, region: str, profile: str | None, caller: Caller | None = None) -> None:
        super().__init__(region, profile, caller)
        self._lock = threading.RLock()

    def client(self, service: str, region: str | None = None) -> Any:
        with self._lock:
            return super().client(service, region)

    def account(self) -> str:
        with self._lock:
            return super().account()

    def close(self) -> None:
        with self._lock:
            super().close()


class RevokeWatermark(Watermark):
    """Detach `ACCOUNT:NAME` from every owned AMI of a failing build; nothing for a pass or an unjudged build."""

    def __init__(self, context: AwsContext, build_arn: str, watermark_name: str, amis: Callable[[], tuple[Ami, ...]],
                 *, apply: bool) -> None:
        super().__init__(context, build_arn, watermark_name)
        self._amis = amis
        self._apply = apply

    def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
        if not failing(outcome):
            return ()
        if self.account is None:
            return (ActionRecord(NAME, self.build_arn, "detach", ActionStatus.FAILED,
                                 "the caller's account is unknown (prepare did not run)"),)
        amis = self._amis()
        if not amis:  # NOTE: said, not silent, as --deprecate does
            return (ActionRecord(NAME, "(no AMI)", "detach", ActionStatus.SKIPPED,
                                 "the build lists no output AMI to detach the mark from"),)
        return tuple(self._revoke(OutputAmi(a.region, a.image, a.account), outcome.why_not) for a in amis)

    def _revoke(self, ami: OutputAmi, why: str) -> ActionRecord:
        def record(status: ActionStatus, detail: str) -> ActionRecord:
            return ActionRecord(NAME, ami.target, "detach", status, inert(f"{self.key}: {detail}"))

        if ami.account is not None and ami.account != self.account:
            return record(ActionStatus.SKIPPED, f"owned by account {ami.account}; only its owner can detach the mark")
        try:
            ec2 = self.context.client("ec2", ami.region)
            image = self._describe(ec2, ami)
            keys = [m.get("WatermarkKey") for m in image.get("ImageWatermarks") or [] if isinstance(m, dict)]
            if self.key not in keys:
                return record(ActionStatus.SKIPPED, "not attached, nothing to detach")
            if not self._apply:
                return record(ActionStatus.PLANNED, f"would detach (pass --apply): {why}")
            self._detach(ec2, ami)
        except AwsCallError as e:
            return record(ActionStatus.FAILED, e.diagnostics())
        return record(ActionStatus.DONE, f"detached: {why}")


def revoke_action(context: AwsContext, name: str, build_arn: str, amis: Callable[[], tuple[Ami, ...]], *,
                  apply: bool) -> RevokeWatermark:
    return RevokeWatermark(context, build_arn, name, amis, apply=apply)
