"""Worker processes that build outputs in parallel and never outlive the build.

They are started fresh (`spawn`), not forked, so they hold none of the
parent's open files (above all, not the lock on the output folder). Each dies
with its parent (PR_SET_PDEATHSIG, on Linux) even if the parent is killed
outright, and leaves Ctrl+C and hang-ups to the parent, which stops them at
once when a job fails or a signal stops the build, and as soon as every
result is in (an orderly exit would only tear down a heap). Their temporary
files (WeasyPrint's copies of the fonts) go into a folder of the build's,
which the parent removes once they have ended, however they ended."""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from typing import Any, Callable

from . import interrupt

PR_SET_PDEATHSIG = 1
SYSTEM_TEMP = "GUIDEPUB_SYSTEM_TEMP"    # a worker's real temporary folder (its own is the build's scratch)
# A build makes millions of short-lived objects while it holds the guide's
# (tokens, boxes, PDF objects): with Python's default thresholds (700, 10,
# 10) the collector walks the live ones again and again, a fifth of a
# one-chapter rebuild of a long guide. Collections a seventieth as often
# bound the garbage no less (bench: the ten-times guide's peak is unchanged).
GC_THRESHOLD = (50_000, 20, 20)


@contextmanager
def spaced_collections():
    """Collect garbage less often (GC_THRESHOLD) while the block runs."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _start(parent: int, scratch: str) -> None:
    """First thing in each worker: ignore Ctrl+C (the parent handles it),
    die by default on SIGTERM and SIGHUP, die when the parent does, and keep
    temporary files in `scratch` (what is kept between builds, such as page
    plans, in the system's temporary folder: SYSTEM_TEMP)."""
    os.environ[SYSTEM_TEMP] = tempfile.gettempdir()
    tempfile.tempdir = scratch
    gc.set_threshold(*GC_THRESHOLD)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, interrupt.SIGNALS)
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:          # the parent died before that took effect
        os._exit(1)


class Workers:
    """Worker processes started before their jobs are known, so that their
    start (Python, the modules they import) overlaps the parent's work.
    Each first runs `warm` (a module-level function: its module is
    imported). For one run(); close() ends them whether or not they ran."""

    def __init__(self, count: int, warm: Callable[[], None] | None = None):
        self.count, self.pool = count, None
        self.scratch = tempfile.mkdtemp(prefix="guidepub-workers-")
        try:
            with interrupt.held(), interrupt.starting_children():
                self.pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_start, initargs=(os.getpid(), self.scratch))
                for _ in range(count if warm is not None else 0):
                    self.pool.submit(warm)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.pool is not None:
            stop(self.pool)
            self.pool = None
        shutil.rmtree(self.scratch, ignore_errors=True)


def run(function: Callable[..., Any], calls: list[tuple], workers: int,
        done: Callable[[Any], None], meanwhile: Callable[[], None] | None = None,
        started: Workers | None = None) -> None:
    """Call function(*args) for every args in `calls`, in `workers` processes
    (those `started` ahead, if given), and pass each result to `done` as it
    arrives; `meanwhile()`, if given, runs in this process while they start
    and work. If anything goes wrong (a job or `meanwhile` raises, or a
    signal stops the build) the workers are stopped at once, not after the
    jobs they are running, and the exception goes on. They are ended when
    their results are in."""
    team = None
    try:
        team = started or Workers(workers)
        with interrupt.held(), interrupt.starting_children():
            pending = {team.pool.submit(function, *args) for args in calls}
        if meanwhile is not None:
            meanwhile()
        while pending:
            # A timed wait, so that a signal is handled within a fraction of a second.
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                done(future.result())
    except BaseException as exc:
        if isinstance(exc, BrokenProcessPool) and interrupt.received():
            # The same signal reached the workers (sent to the process group) first.
            raise interrupt.Stopped(interrupt.received()) from None
        raise
    finally:
        # Also when every result is in: end the idle workers now. An orderly
        # exit would tear down each interpreter, a book's layout in its heap,
        # and the build would wait for it (1.1 s for two workers of the real guide).
        if team is not None:
            team.close()


def stop(pool: ProcessPoolExecutor, grace: float = 3.0) -> None:
    """End the pool's processes now (SIGTERM, then SIGKILL after `grace`
    seconds) and wait for them; pool.shutdown() alone lets running jobs finish."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        with suppress(Exception):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                process.kill()
                process.join(grace)
    pool.shutdown(wait=True, cancel_futures=True)
