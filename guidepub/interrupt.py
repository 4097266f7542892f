"""Stopping cleanly on SIGINT, SIGTERM and SIGHUP.

While `handled()` is active (the command line), each of these signals raises
`Stopped`, a BaseException like KeyboardInterrupt, so every `finally:` runs:
worker processes are stopped, staged files removed and the lock released.
The first signal stops the program; later ones are ignored so that clean-up
is not cut short. A step that must not be cut in half (moving the outputs
into place) runs inside `held()`: a signal that arrives meanwhile takes
effect when it ends."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """The program was asked to stop by a signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_state: dict = {"received": None, "pending": None, "held": 0, "written": False}


def _on_signal(signum: int, _frame) -> None:
    if _state["received"] is not None:      # already stopping: let the clean-up finish
        return
    _state["received"] = signum
    if _state["held"]:
        _state["pending"] = signum
        return
    raise Stopped(signum)


def received() -> int | None:
    """The signal that stopped the program, if one did."""
    return _state["received"]


def outputs_written() -> bool:
    """Whether this run moved new outputs into place (a signal came too late to prevent it)."""
    return _state["written"]


def note_written() -> None:
    _state["written"] = True


@contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into `Stopped` for the duration
    (in the main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.update(received=None, pending=None, held=0, written=False)
    previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


@contextmanager
def held() -> Iterator[None]:
    """Run a block that must finish once started; a signal that arrives
    meanwhile raises `Stopped` when the block ends."""
    _state["held"] += 1
    try:
        yield
    finally:
        _state["held"] -= 1
    if not _state["held"] and _state["pending"] is not None:
        signum, _state["pending"] = _state["pending"], None
        raise Stopped(signum)


@contextmanager
def starting_children() -> Iterator[None]:
    """Start processes inside this block with SIGINT and SIGHUP ignored from
    their first instruction (a Ctrl+C or a hang-up reaches the whole process
    group; the parent alone handles it), without losing one that arrives
    meanwhile: it is blocked, and delivered to the parent's handler after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    quiet = {signal.SIGINT, signal.SIGHUP}
    # Threads started in the block (the pool's manager) keep the mask: the
    # main thread, which handles signals, then receives every one of them.
    signal.pthread_sigmask(signal.SIG_BLOCK, quiet)
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in quiet}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, quiet)
