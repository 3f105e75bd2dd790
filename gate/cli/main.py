"""`gate` entry point: parse, dispatch, and map every error to its documented exit code in one place."""

from __future__ import annotations

import argparse
import gc
import sys
import traceback
from collections.abc import Sequence

from gate import __version__
from gate.errors import ExitCode, GateError


def build_parser() -> argparse.ArgumentParser:
    from gate.cli import check, feeds, fetch, policy_cmd  # noqa: PLC0415 - keep `--version` fast

    parser = argparse.ArgumentParser(
        prog="gate",
        description="May this image ship? Judge an EC2 Image Builder image's scan findings against a policy.",
        epilog="Exit codes: 0 pass (warnings allowed), 1 policy violation, 2 usage error or invalid "
        "policy/input, 3 could not complete (unreadable or incomplete data, AWS failure).",
    )
    parser.add_argument("--version", action="version", version=f"gate {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check.register(sub)
    fetch.register(sub)
    policy_cmd.register(sub)
    feeds.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    verbose = "-v" in (argv if argv is not None else sys.argv[1:])
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # argparse: --help/--version exit 0, usage errors exit 2
            return int(e.code) if isinstance(e.code, int) else ExitCode.USAGE
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return ExitCode.USAGE
        verbose = bool(getattr(args, "verbose", False))
        return int(args.func(args))
    except GateError as e:
        if verbose:
            traceback.print_exc()
        print(f"gate: error: {e.diagnostics()}", file=sys.stderr)
        return int(e.exit_code)
    except KeyboardInterrupt:
        print("gate: error: interrupted; nothing was decided", file=sys.stderr)
        return ExitCode.INCOMPLETE
    except Exception as e:  # fail closed: a crash is "could not complete", never a pass
        if verbose:
            traceback.print_exc()
        print(f"gate: error: internal error: {type(e).__name__}: {e} (run with -v for a traceback "
              "and please report it)", file=sys.stderr)
        return ExitCode.INCOMPLETE


def entrypoint() -> None:
    # NOTE: a short-lived CLI holding tens of thousands of findings spends much of its time in
    # the cyclic collector re-scanning them (measured in bench/dry_run.py); collect less often.
    gc.set_threshold(100_000, 50, 100)
    sys.exit(main())
