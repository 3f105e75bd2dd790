"""The options that ask for actions after the verdict, and the actions they build, in the order they run.

A new action is one `ActionOption` here and one module in `gate/actions/`. The order of `ACTIONS` is the
order of execution: the signature first (it records the decision), then marks, then the workflow step
last, so a build is resumed only once everything before it held.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.errors import UnreadableInputError, UsageError

if TYPE_CHECKING:
    from gate.actions.context import AwsContext
    from gate.actions.interface import VerdictAction
    from gate.inputs import Inputs

EVENT_LIMIT = 1024 * 1024
"""Bytes of an --event file read at most: EventBridge events are at most 256 KB."""


@dataclass(frozen=True)
class ActionOption:
    """One kind of action: how its options are declared and how the action is built from them."""

    name: str
    add: Callable[[Any], None]
    """Adds the options to an argparse group."""
    build: Callable[[argparse.Namespace, Inputs, datetime], VerdictAction | None]
    """The action the parsed options ask for, or None when they ask for none."""
    resolve: Callable[[argparse.Namespace], None] | None = None
    """Fills in options these imply before the inputs are read (`--event` names the build)."""


def _watermark_name(text: str) -> str:
    from gate.actions.watermark import check_name  # noqa: PLC0415 - keep `gate --help` light

    try:
        return check_name(text)
    except UsageError as e:
        raise argparse.ArgumentTypeError(e.diagnostics()) from None


def _step(text: str) -> str:
    from gate.actions.event import STEP_ID  # noqa: PLC0415
    from gate.actions.workflow_step import AUTO  # noqa: PLC0415

    if text != AUTO and not STEP_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text[:80]!r} is neither auto nor a step id (step-UUID)")
    return text


def _add_watermark(group: Any) -> None:
    group.add_argument("--watermark", type=_watermark_name, metavar="NAME",
                       help="on a pass, attach the watermark ACCOUNT:NAME to every output AMI this account owns; "
                       "otherwise detach it (needs --image-build-version-arn or --event)")


def _add_workflow_step(group: Any) -> None:
    group.add_argument("--workflow-step", type=_step, metavar="auto|STEP_ID",
                       help="RESUME the build's waiting WaitForAction step on a pass, STOP it otherwise (also when "
                       "gate cannot decide); auto: the one step waiting for this build")
    group.add_argument("--event", metavar="FILE|-",
                       help="an 'EC2 Image Builder Workflow Step Waiting' EventBridge event: names the build and "
                       "the step (implies --image-build-version-arn and --workflow-step)")


def _read_event(args: argparse.Namespace) -> None:
    """`--event`: the build ARN and step id, checked against any given alongside (a clash is exit 2)."""
    given = getattr(args, "event", None)
    if not given:
        return
    from gate.actions.event import read_event  # noqa: PLC0415

    if given == "-":
        data = sys.stdin.buffer.read(EVENT_LIMIT + 1)
        origin = "the event on standard input"
    else:
        try:
            with Path(given).open("rb") as stream:
                data = stream.read(EVENT_LIMIT + 1)
        except OSError as e:
            raise UnreadableInputError(f"--event {given}: cannot read ({e.strerror or e})") from e
        origin = f"--event {given}"
    if len(data) > EVENT_LIMIT:
        raise UnreadableInputError(f"{origin}: larger than {EVENT_LIMIT // 1024} KiB; not an EventBridge event")
    step = read_event(data, origin)
    arn = getattr(args, "image_build_version_arn", None)
    if arn and arn.strip() != step.build_arn:
        raise UsageError(f"--image-build-version-arn {arn} is not the build the event names ({step.build_arn})")
    wanted = getattr(args, "workflow_step", None)
    if wanted not in (None, "auto", step.step_id):
        raise UsageError(f"--workflow-step {wanted} is not the step the event names ({step.step_id})")
    args.image_build_version_arn = step.build_arn
    args.workflow_step = step.step_id


def _context(args: argparse.Namespace, inputs: Inputs, option: str) -> tuple[AwsContext, str]:
    """The actions' shared AWS context (one per run) and the build they act on."""
    from gate.actions.context import AwsContext  # noqa: PLC0415
    from gate.live import arn_region  # noqa: PLC0415

    arn = (inputs.image_build_version_arn or "").strip()
    if not arn:
        raise UsageError(f"{option} acts on one image build version",
                         hint="pass --image-build-version-arn ARN or --event FILE (not --image-pipeline-arn or files)")
    region = arn_region(arn, "--image-build-version-arn", "image")
    made: AwsContext | None = getattr(args, "_aws_context", None)
    if made is None:
        made = AwsContext(inputs.region or region, inputs.profile)
        args._aws_context = made
    return made, arn


def _build_watermark(args: argparse.Namespace, inputs: Inputs, now: datetime) -> VerdictAction | None:
    name = getattr(args, "watermark", None)
    if not name:
        return None
    from gate.actions.watermark import Watermark  # noqa: PLC0415

    context, arn = _context(args, inputs, "--watermark")
    return Watermark(context, arn, name)


def _build_workflow_step(args: argparse.Namespace, inputs: Inputs, now: datetime) -> VerdictAction | None:
    step = getattr(args, "workflow_step", None)
    if not step:
        return None
    from gate.actions.workflow_step import WorkflowStep  # noqa: PLC0415

    context, arn = _context(args, inputs, "--workflow-step")
    return WorkflowStep(context, arn, step)


