"""The decision owner: actions run after the verdict in order, never change it, and a failed one is exit 3."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gate.actions.interface import Outcome
from gate.decide import Settings, decide, decide_each
from gate.errors import ExitCode, GateError, InputError, UnreadableInputError, UsageError
from gate.inputs import Inputs, open_plan
from gate.outcome import ActionRecord, ActionStatus, Evaluation, Verdict
from gate.policy.loader import load_policy
from gate.reports.interface import ReportOptions
from gate.reports.json_report import JsonReport
from gate.reports.markdown import MarkdownReport
from gate.reports.table import TableReport
from tests.reports.sample import EVALUATION, HOSTILE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PASSING = replace(EVALUATION, verdict=Verdict.PASS, results=())


@dataclass
class Recorder:
    """A real action for the seam: it records what it was told and answers with a fixed status."""

    name: str
    status: ActionStatus = ActionStatus.DONE
    revocable: bool = False
    raise_on_prepare: GateError | None = None
    raise_on_act: GateError | None = None
    told: list[Outcome] = field(default_factory=list)
    prepared: int = 0

    def prepare(self) -> None:
        self.prepared += 1
        if self.raise_on_prepare is not None:
            raise self.raise_on_prepare

    def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
        self.told.append(outcome)
        if self.raise_on_act is not None:
            raise self.raise_on_act
        operation = "RESUME" if outcome.passed else "STOP"
        return (ActionRecord(self.name, "step-1", operation, self.status, outcome.why_not),)


def test_a_pass_reaches_every_action_and_their_records_reach_the_evaluation() -> None:
    first, second = Recorder("watermark"), Recorder("workflow-step")
    decided = decide(lambda: PASSING, [first, second])
    assert decided.error is None and decided.action_error() is None
    assert decided.evaluation is not None and decided.evaluation.verdict is Verdict.PASS
    assert [r.operation for r in decided.evaluation.actions] == ["RESUME", "RESUME"]
    assert second.told[0].done == decided.actions[:1]


def test_a_failing_verdict_is_never_passed_on_as_a_pass() -> None:
    action = Recorder("workflow-step")
    decided = decide(lambda: EVALUATION, [action])
    assert EVALUATION.verdict is Verdict.FAIL
    assert not action.told[0].passed
    assert "verdict FAIL" in action.told[0].why_not
    assert decided.evaluation is not None and decided.evaluation.verdict is Verdict.FAIL


def test_warnings_block_only_under_fail_on_warn() -> None:
    warned = replace(EVALUATION, verdict=Verdict.PASS)
    assert warned.summary.warned
    assert Outcome(warned, None).passed
    assert not Outcome(warned, None, fail_on_warn=True).passed


def test_a_failed_action_makes_later_ones_see_no_pass_and_the_run_exit_3() -> None:
    mark, step = Recorder("watermark", status=ActionStatus.FAILED), Recorder("workflow-step")
    decided = decide(lambda: PASSING, [mark, step])
    assert not step.told[0].passed and "watermark failed" in step.told[0].why_not
    error = decided.action_error()
    assert error is not None and error.exit_code is ExitCode.INCOMPLETE
    # NOTE: the verdict stands; only the exit code says an action failed.
    assert decided.evaluation is not None and decided.evaluation.verdict is Verdict.PASS


def test_an_action_that_raises_is_one_failed_record_and_the_next_still_runs() -> None:
    broken = Recorder("attest", raise_on_act=UnreadableInputError("key file gone"))
    step = Recorder("workflow-step")
    decided = decide(lambda: PASSING, [broken, step])
    assert decided.actions[0].status is ActionStatus.FAILED and "key file gone" in decided.actions[0].detail
    assert step.told and not step.told[0].passed


def test_no_verdict_still_reaches_the_actions_with_the_error() -> None:
    action = Recorder("workflow-step")

    def judge() -> Evaluation:
        raise InputError("export cut short")

    decided = decide(judge, [action])
    assert decided.evaluation is None and isinstance(decided.error, InputError)
    assert action.told[0].error is decided.error and not action.told[0].passed
    assert "could not decide: export cut short" in action.told[0].why_not


def test_a_refusing_prepare_stops_before_anything_is_judged() -> None:
    judged: list[int] = []
    action = Recorder("workflow-step", raise_on_prepare=UsageError("two steps wait"))

    def judge() -> Evaluation:
        judged.append(1)
        return PASSING

    with pytest.raises(UsageError):
        decide(judge, [action])
    assert judged == [] and action.told == []


@pytest.mark.parametrize("fmt", ["json", "table", "markdown"])
def test_hostile_action_text_is_inert_in_reports(fmt: str) -> None:
    record = ActionRecord("workflow-step", "step-\x1b[31m\r::error::x", "STOP", ActionStatus.FAILED, HOSTILE)
    evaluation = replace(EVALUATION, actions=(record,))
    renderer = {"json": JsonReport(), "table": TableReport(), "markdown": MarkdownReport()}[fmt]
    text = renderer.render(evaluation, ReportOptions())
    assert "\x1b" not in text and "\r::error" not in text
    assert "STOP" in text


def _settings() -> Settings:
    return Settings(now=datetime(2026, 11, 21, tzinfo=UTC), max_feed_age=timedelta(days=460))


def _plan(path: Path):  # type: ignore[no-untyped-def]
    details = (EXAMPLES / "inspector-findings.json", EXAMPLES / "finding-details.json")
    return open_plan(Inputs(findings=(path,), finding_details=details, kev_catalog=EXAMPLES / "kev.json",
                            epss_scores=EXAMPLES / "epss-scores.csv.gz", cached_feeds=False, use_cache=False))


@pytest.mark.parametrize("concurrency", [1, 3])
def test_decide_each_keeps_order_and_one_bad_target_spares_the_others(tmp_path: Path, concurrency: int) -> None:
    missing = tmp_path / "gone.json"
    targets = [EXAMPLES / "findings.json", missing, EXAMPLES / "findings.json"]
    policy = load_policy("kev-only")
    done = list(decide_each(targets, _plan, policy, _settings(), concurrency=concurrency))
    assert [each.target for each in done] == targets
    first, bad, third = (each.decided for each in done)
    assert first.evaluation is not None and first.evaluation.verdict is Verdict.FAIL
    assert bad.evaluation is None and bad.error is not None and bad.error.exit_code is ExitCode.INCOMPLETE
    assert third.evaluation is not None and third.evaluation.summary == first.evaluation.summary


def test_decide_each_reads_targets_only_as_it_needs_them(tmp_path: Path) -> None:
    """Memory stays flat in the fleet's size: no more than `concurrency` targets are open ahead."""
    taken: list[int] = []
    lock = threading.Lock()

    def targets():  # type: ignore[no-untyped-def]
        for n in range(6):
            with lock:
                taken.append(n)
            yield EXAMPLES / "findings.json"

    policy = load_policy("kev-only")
    stream = decide_each(targets(), _plan, policy, _settings(), concurrency=2)
    next(stream)
    assert len(taken) <= 3
    stream.close()


