"""`--revoke-watermark NAME`: detach the gate's watermark from the AMIs of failing builds.

The watermark action itself is the in-build work (gate/actions/watermark.py); until it is merged a sweep
refuses the option before any AWS call rather than pretend to act.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate.actions.interface import VerdictAction
from gate.errors import UsageError
from gate.fleet import Ami


def check_name(name: str) -> None:
    """Refuse before any AWS call (exit 2)."""
    raise UsageError("--revoke-watermark is not available in this build of gate (the watermark action is not merged)")


def revoke_action(name: str, amis: Callable[[], tuple[Ami, ...]], owner: str, clients_for: Callable[[str], Any], *,
                  apply: bool) -> VerdictAction:
    raise UsageError("--revoke-watermark is not available in this build of gate (the watermark action is not merged)")
