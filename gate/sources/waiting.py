"""Waiting for a scan to finish, as every live source does: one deadline, progress meanwhile, one refusal after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gate.errors import ScanNotReadyError


@dataclass(frozen=True)
class Patience:
    """How long a source waits for its scan (`--wait-timeout`) and how often it looks again."""

    timeout: float
    interval: float
    progress: Callable[[str], None]
    sleep: Callable[[float], None]
    clock: Callable[[], float]

    def deadline(self) -> float:
        return self.clock() + self.timeout

    def pause(self, deadline: float, *, state: str, refusal: str, ready: str) -> None:
        """Sleep until the next look, saying `state`; past the deadline, refuse with `refusal` instead.

        `ready` names the status the scan must reach, for the hint.
        """
        remaining = deadline - self.clock()
        if remaining <= 0:
            waited = f" after waiting {self.timeout:g}s" if self.timeout else ""
            hint = (f"raise --wait-timeout, or run gate again once the scan is {ready}" if waited
                    else "let gate wait for the scan: pass --wait-timeout 15m")
            raise ScanNotReadyError(f"{refusal}{waited}", hint=hint)
        pause = min(self.interval, remaining)
        self.progress(f"{state}; checking again in {pause:g}s")
        self.sleep(pause)


def patience(wait_timeout: float, poll_interval: float, progress: Callable[[str], None] | None,
             sleep: Callable[[float], None], clock: Callable[[], float]) -> Patience:
    """A source's waiting from its constructor's arguments: negative times are none."""
    return Patience(max(0.0, wait_timeout), max(0.0, poll_interval), progress or (lambda _message: None),
                    sleep, clock)
