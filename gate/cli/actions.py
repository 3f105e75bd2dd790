"""The options that ask for actions after the verdict, and the actions they build, in the order they run.

A new action is one `ActionOption` here and one module in `gate/actions/`. The order of `ACTIONS` is the
order of execution: the signature first (it records the decision), then marks, then the workflow step
last, so a build is resumed only once everything before it held.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.errors import UsageError

if TYPE_CHECKING:
    from gate.actions.interface import VerdictAction
    from gate.inputs import Inputs


@dataclass(frozen=True)
class ActionOption:
    """One kind of action: how its options are declared and how the action is built from them."""

    name: str
    add: Callable[[Any], None]
    """Adds the options to an argparse group."""
    build: Callable[[argparse.Namespace, Inputs, datetime], VerdictAction | None]
    """The action the parsed options ask for, or None when they ask for none."""


def _add_attest(group: Any) -> None:
    group.add_argument("--attest", type=Path, metavar="FILE",
                       help="write a signed in-toto attestation of the decision (SLSA VSA v1) and its evidence "
                       "(vulns v0.2): DSSE envelopes, one per line; `gate verify` checks it (needs --sign-key)")
    group.add_argument("--sign-key", metavar="KEY", help="sign --attest with kms:KEY_ID_OR_ARN_OR_ALIAS (an "
                       "ECC_NIST_P256 KMS key) or file:PATH (a PEM private key, ECDSA P-256 or Ed25519)")


def _build_attest(args: argparse.Namespace, inputs: Inputs, now: datetime) -> VerdictAction | None:
    path, key = getattr(args, "attest", None), getattr(args, "sign_key", None)
    if path is None and key is None:
        return None
    if path is None or not key:
        raise UsageError("--attest and --sign-key go together", hint="give both, or neither")
    from gate.actions.attest import AttestAction  # noqa: PLC0415 - only a run that signs loads it
    from gate.attestation.keys import parse_key  # noqa: PLC0415

    ref = parse_key(key, "--sign-key")
    mine = os.path.realpath(path)
    others = [str(p) for p in (*inputs.findings, inputs.snapshot, *inputs.finding_details, inputs.kev_catalog,
                                inputs.epss_scores) if p is not None]
    others += [str(spec.path) for spec in getattr(args, "report", ()) or ()]
    if ref.scheme == "file":
        others.append(ref.value)
    if any(os.path.realpath(other) == mine for other in others):
        raise UsageError(f"--attest {path} is also an input, a report or the key", hint="give it a path of its own")
    arn = inputs.image_build_version_arn or inputs.image_pipeline_arn or ""
    region = inputs.region or (arn.split(":")[3] if arn.count(":") >= 5 else None)
    return AttestAction(path, ref, region=region or None, profile=inputs.profile)


ACTIONS: tuple[ActionOption, ...] = (
    ActionOption("attest", _add_attest, _build_attest),
)
"""Every action `gate check` can take, in the order they run."""


def add_action_arguments(parser: Any) -> None:
    if not ACTIONS:
        return
    group = parser.add_argument_group("after the verdict")
    for option in ACTIONS:
        option.add(group)


def actions_from(args: argparse.Namespace, inputs: Inputs, *, now: datetime) -> list[VerdictAction]:
    """The actions the options ask for, in execution order."""
    built = (option.build(args, inputs, now) for option in ACTIONS)
    return [action for action in built if action is not None]
