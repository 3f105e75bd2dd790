"""Where reports go: `--report FORMAT=PATH` files or stdout, and GitHub Actions' summary, outputs and annotations."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gate.errors import UnreadableInputError, UsageError
from gate.files import atomic_write
from gate.model import Evaluation
from gate.reports import github
from gate.reports.interface import ReportOptions
from gate.reports.registry import Format, formatter

GITHUB_SUMMARY_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class ReportSpec:
    format: Format
    path: str
    """A file path, or `-` for standard output."""


def parse_report_spec(text: str) -> ReportSpec:
    name, sep, path = text.partition("=")
    choices = ", ".join(f.value for f in Format)
    if not sep or not path:
        raise UsageError(f"--report {text!r}: expected FORMAT=PATH (PATH may be -)", hint=f"formats: {choices}")
    try:
        fmt = Format(name.strip().lower())
    except ValueError:
        raise UsageError(f"--report {text!r}: unknown format {name!r}", hint=f"formats: {choices}") from None
    return ReportSpec(fmt, path)


def use_color(stream: object) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write_reports(evaluation: Evaluation, specs: Sequence[ReportSpec], options: ReportOptions) -> dict[str, str]:
    """Render and write each requested report; returns format → path for outputs."""
    written: dict[str, str] = {}
    for spec in specs:
        text = formatter(spec.format).render(evaluation, options)
        if spec.path == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            _write(Path(spec.path), text)
        written[spec.format.value] = spec.path
    return written


def _write(path: Path, text: str) -> None:
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot write report ({e.strerror or e})") from e


def github_mode(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def publish_to_github(evaluation: Evaluation, written: Mapping[str, str], options: ReportOptions,
                      env: Mapping[str, str]) -> None:
    """Annotations on stdout, the Markdown summary appended to the step summary, outputs for later steps."""
    for line in github.annotations(evaluation, options.sarif_location):
        print(line)
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        md_options = ReportOptions(color=False, sarif_location=options.sarif_location,
                                   max_bytes=GITHUB_SUMMARY_LIMIT - 4096)
        _append(Path(summary_path), formatter(Format.MARKDOWN).render(evaluation, md_options))
    output_path = env.get("GITHUB_OUTPUT")
    if output_path:
        _append(Path(output_path), github.outputs(evaluation, written))


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot append ({e.strerror or e})") from e
