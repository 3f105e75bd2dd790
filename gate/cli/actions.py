"""The options that ask for actions after the verdict, and the actions they build, in the order they run.

A new action is one `ActionOption` here and one module in `gate/actions/`. The order of `ACTIONS` is the
order of execution: the signature first (it records the decision), then marks, then the workflow step
last, so a build is resumed only once everything before it held.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

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


ACTIONS: tuple[ActionOption, ...] = ()
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
