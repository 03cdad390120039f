"""Tests for iamgate.parallel: work over forked processes gives what one process gives, whatever
fails on the way."""
from __future__ import annotations

import os
import threading
from typing import List

import pytest

from iamgate import parallel
from iamgate.parallel import chunks_by_weight, fork_map

PARENT = os.getpid()


def test_the_answer_is_the_one_process_answer_and_children_computed_part_of_it() -> None:
    chunks = [list(range(k, k + 5)) for k in range(0, 40, 5)]
    got = fork_map(lambda c: (sum(x * x for x in c), os.getpid()), chunks)
    assert [total for total, _ in got] == [sum(x * x for x in c) for c in chunks]
    pids = [pid for _, pid in got]
    assert pids[0] == PARENT and all(pid != PARENT for pid in pids[1:]) and len(set(pids[1:])) == len(chunks) - 1


def _fails_in_children(chunk: List[int]) -> int:
    if os.getpid() != PARENT:
        raise RuntimeError("a child fails")
    return sum(chunk)


def _dies_in_children(chunk: List[int]) -> int:
    if os.getpid() != PARENT:
        os._exit(3)
    return sum(chunk)


def _unsendable_in_children(chunk: List[int]) -> object:
    if os.getpid() != PARENT:
        return lambda: None  # cannot be pickled
    return sum(chunk)


@pytest.mark.parametrize("function", [_fails_in_children, _dies_in_children, _unsendable_in_children])
def test_a_chunk_a_child_could_not_send_is_computed_by_the_parent(function) -> None:
    chunks = [[1, 2], [3, 4], [5, 6, 7]]
    assert fork_map(function, chunks) == [3, 7, 18]


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert fork_map(lambda c: os.getpid(), [[1], [2], [3]]) == [PARENT] * 3
    finally:
        stop.set()
        thread.join()


def test_no_fork_for_one_chunk() -> None:
    assert fork_map(lambda c: os.getpid(), [[1, 2, 3]]) == [PARENT]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 20])
def test_runs_keep_the_order_and_share_the_weight(count: int) -> None:
    items = [(i, 1 + (i * 7) % 13) for i in range(40)]
    runs = chunks_by_weight(items, lambda item: item[1], count)
    assert [item for run in runs for item in run] == items
    assert 1 <= len(runs) <= count and all(runs)
    total = sum(w for _, w in items)
    assert all(sum(w for _, w in run) <= total / count + 13 for run in runs)
    assert chunks_by_weight([], lambda item: 1, count) == [[]]


def test_workers_is_jobs_when_given(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "WORKERS", 3)
    assert parallel.workers() == 3
    monkeypatch.setattr(parallel, "WORKERS", None)
    assert parallel.workers() >= 1


def test_a_call_forked_early_gives_its_result_or_the_default(monkeypatch) -> None:
    from iamgate.parallel import fork_call

    monkeypatch.setattr(parallel, "WORKERS", 2)
    pending = fork_call(lambda: (os.getpid(), [1, 2, 3]))
    assert pending is not None
    pid, value = pending.result()
    assert pid != PARENT and value == [1, 2, 3]
    assert fork_call(lambda: 1 / 0).result("default") == "default"
    assert fork_call(lambda: os._exit(3)).result("default") == "default"
    assert fork_call(lambda: (lambda: None)).result("default") == "default"  # cannot be sent
    waiting = fork_call(lambda: threading.Event().wait(60))
    waiting.cancel()  # ended at once, not waited for
    monkeypatch.setattr(parallel, "WORKERS", 1)
    assert fork_call(lambda: 1) is None


def test_a_stream_gives_the_pieces_in_order_then_none(monkeypatch) -> None:
    from iamgate.parallel import fork_stream

    monkeypatch.setattr(parallel, "WORKERS", 2)

    def produce(send) -> None:
        for k in range(5):
            send((k, os.getpid()))

    stream = fork_stream(produce)
    first = stream.next()
    assert first[0] == 0 and first[1] != PARENT
    pieces = []
    while len(pieces) < 4:
        pieces += [p for p in stream.ready() if p is not None]
    assert [k for k, _ in pieces] == [1, 2, 3, 4]
    stream.cancel()
    assert stream.next() is None and stream.ready() == []
    broken = fork_stream(lambda send: os._exit(1))
    assert broken.next() is None
