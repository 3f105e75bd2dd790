"""One error root for gate; every subclass names its cause, a hint, and (in `exit_code`) its exit status."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The documented exit codes; the only place they are defined."""

    PASS = 0
    """The image may ship (warnings allowed)."""
    VIOLATION = 1
    """A policy rule failed for at least one finding."""
    USAGE = 2
    """Bad command line, invalid policy, or input that is not what it claims to be."""
    INCOMPLETE = 3
    """Could not see everything: unreadable data, unfinished scan, AWS failure."""


def one_line(text: object, limit: int = 300) -> str:
    """Collapse a message from outside (AWS, a saved answer) to one short line: error messages stay on one line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class GateError(Exception):
    """Base of every error gate reports to a user."""

    exit_code: ExitCode = ExitCode.INCOMPLETE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """One line for stderr: what went wrong and what to do."""
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(GateError):
    """The command line asks for something impossible."""

    exit_code = ExitCode.USAGE


class PolicyError(GateError):
    """A policy, exception or policy test file is invalid."""

    exit_code = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = path or "<policy>"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}", hint=hint)
        self.path = path
        self.line = line
        self.column = column
        self.detail = message


class PolicyErrors(PolicyError):
    """Several policy problems found at once; `validate` shows them all."""

    def __init__(self, errors: list[PolicyError]) -> None:
        first = errors[0]
        super().__init__(first.detail, path=first.path, line=first.line, column=first.column,
                         hint=first.hint)
        self.errors = errors

    def diagnostics(self) -> str:
        return "\n".join(e.diagnostics() for e in self.errors)


class InputError(GateError):
    """An input file is not what it must be (not JSON, not an Image Builder export, bad values)."""

    exit_code = ExitCode.USAGE


class UnreadableInputError(GateError):
    """An input file cannot be read at all (missing, permissions, truncated archive)."""

    exit_code = ExitCode.INCOMPLETE


class IncompleteError(GateError):
    """The gate could not see every finding or every fact it was asked to use."""

    exit_code = ExitCode.INCOMPLETE


class ScanNotReadyError(IncompleteError):
    """The image's scan is disabled, unfinished or failed."""


class AwsError(IncompleteError):
    """An AWS call failed after retries, or was denied."""


class ActionError(IncompleteError):
    """An action after the verdict (workflow step, watermark, signature) failed: the verdict stands, the run exits 3."""


class VerificationFailed(GateError):
    """A signed decision is well-formed but does not let the image go (`gate verify`): the first reason."""

    exit_code = ExitCode.VIOLATION


class BuildSkipped(GateError):
    """A build with nothing to judge (deleted, disabled, failed, cancelled): a sweep lists it with the reason."""

    exit_code = ExitCode.INCOMPLETE


class InternalError(IncompleteError):
    """A bug or an unforeseen failure inside gate, met where the run must still act on "could not decide"."""

    def __init__(self, error: Exception) -> None:
        text = " ".join(str(error).split())
        super().__init__(f"internal error: {type(error).__name__}: {text[:300]}",
                         hint="run with -v for a traceback and please report it")


class FeedError(IncompleteError):
    """A KEV/EPSS feed could not be downloaded or validated."""


class ShapeError(ValueError):
    """A document is not the shape it claims; callers wrap it with the file or API call it came from."""


class ExprError(Exception):
    """A policy expression is invalid; `column` is 1-based within the expression text."""

    def __init__(self, message: str, column: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.hint = hint


class AwsCallError(AwsError):
    """An AWS call failed; `action` (`service:Operation`) and `code` let callers branch on the cause."""

    def __init__(self, message: str, *, action: str, code: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.action = action
        self.code = code
