"""The owner of a decision: judge one build or many, then carry out the actions its verdict calls for.

`gate check` is the one-build case of `decide_each`: one policy, one set of feeds and one answer cache
serve every build, and each build's actions see only its own outcome.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from gate.actions.interface import Outcome, VerdictAction
from gate.errors import ActionError, GateError, IncompleteError, InternalError
from gate.outcome import ActionRecord, ActionStatus, Evaluation

if TYPE_CHECKING:
    from concurrent.futures import Future

    from gate.policy.loader import Policy
    from gate.run import Plan

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """How every build of one decision is judged: the same clock and limits for all of them."""

    now: datetime
    allow_unanswerable: bool = False
    expiring_within_days: int | None = None
    max_feed_age: timedelta | None = None
    fail_on_warn: bool = False
    """`--fail-on warn`: actions treat a warning as blocking too."""


@dataclass(frozen=True)
class Decided:
    """One build's verdict (or the error that left it without one) and what its actions did."""

    evaluation: Evaluation | None
    """The verdict, with `actions` filled in; None when the run could not complete."""
    error: GateError | None
    actions: tuple[ActionRecord, ...] = ()

    @property
    def failed_actions(self) -> tuple[ActionRecord, ...]:
        return tuple(r for r in self.actions if r.status is ActionStatus.FAILED)

    def action_error(self) -> ActionError | None:
        """The exit-3 error a failed action makes of an otherwise complete run; None when every action held."""
        failed = self.failed_actions
        if not failed:
            return None
        first = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return ActionError(f"{first.action} {first.operation} on {first.target} failed after the verdict: "
                           f"{first.detail}{more}", hint="the reports carry the verdict and what was done")


def decide(judge: Callable[[], Evaluation], actions: Sequence[VerdictAction] = (), *,
           fail_on_warn: bool = False, log: list[ActionRecord] | None = None) -> Decided:
    """Prepare every action (before anything is fetched), judge, then run each action in order.

    An error from `prepare` propagates: nothing was fetched and nothing acted. An error from `judge` is
    kept: the actions still run (a waiting step is stopped when gate could not decide). A crash (any other
    exception) in `judge` or an action counts as such an error, never as a reason to skip the actions after
    it. A pass that an action then failed (a mark refused, a RESUME not sent) is withdrawn: every revocable
    action is told again, with the failure, once all have run. A signal that cuts the run short (CI
    cancelling the job: `Cancelled`, `KeyboardInterrupt`) is "could not decide" too: every action is told so
    (the step is stopped, marks detached) before it goes on up. `log`, if given, receives every record as it
    is made, so a caller still has them when a signal ends the run.
    """
    for action in actions:
        action.prepare()
    done: list[ActionRecord] = log if log is not None else []
    try:
        return _decide(judge, actions, fail_on_warn, done)
    except BaseException as stop:  # NOTE: only signals reach here: _decide keeps every Exception
        interrupted = IncompleteError(f"{str(stop) or type(stop).__name__}; gate did not finish")
        acted = {r.action for r in done}
        for action in actions:  # NOTE: a step already answered is not sent a second, different action
            if action.revocable or action.name not in acted:
                done.extend(_act(action, Outcome(None, interrupted, tuple(done))))
        raise


def _decide(judge: Callable[[], Evaluation], actions: Sequence[VerdictAction], fail_on_warn: bool,
            done: list[ActionRecord]) -> Decided:
    evaluation: Evaluation | None = None
    error: GateError | None = None
    try:
        evaluation = judge()
    except GateError as e:
        error = e
    except Exception as e:  # NOTE: fail closed: a crash is "could not decide", and the step is stopped
        error = InternalError(e)
        error.__cause__ = e
    for action in actions:
        done.extend(_act(action, Outcome(evaluation, error, tuple(done), fail_on_warn=fail_on_warn)))
    after = Outcome(evaluation, error, tuple(done), fail_on_warn=fail_on_warn)
    if Outcome(evaluation, error, fail_on_warn=fail_on_warn).passed and not after.passed:
        # NOTE: a pass that a step then failed (a mark refused, a RESUME not sent): what was done because of the
        # pass is withdrawn, so no AMI keeps a mark of a build that was not released.
        for action in actions:
            if action.revocable:
                done.extend(_act(action, after))
    if evaluation is not None and done:
        evaluation = replace(evaluation, actions=tuple(done))
    return Decided(evaluation=evaluation, error=error, actions=tuple(done))


def _act(action: VerdictAction, outcome: Outcome) -> tuple[ActionRecord, ...]:
    try:
        return action.act(outcome)
    except Exception as e:  # NOTE: an action that raised is one failed step; later ones still run
        failure = e if isinstance(e, GateError) else InternalError(e)
        return (ActionRecord(action=action.name, target="", operation="act", status=ActionStatus.FAILED,
                             detail=failure.diagnostics()),)


def judge_plan(plan: Plan, policy: Policy, settings: Settings) -> Evaluation:
    """`gate.run.judge_build` with the decision's settings."""
    from gate.run import judge_build  # noqa: PLC0415 - the policy stack loads only when a build is judged

    return judge_build(plan, policy, now=settings.now, allow_unanswerable=settings.allow_unanswerable,
               expiring_within_days=settings.expiring_within_days, max_feed_age=settings.max_feed_age)


@dataclass(frozen=True)
class Each(Generic[T]):
    """One target of `decide_each` and its decision."""

    target: T
    decided: Decided


def decide_each(targets: Iterable[T], open_plan: Callable[[T], Plan], policy: Policy, settings: Settings, *,
                actions_for: Callable[[T], Sequence[VerdictAction]] | None = None,
                concurrency: int = 1) -> Iterator[Each[T]]:
    """Judge every target with one policy and settings, in the targets' order, at most `concurrency` at once.

    Targets are read as they are needed and each decision is yielded as soon as it and those before it are
    done, so memory holds at most `concurrency` builds whatever the fleet's size. An error opening one
    target's plan is that target's decision (exit 3 for it), never the end of the others. A stop while
    builds are under way (a signal, a failed listing of targets) is raised only after those builds are
    yielded: each may have acted, and what was done must reach the reports.
    """

    def one(target: T) -> Each[T]:
        actions = actions_for(target) if actions_for is not None else ()
        try:
            decided = decide(lambda: judge_plan(open_plan(target), policy, settings), actions,
                             fail_on_warn=settings.fail_on_warn)
        except GateError as e:  # NOTE: an action's prepare refused this target
            decided = Decided(evaluation=None, error=e)
        return Each(target, decided)

    if concurrency <= 1:
        yield from map(one, targets)
        return
    stopped: BaseException | None = None
    # NOTE: imported here: concurrent.futures brings logging and threading machinery a one-build check never uses.
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="gate-build") as pool:
        window: deque[Future[Each[T]]] = deque()
        try:
            for target in targets:
                window.append(pool.submit(one, target))
                if len(window) >= concurrency:
                    yield _next(window)
            while window:
                yield _next(window)
        except GeneratorExit:  # the consumer left: it wants no more records
            raise
        except BaseException as e:  # e.g. a signal (gate.cli.signals.Cancelled) while waiting for a build
            stopped = e
        # NOTE: the builds already started finish either way (and act: a deprecation may be done); each is
        # yielded, so no action goes unreported, before the stop is raised.
        while window:
            yield _next(window)
    if stopped is not None:
        raise stopped


def _next(window: deque[Future[T]]) -> T:
    """The oldest build's result, taken off the window only once it is there (a signal while waiting keeps it)."""
    done = window[0].result()
    window.popleft()
    return done
