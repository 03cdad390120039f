"""Work spread over forked processes, for the few steps whose cost grows with a large input: the
grammar of every policy of an account export, the lint of every policy read.

``fork_call(function)`` starts ``function()`` in a forked child and returns at once; the parent
goes on with its own work and later takes the child's result (``Pending.result``), or computes
what it needs itself when the child could not give it. ``fork_stream(produce)`` is the same for a
child that sends its results a piece at a time, which the parent takes as they come (``Stream``).
Forking early, while the process is small, is what makes it pay: after a fork every page either
process writes is copied first (CPython writes to an object to count a reference to it), a cost
that grows with what the parent holds.

``fork_map(function, chunks)`` is ``[function(c) for c in chunks]``, the chunks after the first
computed by forked children, which see the parent's memory as it was and send their results back
through a pipe; the parent computes the first chunk meanwhile.

In every case a child that fails in any way (an exception, a result that cannot be sent, a crash)
only means the parent computes that part itself: the answer is always the one-process answer.
Children write nothing and end with ``os._exit``: no output buffer is flushed twice, no cleanup
runs twice.

``WORKERS`` is ``--jobs``: None means the CPUs this process may run on. (A leaf: it imports no
iamgate module, so that readers and rules may use it.)
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any, Callable, List, Optional, Sequence, TypeVar

__all__ = ["WORKERS", "Pending", "Stream", "chunks_by_weight", "fork_call", "fork_map", "fork_stream", "workers"]

T = TypeVar("T")
R = TypeVar("R")

WORKERS: Optional[int] = None


def workers() -> int:
    """How many processes a step may use: ``WORKERS``, else the CPUs this process may run on."""
    if WORKERS is not None:
        return max(1, WORKERS)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _can_fork() -> bool:
    # fork copies only the calling thread: with another thread running (one holding a lock the
    # child would need) the child could hang, so it is not done then; nor where fork is not the
    # platform's safe default (macOS's system libraries are not fork-safe)
    return hasattr(os, "fork") and sys.platform.startswith("linux") and threading.active_count() == 1


def chunks_by_weight(items: Sequence[T], weight: Callable[[T], int], count: int) -> List[List[T]]:
    """``items`` in ``count`` runs (or fewer) of about equal total weight, in order."""
    total = sum(weight(item) for item in items)
    out: List[List[T]] = [[]]
    share, done = total / max(1, count), 0
    for item in items:
        if done >= share * len(out) and len(out) < count and out[-1]:
            out.append([])
        out[-1].append(item)
        done += weight(item)
    return out


def fork_map(function: Callable[[T], R], chunks: Sequence[T]) -> List[R]:
    """``[function(c) for c in chunks]``, the chunks after the first computed in forked children
    when that is safe (see the module's docstring)."""
    if len(chunks) < 2 or not _can_fork():
        return [function(c) for c in chunks]
    children = [_fork(lambda chunk=chunk: function(chunk)) for chunk in chunks[1:]]
    try:
        results: List[Any] = [function(chunks[0])]
    except BaseException:
        for child in children:
            if child is not None:
                child.cancel()
        raise
    for chunk, child in zip(chunks[1:], children):
        result = child.result(_MISSING) if child is not None else _MISSING
        results.append(function(chunk) if result is _MISSING else result)
    return results


_MISSING = object()


class Pending:
    """The result a forked child is computing (``fork_call``)."""

    def __init__(self, pid: int, receiving: Any) -> None:
        self._pid = pid
        self._receiving = receiving

    def result(self, default: Any = None) -> Any:
        """What the child computed (waiting for it), or ``default`` when it failed in any way."""
        if self._receiving is None:
            return default
        result: Any = default
        try:
            result = self._receiving.recv()
        except Exception:  # noqa: BLE001 - the child failed before sending all of it
            result = default
        finally:
            self._close()
        return result

    def cancel(self) -> None:
        """The result is not needed: the child is ended."""
        if self._receiving is not None:
            try:
                os.kill(self._pid, 9)
            except OSError:
                pass
            self._close()

    def _close(self) -> None:
        self._receiving.close()
        self._receiving = None
        try:
            os.waitpid(self._pid, 0)
        except ChildProcessError:
            pass


def fork_call(function: Callable[[], R], sending_into: Optional[List[Any]] = None) -> Optional[Pending]:
    """``function()`` started in a forked child, or None when forking is not safe or not allowed
    (``workers()`` is 1) or fails: the caller then computes what it needs itself. (``sending_into``:
    where the child finds its end of the pipe, for ``fork_stream``.)"""
    if workers() < 2 or not _can_fork():
        return None
    return _fork(function, sending_into)


def _fork(function: Callable[[], R], sending_into: Optional[List[Any]] = None) -> Optional[Pending]:
    """``fork_call`` once forking is known to be safe: None when the fork fails."""
    from multiprocessing.connection import Pipe

    receiving, sending = Pipe(duplex=False)
    try:
        pid = os.fork()
    except OSError:
        receiving.close()
        sending.close()
        return None
    if pid == 0:  # the child: compute, send, end without any of the parent's cleanup
        code = 0
        try:
            receiving.close()
            if sending_into is not None:
                sending_into[:] = [sending]
            sending.send(function())
        except BaseException:  # noqa: BLE001 - whatever it is, the parent computes it itself
            code = 1
        finally:
            os._exit(code)
    sending.close()
    return Pending(pid, receiving)


class Stream:
    """What a forked child sends a piece at a time (``fork_stream``)."""

    def __init__(self, pending: Pending) -> None:
        self._pending = pending

    def next(self) -> Any:
        """The next piece the child sends (waiting for it), or None when it has ended or failed."""
        receiving = self._pending._receiving
        if receiving is None:
            return None
        try:
            return receiving.recv()
        except Exception:  # noqa: BLE001 - ended, or failed: nothing more comes
            self.cancel()
            return None

    def ready(self) -> List[Any]:
        """The pieces the child has sent and not yet taken, without waiting for more."""
        out: List[Any] = []
        receiving = self._pending._receiving
        try:
            while receiving is not None and receiving.poll():
                out.append(receiving.recv())
        except Exception:  # noqa: BLE001 - ended, or failed: nothing more comes
            self.cancel()
        return out

    def cancel(self) -> None:
        """Nothing more is needed: the child is ended."""
        self._pending.cancel()


def fork_stream(produce: Callable[[Callable[[Any], None]], None]) -> Optional[Stream]:
    """``produce(send)`` started in a forked child, each ``send(piece)`` reaching the parent's
    ``Stream``; None as for ``fork_call``."""
    def run() -> None:
        produce(_SENDING[0].send)

    pending = fork_call(run, _SENDING)
    return Stream(pending) if pending is not None else None


_SENDING: List[Any] = []  # in a child of fork_stream: its end of the pipe

