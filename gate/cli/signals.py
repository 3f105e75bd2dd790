"""SIGINT and SIGTERM (how CI cancels a job) become an exception, so a cancelled run unwinds cleanly."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

CANCEL_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Cancelled(BaseException):
    """A signal asked gate to stop.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way up can
    swallow it and carry on as if nothing happened.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"cancelled by {self.name} before a verdict was reached")


@contextlib.contextmanager
def cancellable() -> Iterator[None]:
    """Turn the first SIGINT/SIGTERM into `Cancelled`; ignore repeats while gate cleans up.

    Only the main thread may install handlers (elsewhere this does nothing); the previous
    handlers are restored on the way out.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if fired:  # NOTE: the first signal is already unwinding; a second must not cut the cleanup short
            return
        fired.append(signum)
        raise Cancelled(signum)

    previous = {s: signal.signal(s, handler) for s in CANCEL_SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
