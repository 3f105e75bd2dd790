"""`gate policy validate|test|schema|fields|show|init`: tooling for policy authors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gate.cli import streams
from gate.errors import ExitCode, UnreadableInputError, UsageError
from gate.fields import FIELDS


def register(sub: Any) -> None:
    parser = sub.add_parser("policy", help="validate, test and document policies")
    psub = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)
    validate = psub.add_parser("validate", help="check policy files; every problem with file:line:col")
    validate.add_argument("files", nargs="+", metavar="FILE", help="policy file or shipped policy name")
    validate.add_argument("--as-of", metavar="DATE",
                          help="judge exception expiry as on this UTC date (default: today)")
    validate.set_defaults(func=cmd_validate)
    test = psub.add_parser("test", help="run policy unit tests (*.test.yaml)")
    test.add_argument("paths", nargs="+", metavar="PATH",
                      help="test file, folder of *.test.yaml files, or a shipped policy's name")
    test.set_defaults(func=cmd_test)
    schema = psub.add_parser("schema", help="print the policy JSON Schema (for editor completion)")
    schema.set_defaults(func=cmd_schema)
    fields = psub.add_parser("fields", help="list the fields a rule's `when` can use")
    fields.set_defaults(func=cmd_fields)
    show = psub.add_parser("show", help="print a shipped policy (or a policy file) and the data each rule needs")
    show.add_argument("name", metavar="NAME",
                      help="a shipped policy (default, strict, kev-only, ratchet, ssvc) or a policy file")
    show.set_defaults(func=cmd_show)
    init = psub.add_parser("init", help="start your own policy from a shipped one")
    init.add_argument("--from", dest="source", default="default", metavar="NAME",
                      help="shipped policy to copy (default: default)")
    init.add_argument("-o", "--output", default="policy.yaml", metavar="FILE", help="default: policy.yaml")
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    init.set_defaults(func=cmd_init)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def cmd_validate(args: argparse.Namespace) -> int:
    """Every problem of every file, errors and warnings together in file order; exit 2 when any is an error."""
    from gate.policy.validate import validate  # noqa: PLC0415 - `gate --help` needs none of this
    from gate.timeutil import parse_instant, utc, utcnow  # noqa: PLC0415

    try:
        today = utc(parse_instant(args.as_of) if args.as_of else utcnow()).date()
    except ValueError as e:
        raise UsageError(f"--as-of {e}") from None
    failed = False
    for name in args.files:
        result = validate(name, today)
        for problem in result.problems:
            streams.line(problem.text, "stderr")
        warnings = len(result.problems) - result.errors
        if result.errors:
            failed = True
            streams.line(f"{result.source}: invalid ({_plural(result.errors, 'error')}, "
                         f"{_plural(warnings, 'warning')})", "stderr")
        else:
            streams.line(f"{result.source}: ok ({_plural(result.rules, 'rule')}, "
                         f"{_plural(result.exceptions, 'exception')})")
    return ExitCode.USAGE if failed else ExitCode.PASS


def cmd_test(args: argparse.Namespace) -> int:
    from gate.policy.loader import shipped_test  # noqa: PLC0415
    from gate.policy_cases import discover, run_test_file  # noqa: PLC0415

    files = discover([shipped_test(p) or Path(p) for p in args.paths])
    passed = failed = 0
    for path in files:
        for outcome in run_test_file(path):
            if outcome.ok:
                passed += 1
            else:
                failed += 1
                streams.line(f"FAIL {path}: {outcome.name}: {outcome.detail}")
    streams.line(f"policy tests: {passed} passed, {failed} failed")
    return ExitCode.VIOLATION if failed else ExitCode.PASS


def cmd_schema(args: argparse.Namespace) -> int:
    from gate.policy.loader import policy_schema  # noqa: PLC0415

    streams.document(json.dumps(policy_schema(), indent=2) + "\n", json=True)
    return ExitCode.PASS


def cmd_fields(args: argparse.Namespace) -> int:
    width = max(len(n) for n in FIELDS)
    for name, field in FIELDS.items():
        sources = ", ".join(sorted(field.sources))
        streams.line(f"{name:<{width}}  {field.type.value:<15}  {field.doc} [from: {sources}]")
    return ExitCode.PASS


def _shipped_text(name: str) -> str:
    from gate.policy.loader import resolve  # noqa: PLC0415

    path = resolve(name)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot read ({e.strerror or e})") from e


def cmd_show(args: argparse.Namespace) -> int:
    """The policy as written, then (as YAML comments) the data each rule needs."""
    from gate.policy.loader import load_policy  # noqa: PLC0415
    from gate.policy.needs import comment  # noqa: PLC0415

    text = _shipped_text(args.name)
    needs = comment(load_policy(args.name))
    streams.document(text + ("" if text.endswith("\n") else "\n") + "\n".join(needs) + "\n")
    return ExitCode.PASS


def cmd_init(args: argparse.Namespace) -> int:
    from gate.files import atomic_write  # noqa: PLC0415
    from gate.policy.loader import shipped_policies  # noqa: PLC0415

    if args.source not in shipped_policies():
        raise UsageError(f"--from {args.source!r} is not a shipped policy",
                         hint="shipped policies: " + ", ".join(sorted(shipped_policies())))
    target = Path(args.output)
    if target.exists() and not args.force:
        raise UsageError(f"{target} exists; not overwriting it", hint="pass --force, or -o another file")
    text = _shipped_text(args.source)
    try:
        atomic_write(target, text.encode("utf-8"))
    except OSError as e:
        raise UnreadableInputError(f"{target}: cannot write ({e.strerror or e})") from e
    streams.line(f"wrote {target} from the shipped '{args.source}' policy; edit it, then run "
                 f"`gate policy validate {target}` and `gate check --policy {target} ...`")
    return ExitCode.PASS
