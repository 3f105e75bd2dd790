"""The sweep: every target through `decide_each` with one policy, one set of feeds and one CVE memo, as records.

Records are yielded as builds finish (in target order, at most `concurrency` builds in flight), so the
caller can show progress and keep partial results when the sweep is cut short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from gate.actions.deprecate import DeprecateAction
from gate.actions.interface import VerdictAction
from gate.decide import Settings, decide_each
from gate.errors import GateError
from gate.fleet import Ami, BuildRecord
from gate.policy.loader import Policy
from gate.sweep.compare import Previous
from gate.sweep.records import record_of
from gate.sweep.shared import Resources
from gate.sweep.targets import Target


@dataclass(frozen=True)
class Acting:
    """What to do with the AMIs of failing builds, and whether to do it or only say it."""

    deprecate: bool = False
    revoke_watermark: str | None = None
    apply: bool = False


def _actions(resources: Resources, acting: Acting) -> Callable[[Target], Sequence[VerdictAction]]:
    def amis_of(target: Target) -> Callable[[], tuple[Ami, ...]]:
        def amis() -> tuple[Ami, ...]:
            if target.amis:
                return target.amis
            learned = resources.peek(target.arn)
            return learned.amis if learned is not None else ()
        return amis

    def actions_for(target: Target) -> Sequence[VerdictAction]:
        actions: list[VerdictAction] = []
        if acting.revoke_watermark is not None:
            from gate.sweep.revoke import revoke_action  # noqa: PLC0415 - only sweeps that revoke need it

            actions.append(revoke_action(resources.actions_context(), acting.revoke_watermark, target.arn,
                                         amis_of(target), apply=acting.apply))
        if acting.deprecate:
            actions.append(DeprecateAction(amis_of(target), target.account,
                                           lambda region: resources.clients(region).ec2, apply=acting.apply,
                                           caller=resources.caller))
        return actions

    return actions_for


def sweep(targets: Iterable[Target], resources: Resources, policy: Policy, settings: Settings, *,
          concurrency: int = 4, acting: Acting = Acting(), previous: Previous | None = None) -> Iterator[BuildRecord]:
    """Each target's record, in target order; an error of one build is that build's record, never the sweep's end.

    An error listing the targets (a pipeline listing denied) ends the sweep, but only after the builds already
    started are judged and yielded: it is raised after the last record.
    """
    stopped: list[GateError] = []

    def listed() -> Iterator[Target]:
        try:
            yield from targets
        except GateError as e:
            stopped.append(e)

    for each in decide_each(listed(), resources.open_plan, policy, settings,
                            actions_for=_actions(resources, acting), concurrency=concurrency):
        record = record_of(each.target, each.decided, resources.learned(each.target.arn), settings.now)
        yield previous.compare(record) if previous is not None else record
    if stopped:
        raise stopped[0]