def _add_attest(group: Any) -> None:
    group.add_argument("--attest", type=Path, metavar="FILE",
                       help="write a signed in-toto attestation of the decision (SLSA VSA v1) and its evidence "
                       "(vulns v0.2): DSSE envelopes, one per line; `gate verify` checks it (needs --sign-key)")
    group.add_argument("--sign-key", metavar="KEY", help="sign --attest with kms:KEY_ID_OR_ARN_OR_ALIAS (an "
                       "ECC_NIST_P256 KMS key) or file:PATH (a PEM private key, ECDSA P-256 or Ed25519)")


def _others(args: argparse.Namespace, inputs: Inputs) -> list[str]:
    """Every file a check reads or writes besides the attestation: each one --attest must not replace."""
    from gate.cli.config import CONFIG_FILE  # noqa: PLC0415
    from gate.cli.output import input_paths  # noqa: PLC0415
    from gate.policy.loader import is_path  # noqa: PLC0415

    found = input_paths(argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "attest"}))
    found += [str(p) for p in (*inputs.findings, inputs.snapshot, *inputs.finding_details, inputs.kev_catalog,
                               inputs.epss_scores) if p is not None]
    found += [str(spec.path) for spec in getattr(args, "report", ()) or ()]
    policy = getattr(args, "policy", None)
    if policy and is_path(policy):  # NOTE: a bare name is a shipped policy, not a file here
        found.append(policy)
    found += [text for text in (getattr(args, "output", None), getattr(args, "event", None)) if text and text != "-"]
    found.append(getattr(args, "config", None) or os.environ.get("GATE_CONFIG") or CONFIG_FILE)  # NOTE: gate.yaml
    for option in ("sign_key", "baseline_key"):
        scheme, _, value = (getattr(args, option, None) or "").partition(":")
        if scheme == "file" and value:
            found.append(value)
    return found  # NOTE: not --baseline: it is read before the verdict, so `--baseline d --attest d` is the ratchet


def _build_attest(args: argparse.Namespace, inputs: Inputs, now: datetime) -> VerdictAction | None:
    path, key = getattr(args, "attest", None), getattr(args, "sign_key", None)
    if path is None and key is None:
        return None
    if path is None or not key:
        raise UsageError("--attest and --sign-key go together", hint="give both, or neither")
    from gate.actions.attest import AttestAction  # noqa: PLC0415 - only a run that signs loads it
    from gate.attestation.keys import parse_key  # noqa: PLC0415
    from gate.attestation.verify import FUTURE_SLACK  # noqa: PLC0415
    from gate.timeutil import utcnow  # noqa: PLC0415

    ref = parse_key(key, "--sign-key")
    mine = os.path.realpath(path)
    if any(os.path.realpath(other) == mine for other in _others(args, inputs)):
        raise UsageError(f"--attest {path} is also an input, a report or a key", hint="give it a path of its own")
    # NOTE: timeVerified is the evaluation time; one ahead of the clock would pass `verify --max-age` for as long.
    if now > utcnow() + FUTURE_SLACK:
        raise UsageError(f"--attest: --as-of {now.isoformat()} is in the future, and a signed decision is dated "
                         "by it", hint="sign a decision as of now or an earlier time")
    arn = inputs.image_build_version_arn or inputs.image_pipeline_arn or ""
    region = inputs.region or (arn.split(":")[3] if arn.count(":") >= 5 else None)
    return AttestAction(path, ref, region=region or None, profile=inputs.profile,
                        keep=os.path.realpath(inputs.baseline) == mine if inputs.baseline else False)


RELEASING = frozenset({"watermark", "workflow-step"})
"""The actions that release or mark an image now, and so never act on a decision `--as-of` another day."""

ACTIONS: tuple[ActionOption, ...] = (
    ActionOption("attest", _add_attest, _build_attest),
    ActionOption("watermark", _add_watermark, _build_watermark),
    ActionOption("workflow-step", _add_workflow_step, _build_workflow_step, resolve=_read_event),
)
"""Every action `gate check` can take, in the order they run."""


def add_action_arguments(parser: Any) -> None:
    if not ACTIONS:
        return
    group = parser.add_argument_group("after the verdict")
    for option in ACTIONS:
        option.add(group)


def resolve_action_options(args: argparse.Namespace) -> None:
    """What action options imply for the rest (`--event` names the build), before the inputs are read."""
    for option in ACTIONS:
        if option.resolve is not None:
            option.resolve(args)


def actions_from(args: argparse.Namespace, inputs: Inputs, *, now: datetime) -> list[VerdictAction]:
    """The actions the options ask for, in execution order; none may act on a decision `--as-of` another day."""
    built = [action for action in (option.build(args, inputs, now) for option in ACTIONS) if action is not None]
    # NOTE: a signed decision states its own time (`timeVerified`), so `--attest` may reproduce one as of a day;
    # releasing or marking an image happens today whatever --as-of says.
    if any(a.name in RELEASING for a in built) and getattr(args, "as_of", None):
        raise UsageError("--as-of judges as on another day, but --workflow-step and --watermark act today",
                         hint="drop --as-of (it reproduces a decision; it must not release or mark an image)")
    return built
