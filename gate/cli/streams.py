"""The one way gate writes to stdout and stderr: nothing it prints can act on a CI runner or a terminal.

The GitHub Actions runner reads both streams line by line (a line ends at LF or at a lone CR) and
executes `::command::` lines (after trimming leading whitespace) and `##[command]` anywhere in a
line. Diagnostics therefore go through `escape.inert_line`, which keeps each one a single line
with every control character visible; documents (reports, the schema) go out byte for byte,
except that in Actions mode JSON is escaped and everything else is fenced between
`::stop-commands::TOKEN` and `::TOKEN::` with a token drawn at random for each fence.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Literal, TextIO

from gate.reports import escape

Stream = Literal["stdout", "stderr"]


class StreamClosed(Exception):
    """Whoever reads standard output or standard error went away (`gate policy schema | head -1`)."""


def actions_mode(env: Mapping[str, str] | None = None) -> bool:
    """Whether the GitHub Actions runner parses what gate prints."""
    return (os.environ if env is None else env).get("GITHUB_ACTIONS") == "true"


def _stream(name: Stream) -> TextIO:
    # NOTE: looked up on each write, so pytest's capture and redirect_stdout are honoured.
    return sys.stdout if name == "stdout" else sys.stderr


def _write(name: Stream, text: str) -> None:
    stream = _stream(name)
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError as e:
        raise StreamClosed(name) from e
    except OSError as e:
        if e.errno in (errno.EPIPE, errno.EBADF):
            raise StreamClosed(name) from e
        raise
    except ValueError as e:  # "I/O operation on closed file"
        raise StreamClosed(name) from e


def error(message: str) -> None:
    """`gate: error: MESSAGE` as one inert line on stderr."""
    _write("stderr", f"gate: error: {escape.inert_line(message)}\n")


def note(message: str) -> None:
    """`gate: MESSAGE` as one inert line on stderr (progress, what was written)."""
    _write("stderr", f"gate: {escape.inert_line(message)}\n")


def line(text: str, stream: Stream = "stdout") -> None:
    """One inert line of command output (policy validate, feeds update, policy fields)."""
    _write(stream, escape.inert_line(text) + "\n")


def lines(text: str, stream: Stream = "stderr") -> None:
    """Text whose line breaks are gate's (help, usage, a traceback), each line made inert."""
    if text:
        _write(stream, escape.inert_lines(text.rstrip("\n")) + "\n")


def exception_trace() -> None:
    """The current exception's traceback (for `-v`), each line made inert: messages quote data."""
    import traceback  # noqa: PLC0415 - only with -v, after an error

    lines(traceback.format_exc(), "stderr")


def command(text: str, stream: Stream = "stdout") -> None:
    """A workflow command gate means to issue; callers escape its data (`reports.github_runner`)."""
    _write(stream, text + "\n")


def document(text: str, *, json: bool = False, stream: Stream = "stdout", env: Mapping[str, str] | None = None) -> None:
    """A whole document (a report, the policy schema), exactly as rendered outside Actions.

    JSON is always passed through `escape.json_text` (the same value, no raw C1 or bidi
    character); in Actions mode that also defuses `##[`, and since JSON strings cannot hold a raw
    line break, no line can start with `::` either, so JSON stays valid for `| jq`. Any other
    document is fenced in Actions mode.
    """
    if json:
        _write(stream, escape.json_text(text))
    elif actions_mode(env):
        fenced(text, stream)
    else:
        _write(stream, text)


def fenced(text: str, stream: Stream = "stdout") -> None:
    """`text` between `::stop-commands::TOKEN` and `::TOKEN::`: the runner executes nothing inside.

    The token is random for every fence, so no text can end the fence early; the closing line
    always starts a new line (a document without a final newline gets one), or the runner would
    never resume and gate's own annotations would be ignored.
    """
    token = os.urandom(16).hex()  # NOTE: what secrets.token_hex does, without importing secrets
    while token in text:  # NOTE: 2**-128 per try; cheap insurance, never expected to loop
        token = os.urandom(16).hex()
    body = text if text.endswith(("\n", "\r")) else text + "\n"
    _write(stream, f"::stop-commands::{token}\n{body}::{token}::\n")


def summary(text: str, stream: Stream = "stdout", env: Mapping[str, str] | None = None) -> None:
    """The terminal summary: fenced in Actions mode (it quotes finding text), else as rendered."""
    text = text if text.endswith("\n") else text + "\n"
    if actions_mode(env):
        fenced(text, stream)
    else:
        _write(stream, text)


def route_library_logs() -> None:
    """Make Python's last-resort log handler (records no handler took: a botocore or urllib3
    warning, which may quote AWS text) and the `warnings` module write through `note`, like any
    diagnostic.

    Called by the commands that load such libraries, and by `main` when one is loaded already:
    importing `logging` costs offline commands about 10 ms they never need.
    """
    import logging  # noqa: PLC0415 - see above

    class InertLogHandler(logging.Handler):
        gate_inert = True

        def emit(self, record: logging.LogRecord) -> None:
            with contextlib.suppress(StreamClosed):
                note(self.format(record))

    if not getattr(logging.lastResort, "gate_inert", False):
        logging.lastResort = InertLogHandler(logging.WARNING)
    warnings.showwarning = _inert_warning  # NOTE: urllib3 and botocore also warn through `warnings`


def _inert_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,  # noqa: PLR0917
                   file: TextIO | None = None, line: str | None = None) -> None:  # (warnings.showwarning's own)
    """`warnings.showwarning`, which would print the (possibly AWS-quoting) message raw, made a note."""
    with contextlib.suppress(StreamClosed):
        note(warnings.formatwarning(message, category, filename, lineno, line).rstrip("\n"))


def silence_closed_streams() -> None:
    """After a reader went away, point stdout and stderr at /dev/null so the interpreter's final
    flush cannot raise again (the recipe in Python's `signal` documentation)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            continue
    os.close(devnull)
