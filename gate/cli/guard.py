"""The reports of one run: a placeholder before the work, then the verdict or an error with the reason."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType

from gate.cli import streams
from gate.cli.output import ReportSpec, publish_to_github, replaceable, write_reports
from gate.cli.signals import Cancelled
from gate.declared import RuleInfo
from gate.errors import GateError
from gate.outcome import ActionRecord, Evaluation, Verdict
from gate.reports.interface import ReportOptions


def reason(error: BaseException) -> str:
    """What a report says when a run ended without a verdict."""
    if isinstance(error, GateError):
        return error.diagnostics()
    if isinstance(error, Cancelled):
        return str(error)
    if isinstance(error, streams.StreamClosed):
        return f"standard {'output' if str(error) == 'stdout' else 'error'} was closed before the run finished"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted before a verdict was reached"
    return f"internal error: {type(error).__name__}: {error}"


class ReportGuard:
    """Owns the reports a run was asked for, from before its first step to its exit.

    On entry every report file is replaced by a placeholder with verdict `error` saying the run is
    in progress, so an earlier run's verdict can never be read as this one's. `write` puts the
    verdict in place. Leaving by any exception — an error, a signal (`Cancelled`), a crash —
    writes the reports with verdict `error` and the reason instead; only a closed stdout after
    the reports were written leaves them as they are. Reports to stdout get no placeholder and no
    error document: what a reader of the pipe sees then is an empty or cut stream, never a verdict.
    """

    def __init__(
        self,
        specs: Sequence[ReportSpec],
        options: ReportOptions,
        env: Mapping[str, str],
        *,
        now: datetime,
        policy_name: str,
    ) -> None:
        self.specs = list(specs)
        self.options = options
        self.env = env
        self.now = now
        self._policy: tuple[str, str, tuple[RuleInfo, ...]] = (policy_name, "", ())
        self._actions: tuple[ActionRecord, ...] = ()
        self._written = False

    def describe_policy(self, name: str, source: str, rules: tuple[RuleInfo, ...]) -> None:
        """What the error reports name as the policy, once it has loaded."""
        self._policy = (name, source, rules)

    def record_actions(self, actions: tuple[ActionRecord, ...]) -> None:
        """What was done after a run that ended without a verdict (a stopped step): its error reports say it."""
        self._actions = actions

    def _error_evaluation(self, message: str) -> Evaluation:
        name, source, rules = self._policy
        return Evaluation(
            verdict=Verdict.ERROR,
            results=(),
            policy_name=name,
            policy_source=source,
            rules=rules,
            evaluated_at=self.now,
            errors=(message,),
            actions=self._actions,
        )

    def __enter__(self) -> ReportGuard:
        started = datetime.now(UTC).isoformat(timespec="seconds")  # NOTE: the clock, not --as-of
        placeholder = self._error_evaluation(
            f"gate run in progress (started {started}); if this report stays like this, the run was "
            "killed before it finished and nothing was decided"
        )
        try:
            write_reports(placeholder, [s for s in self.specs if replaceable(s)], self.options)
        except BaseException as e:  # a signal or an unwritable path half-way: no report may keep an old verdict
            self.__exit__(type(e), e, e.__traceback__)
            raise
        return self

    def write(self, evaluation: Evaluation) -> dict[str, str]:
        """Write every report with the verdict; returns format → path."""
        written = write_reports(evaluation, self.specs, self.options)
        self._written = True
        return written

    def publish(self, evaluation: Evaluation, written: Mapping[str, str]) -> None:
        """In GitHub Actions: annotations, the step summary and outputs for later steps."""
        if streams.actions_mode(self.env):
            publish_to_github(evaluation, self.specs, written, self.options, self.env)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or (isinstance(exc, streams.StreamClosed) and self._written):
            return
        failed = self._error_evaluation(reason(exc))
        # NOTE: the original error decides the exit code and the message; if even the error
        # report cannot be written, the placeholder (verdict error) stays, which is still no verdict.
        written: dict[str, str] = {}
        for spec in self.specs:
            if spec.stream is None:  # NOTE: one by one, so one unwritable path cannot spare the others
                with contextlib.suppress(GateError):
                    written |= write_reports(failed, [spec], self.options)
        with contextlib.suppress(GateError, streams.StreamClosed):
            if streams.actions_mode(self.env):
                publish_to_github(failed, self.specs, written, self.options, self.env)
