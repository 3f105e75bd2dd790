"""The seam for what happens after the verdict: an action is told the outcome and says what it did.

Actions never change the verdict. They run in the order given, each seeing what the earlier ones
did (a workflow step is resumed only if every AMI was marked); the owner, `gate.decide`, turns any
failed step into exit 3 once all of them have run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gate.errors import GateError
from gate.outcome import ActionRecord, ActionStatus, Evaluation, Verdict


@dataclass(frozen=True)
class Outcome:
    """What an action is told: the verdict, or the error that left the run without one, and what came before."""

    evaluation: Evaluation | None
    error: GateError | None
    done: tuple[ActionRecord, ...] = ()
    """Records of the actions that ran before this one, in order."""
    fail_on_warn: bool = False
    """`--fail-on warn`: a warning blocks too."""

    @property
    def passed(self) -> bool:
        """May the image go on? Only a verdict that is a pass, and only if no earlier action failed.

        NOTE: `--fail-on never` changes the exit code, not this: a report-only run never releases a failing image.
        """
        e = self.evaluation
        if e is None or self.error is not None or e.verdict is not Verdict.PASS:
            return False
        if self.fail_on_warn and e.summary.warned:
            return False
        return not any(r.status is ActionStatus.FAILED for r in self.done)

    @property
    def why_not(self) -> str:
        """Why the image may not go on, in one line (empty when it may)."""
        if self.error is not None:
            return f"gate could not decide: {self.error.diagnostics()}"
        e = self.evaluation
        if e is None:
            return "gate could not decide"
        if e.verdict is not Verdict.PASS:
            return f"verdict {e.verdict.value.upper()} under policy {e.policy_name}"
        if self.fail_on_warn and e.summary.warned:
            return f"{e.summary.warned} findings warn under policy {e.policy_name} (--fail-on warn)"
        failed = [r for r in self.done if r.status is ActionStatus.FAILED]
        if failed:
            return f"{failed[0].action} failed on {failed[0].target}: {failed[0].detail}"
        return ""


class VerdictAction(Protocol):
    """Something done because of a verdict: resume or stop a workflow step, attach or detach a watermark, sign.

    `prepare` runs before anything is fetched, so a misconfigured action (no step waiting for this build)
    stops the run before the listing; it raises a `GateError`. `act` runs once the outcome is known, also
    when there is no verdict, and returns what it did: a step it tried and could not do is a record with
    status `FAILED` rather than an exception, so the actions after it still run and the reports say it.
    """

    name: str
    revocable: bool
    """Whether `act` with a failed outcome undoes what it did on a pass (a watermark can be detached; a sent
    RESUME cannot be taken back). `gate.decide` tells such actions again when a later step failed."""

    def prepare(self) -> None: ...

    def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]: ...
