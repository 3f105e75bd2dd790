"""Where reports go: `--report FORMAT=PATH` files or stdout, and GitHub Actions' summary, outputs and annotations."""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from gate.cli import streams
from gate.errors import GateError, UnreadableInputError, UsageError
from gate.files import atomic_output, atomic_write, read_bytes
from gate.outcome import Evaluation
from gate.reports import github_runner
from gate.reports.interface import ReportFormat, ReportOptions, StreamingFormat
from gate.reports.registry import Format, formatter

GITHUB_SUMMARY_LIMIT = 1024 * 1024
JSON_FORMATS = frozenset({Format.JSON, Format.SARIF, Format.OPENVEX})
"""Formats that stay valid JSON on stdout in Actions mode (escaped there, not fenced)."""
_ALIASES: Mapping[str, streams.Stream] = {
    "-": "stdout",
    "/dev/stdout": "stdout",
    "/dev/fd/1": "stdout",
    "/proc/self/fd/1": "stdout",
    "/dev/stderr": "stderr",
    "/dev/fd/2": "stderr",
    "/proc/self/fd/2": "stderr",
}


TEMPLATE = "template"
"""`--report template:FILE=PATH`: the user's own format, a Jinja2 template (gate/reports/template.py)."""


@dataclass(frozen=True)
class ReportSpec:
    format: Format | None
    """None for a template report (`template` is then set)."""
    path: str
    """A file path, or `-` for standard output."""
    stream: streams.Stream | None = None
    """Set when the path is gate's own stdout or stderr (`-`, `/dev/stdout`, the same pipe...):
    the report then goes through `streams`, fenced from the CI runner like everything gate prints."""
    template: Path | None = None
    renderer: ReportFormat | None = field(default=None, compare=False)
    """The compiled template, set by `prepare_reports` (before any work, so a syntax error costs nothing)."""

    @property
    def name(self) -> str:
        """How the user wrote the format: `json`, or `template:FILE`."""
        return f"{TEMPLATE}:{self.template}" if self.format is None else self.format.value


def parse_report_spec(text: str) -> ReportSpec:
    name, sep, path = text.rpartition("=") if text.startswith(f"{TEMPLATE}:") else text.partition("=")
    choices = ", ".join([*(f.value for f in Format), f"{TEMPLATE}:FILE"])
    if not sep or not path:
        raise UsageError(f"--report {text!r}: expected FORMAT=PATH (PATH may be -)", hint=f"formats: {choices}")
    stream: streams.Stream | None = "stdout" if path == "-" else None
    if name.startswith(f"{TEMPLATE}:"):
        template = name.removeprefix(f"{TEMPLATE}:")
        if not template:
            raise UsageError(f"--report {text!r}: expected template:FILE=PATH", hint="name the Jinja2 template file")
        return ReportSpec(None, path, stream, template=Path(template))
    try:
        fmt = Format(name.strip().lower())
    except ValueError:
        raise UsageError(f"--report {text!r}: unknown format {name!r}", hint=f"formats: {choices}") from None
    return ReportSpec(fmt, path, stream)


def load_template(spec: ReportSpec) -> ReportSpec:
    """The spec with its template read (bounded, like every input) and compiled; errors are exit 2 or 3."""
    if spec.template is None:
        return spec
    from gate.reports.template import TemplateReport  # noqa: PLC0415 - jinja2 only when a template is used

    data = read_bytes(spec.template)
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{spec.template}: template is not UTF-8 text (byte {e.start})") from None
    return replace(spec, renderer=TemplateReport(spec.template, source))


def _identity(stat_result: os.stat_result) -> tuple[int, int]:
    return stat_result.st_dev, stat_result.st_ino


def _stream_identities() -> dict[tuple[int, int], streams.Stream]:
    found: dict[tuple[int, int], streams.Stream] = {}
    pairs: tuple[tuple[streams.Stream, TextIO], ...] = (("stderr", sys.stderr), ("stdout", sys.stdout))
    for name, stream in pairs:
        try:
            found[_identity(os.fstat(stream.fileno()))] = name
        except (OSError, ValueError):  # no descriptor (captured in tests) or closed
            continue
    return found


def _target(path: str, by_stream: Mapping[tuple[int, int], streams.Stream]) -> tuple[streams.Stream | None, object]:
    """Which of gate's own streams `path` is (if any), and a key equal for equal destinations."""
    stream = _ALIASES.get(path)
    if stream is not None:
        return stream, stream
    try:
        ident = _identity(os.stat(path))
    except OSError:
        return None, os.path.realpath(path)
    stream = by_stream.get(ident)
    return stream, stream or ident


def stream_for(path: str) -> streams.Stream | None:
    """`stdout` or `stderr` when `path` is one of gate's own (`-`, `/dev/stdout`, the same pipe...)."""
    return _target(path, _stream_identities())[0]


def input_paths(args: argparse.Namespace) -> list[str]:
    """Every file the command line names as an input (each `Path`-typed option), which no report may replace."""
    found: list[str] = []
    for value in vars(args).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Path):
                found.append(str(item))
    return found