def test_a_crash_in_judge_still_stops_the_step_and_is_exit_3() -> None:
    """A bug (not a GateError) while judging is "could not decide": the actions run and are told so."""
    step = Recorder("workflow-step")

    def judge() -> Evaluation:
        raise KeyError("findings")

    decided = decide(judge, [step])
    assert decided.error is not None and decided.error.exit_code is ExitCode.INCOMPLETE
    assert decided.error.message.startswith("internal error: KeyError")
    assert [r.operation for r in decided.actions] == ["STOP"]
    assert "could not decide" in step.told[0].why_not


def test_a_crash_in_an_action_is_a_failed_step_and_later_actions_stop() -> None:
    class Crashing(Recorder):
        def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
            raise TypeError("boom")

    first, second = Crashing("watermark"), Recorder("workflow-step")
    decided = decide(lambda: PASSING, [first, second])
    assert [r.status for r in decided.actions] == [ActionStatus.FAILED, ActionStatus.DONE]
    assert decided.actions[-1].operation == "STOP"
    error = decided.action_error()
    assert error is not None and error.exit_code is ExitCode.INCOMPLETE and "TypeError" in error.message


def test_an_interrupt_tells_every_action_once_more_but_never_re_answers_a_step() -> None:
    class Interrupted(Recorder):
        def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
            if not self.told:
                self.told.append(outcome)
                raise KeyboardInterrupt
            return super().act(outcome)

    step, mark = Recorder("workflow-step"), Interrupted("watermark", revocable=True)
    with pytest.raises(KeyboardInterrupt):
        decide(lambda: PASSING, [step, mark])
    assert len(step.told) == 1  # answered already: not sent a second action
    assert len(mark.told) == 2 and not mark.told[1].passed
    assert "KeyboardInterrupt" in mark.told[1].why_not
