"""Where a sweep's (or a merge's) reports go: checked before any work, a placeholder until the end, then the report.

A report file left by an earlier run must never be read as this run's: before the first AWS call every report
file says `complete: false` (the sweep has not finished), and a run that ends without its reports (a refusal,
a crash) leaves that placeholder with the reason, never the earlier fleet report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from gate.cli import streams
from gate.fleet import FleetReport

Specs = Sequence[tuple[str, str]]
"""(format, path) of each `--report`; path `-` is stdout."""


def check_reports(specs: Specs, inputs: Sequence[str]) -> None:
    """Two reports to one place, or a report over an input (a shard being merged), is a `UsageError`."""
    from gate.cli.output import ReportSpec, prepare_reports  # noqa: PLC0415
    from gate.reports.registry import Format  # noqa: PLC0415

    prepare_reports([ReportSpec(Format(fmt), path) for fmt, path in specs], inputs)


def _render(fmt: str, report: FleetReport) -> str:
    from gate.fleetjson import to_json  # noqa: PLC0415
    from gate.reports import fleet  # noqa: PLC0415

    render = {"json": to_json, "markdown": fleet.markdown, "html": fleet.html}
    return render[fmt](report)


def emit(report: FleetReport, specs: Specs) -> None:
    """Each report to its file or stdout, then the terminal summary (to stderr when a report took stdout)."""
    from gate.cli.output import stream_for, write_file  # noqa: PLC0415
    from gate.reports import fleet  # noqa: PLC0415

    on_stdout = False
    for fmt, path in specs:
        text = _render(fmt, report)
        stream = stream_for(path) if path != "-" else "stdout"
        if stream is not None:
            on_stdout = on_stdout or stream == "stdout"
            streams.document(text, json=fmt == "json", stream=stream)
        else:
            write_file(Path(path), text)
            streams.note(f"wrote {fmt} report to {path}")
    streams.summary(fleet.terminal(report), "stderr" if on_stdout else "stdout")


class ReportGuard:
    """Placeholders in every report file on entry; the reason in them if the run leaves before `emit`."""

    def __init__(self, specs: Specs, what: str, now: datetime) -> None:
        self.specs = specs
        self.what = what
        self.now = now
        """The run's own time (not the clock's): a placeholder read back as `--previous` is never "after" it."""
        self.done = False

    def _placeholder(self, why: str) -> None:
        from gate.cli.output import stream_for, write_file  # noqa: PLC0415

        report = FleetReport(generated_at=self.now, policy="-", records=(), complete=False, notes=(why,))
        for fmt, path in self.specs:  # NOTE: stdout gets nothing: an empty stream is never read as a report
            if path != "-" and stream_for(path) is None:
                write_file(Path(path), _render(fmt, report))

    def __enter__(self) -> ReportGuard:
        self._placeholder(f"{self.what} has not finished: this placeholder is not a report")
        return self

    def emit(self, report: FleetReport) -> None:
        emit(report, self.specs)
        self.done = True

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> Any:
        if error is not None and not self.done:
            from gate.cli.guard import reason  # noqa: PLC0415

            with contextlib.suppress(Exception):  # NOTE: the error that ended the run is the one to report
                self._placeholder(f"{self.what} ended without its reports: {reason(error)}")
        return None