def prepare_reports(specs: Sequence[ReportSpec], inputs: Sequence[str] = ()) -> list[ReportSpec]:
    """The specs with every path that is really stdout or stderr marked so; a clash is a usage error.

    Two reports to one file (however spelled: `a.json`, `./a.json`, a symlink, a hard link) or
    two to stdout would overwrite or interleave each other, and a report over an input file would
    destroy it (the placeholder is written before the input is read), so gate refuses before any work.
    """
    specs = [load_template(s) for s in specs]
    inputs = [*inputs, *(str(s.template) for s in specs if s.template is not None)]
    by_stream = _stream_identities()
    for path in filter(os.path.exists, inputs):  # NOTE: only what exists can be destroyed
        _, key = _target(path, by_stream)
        for spec in specs:
            if _target(spec.path, by_stream)[1] == key:
                raise UsageError(f"--report {spec.name}={spec.path} would overwrite the input {path}",
                                 hint="write the report somewhere else")
    seen: dict[object, ReportSpec] = {}
    prepared: list[ReportSpec] = []
    for spec in specs:
        stream, key = _target(spec.path, by_stream)
        if key in seen:
            raise UsageError(
                f"--report {seen[key].name}={seen[key].path} and --report "
                f"{spec.name}={spec.path} write to the same place",
                hint="give each report its own path; at most one may go to stdout (-)",
            )
        seen[key] = spec
        prepared.append(replace(spec, stream=stream))
    return prepared


def to_stream(specs: Sequence[ReportSpec], name: streams.Stream) -> bool:
    return any(s.stream == name for s in specs)


def write_reports(evaluation: Evaluation, specs: Sequence[ReportSpec], options: ReportOptions) -> dict[str, str]:
    """Render and write each requested report, files first; returns format → path for outputs.

    Template reports are not named in the outputs: their names (`template:FILE`) are not output names.
    """
    written: dict[str, str] = {}
    for spec in sorted(specs, key=lambda s: s.stream is not None):
        if spec.format is None:
            _write_template(evaluation, spec, options)
            continue
        fmt = formatter(spec.format)
        if spec.stream is None and isinstance(fmt, StreamingFormat):
            stream_file(fmt, evaluation, options, Path(spec.path))
            written[spec.format.value] = spec.path
            continue
        text = fmt.render(evaluation, options)
        if spec.stream is not None:
            streams.document(text, json=spec.format in JSON_FORMATS, stream=spec.stream)
        else:
            write_file(Path(spec.path), text)
        written[spec.format.value] = spec.path
    return written


def _write_template(evaluation: Evaluation, spec: ReportSpec, options: ReportOptions) -> None:
    """A template report; one that cannot render removes the file it would replace, so no earlier run's
    output stays to be read as this run's (a placeholder needs the template to render, too)."""
    if spec.renderer is None:
        spec = load_template(spec)
    assert spec.renderer is not None
    try:
        text = spec.renderer.render(evaluation, options)
    except GateError:
        if replaceable(spec) and os.path.exists(spec.path):
            with contextlib.suppress(OSError):
                os.unlink(os.path.realpath(spec.path))  # NOTE: what the write would have replaced
        raise
    if spec.stream is not None:
        streams.document(text, json=False, stream=spec.stream)
    else:
        write_file(Path(spec.path), text)


def stream_file(fmt: StreamingFormat, evaluation: Evaluation, options: ReportOptions, path: Path) -> None:
    """Write a report to a file as the format renders it: a large report never exists whole in memory."""
    try:
        with atomic_output(path) as out:
            fmt.write(evaluation, options, out)
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot write report ({e.strerror or e})") from e


def write_file(path: Path, text: str) -> None:
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot write report ({e.strerror or e})") from e


def replaceable(spec: ReportSpec) -> bool:
    """Whether the path is a file gate replaces (not a stream, FIFO or device written in place)."""
    if spec.stream is not None:
        return False
    try:
        return stat.S_ISREG(os.stat(spec.path).st_mode)
    except OSError:  # missing, or unreachable: writing the placeholder reports why, before any work
        return True


def publish_to_github(evaluation: Evaluation, specs: Sequence[ReportSpec], written: Mapping[str, str],
                      options: ReportOptions, env: Mapping[str, str]) -> None:
    """Annotations, the Markdown summary appended to the step summary, outputs for later steps.

    Annotations go to stdout unless a report does: the runner reads commands on stderr too, and
    stdout then stays one document (`--report json=- | jq` works).
    """
    stream: streams.Stream = "stderr" if to_stream(specs, "stdout") else "stdout"
    for line in github_runner.annotations(evaluation, options.sarif_location):
        streams.command(line, stream)
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        md_options = ReportOptions(
            color=False, sarif_location=options.sarif_location, max_bytes=GITHUB_SUMMARY_LIMIT - 4096
        )
        _append(Path(summary_path), formatter(Format.MARKDOWN).render(evaluation, md_options))
    output_path = env.get("GITHUB_OUTPUT")
    if output_path:
        _append(Path(output_path), github_runner.outputs(evaluation, written))


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot append ({e.strerror or e})") from e
