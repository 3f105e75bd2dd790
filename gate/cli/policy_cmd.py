"""`gate policy validate|test|schema|fields|show|init`: tooling for policy authors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gate.cli import streams
from gate.errors import ExitCode, PolicyError, PolicyErrors, UnreadableInputError, UsageError
from gate.fields import FIELDS


def register(sub: Any) -> None:
    parser = sub.add_parser("policy", help="validate, test and document policies")
    psub = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)
    validate = psub.add_parser("validate", help="check policy files; every problem with file:line")
    validate.add_argument("files", nargs="+", metavar="FILE", help="policy file or shipped policy name")
    validate.set_defaults(func=cmd_validate)
    test = psub.add_parser("test", help="run policy unit tests (*.test.yaml)")
    test.add_argument("paths", nargs="+", metavar="PATH",
                      help="test file, folder of *.test.yaml files, or a shipped policy's name")
    test.set_defaults(func=cmd_test)
    schema = psub.add_parser("schema", help="print the policy JSON Schema (for editor completion)")
    schema.set_defaults(func=cmd_schema)
    fields = psub.add_parser("fields", help="list the fields a rule's `when` can use")
    fields.set_defaults(func=cmd_fields)
    show = psub.add_parser("show", help="print a shipped policy (or a policy file)")
    show.add_argument("name", metavar="NAME",
                      help="a shipped policy (default, kev-only, ratchet, ssvc, strict) or a policy file")
    show.set_defaults(func=cmd_show)
    init = psub.add_parser("init", help="start your own policy from a shipped one")
    init.add_argument("--from", dest="source", default="default", metavar="NAME",
                      help="shipped policy to copy (default: default)")
    init.add_argument("-o", "--output", default="policy.yaml", metavar="FILE", help="default: policy.yaml")
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    init.set_defaults(func=cmd_init)


def cmd_validate(args: argparse.Namespace) -> int:
    from gate.policy.loader import load_policy  # noqa: PLC0415 - `gate --help` needs none of this

    failed = False
    for name in args.files:
        try:
            policy = load_policy(name)
        except PolicyError as e:  # PolicyErrors lists every problem, one per line
            failed = True
            for each in e.errors if isinstance(e, PolicyErrors) else [e]:
                streams.line(each.diagnostics(), "stderr")
        else:
            from gate.policy import lint  # noqa: PLC0415

            for warning in lint.warnings(policy):
                streams.line(f"{policy.source}: warning: {warning}", "stderr")
            streams.line(f"{policy.source}: ok ({len(policy.rules)} rules, {len(policy.exceptions)} exceptions)")
    return ExitCode.USAGE if failed else ExitCode.PASS


def cmd_test(args: argparse.Namespace) -> int:
    from gate.policy.loader import shipped_test  # noqa: PLC0415
    from gate.policytests import discover, run_test_file  # noqa: PLC0415

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
    streams.document(_shipped_text(args.name))
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
