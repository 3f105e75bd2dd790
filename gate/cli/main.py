"""`gate` entry point: parse, dispatch, and map every error to its documented exit code in one place."""

from __future__ import annotations

import argparse
import gc
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from gate import __version__
from gate.cli import streams
from gate.cli.signals import Cancelled, cancellable
from gate.errors import ExitCode, GateError, PolicyErrors

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

VERBOSE_FLAGS = ("-v", "--verbose")
CLOSED_PIPE = 128 + signal.SIGPIPE
"""Exit status when a reader closed our stdout or stderr: what a shell shows for death by SIGPIPE."""


class Parser(argparse.ArgumentParser):
    """argparse, with everything it prints (help, usage, errors quoting arguments) made inert."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # NOTE: argparse funnels help, usage, version and errors through this one method.
        if message:
            streams.lines(message, "stdout" if file is sys.stdout else "stderr")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise SystemExit(status)


COMMANDS = {"check": "gate.cli.check", "fetch": "gate.cli.fetch", "policy": "gate.cli.policy",
            "feeds": "gate.cli.feeds", "verify": "gate.cli.verify", "completion": "gate.cli.completion",
            "allowed-amis": "gate.cli.allowed_amis", "sweep": "gate.cli.sweep", "version": "gate.cli.version"}
"""Each subcommand's module, imported only when the command line may need it (start-up time)."""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: only the named subcommand is registered; with none, every one (for help)."""
    words = [a for a in argv or () if not a.startswith("-")]
    if words and words[0] in COMMANDS:
        wanted = [words[0]]
    elif argv and not words and "--version" in argv and not {"-h", "--help"} & set(argv):
        wanted = []  # NOTE: `gate --version` is answered before any subcommand module is imported
    else:
        wanted = list(COMMANDS)  # help, no command or a misspelt one: argparse lists them all

    parser = Parser(
        prog="gate",
        description="May this image ship? Judge an EC2 Image Builder image's scan findings against a policy.",
        epilog="Exit codes: 0 pass (warnings allowed), 1 policy violation, 2 usage error or invalid "
        "policy/input, 3 could not complete (unreadable or incomplete data, AWS failure); "
        "130/143 cancelled by SIGINT/SIGTERM (reports say error).",
    )
    parser.add_argument("--version", action="version", version=f"gate {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show tracebacks for errors (accepted anywhere on the command line)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in wanted:
        importlib.import_module(COMMANDS[name]).register(sub)
    return parser


def split_verbose(argv: Sequence[str]) -> tuple[list[str], bool]:
    """`argv` without `-v`/`--verbose` (before any `--`), and whether one was there.

    Every error suggests `-v`, so it must work after the subcommand too, where argparse would
    otherwise reject an option of the top-level parser.
    """
    rest: list[str] = []
    verbose = False
    for i, arg in enumerate(argv):
        if arg == "--":
            rest += argv[i:]
            break
        if arg in VERBOSE_FLAGS:
            verbose = True
        else:
            rest.append(arg)
    return rest, verbose


def _report(error: GateError) -> None:
    # NOTE: PolicyErrors carries one problem per line; each stays its own (inert) line.
    for each in error.errors if isinstance(error, PolicyErrors) else [error]:
        streams.error(each.diagnostics())


def main(argv: Sequence[str] | None = None) -> int:
    if "logging" in sys.modules:  # NOTE: a library that may log is loaded already (an embedding program)
        streams.route_library_logs()
    args_in, verbose = split_verbose(list(sys.argv[1:] if argv is None else argv))
    try:
        with cancellable():
            return _dispatch(args_in, verbose)
    except streams.StreamClosed:
        return CLOSED_PIPE
    except Cancelled as e:  # arrived outside _dispatch's handlers, or while it printed
        return 128 + e.signum


def _dispatch(argv: list[str], verbose: bool) -> int:
    parser = build_parser(argv)
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # argparse: --help/--version exit 0, usage errors exit 2
            return int(e.code) if isinstance(e.code, int) else ExitCode.USAGE
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return ExitCode.USAGE
        args.verbose = verbose  # NOTE: `gate check -v` also lists every finding in the terminal summary
        return int(args.func(args))
    except GateError as e:
        if verbose:
            streams.exception_trace()
        _report(e)
        return int(e.exit_code)
    except Cancelled as e:
        streams.error(f"{e}; any reports asked for say error")
        return 128 + e.signum
    except KeyboardInterrupt:  # main() called off the main thread, where `cancellable` installs nothing
        streams.error("interrupted; nothing was decided")
        return 128 + signal.SIGINT
    except streams.StreamClosed:
        raise
    except Exception as e:  # fail closed: a crash is "could not complete", never a pass
        if verbose:
            streams.exception_trace()
        streams.error(f"internal error: {type(e).__name__}: {e} (run with -v for a traceback and please report it)")
        return ExitCode.INCOMPLETE


COLLECTOR_THRESHOLDS = (100_000, 50, 100)
"""The cyclic collector's thresholds for the `gate` command: a short-lived CLI holding tens of thousands of
findings spends much of its time in the collector re-scanning them (bench/dry_run.py), so collect less often."""


def entrypoint() -> None:
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    code = main()
    if code == CLOSED_PIPE:
        streams.silence_closed_streams()
    # NOTE: the run is over and its files are closed; spare the interpreter's last full collection over every
    # object still alive (0.15 s of a live run's exit, bench/live_cli.py).
    gc.freeze()
    sys.exit(code)
