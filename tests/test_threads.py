"""Fits side by side in threads: order, errors, thread limits."""

import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from clusterspy._threads import available_cores, check_n_jobs, locked, thread_map


def _limits():
    return {d["user_api"]: d["num_threads"] for d in threadpool_info()}


def test_check_n_jobs():
    assert check_n_jobs(None) == available_cores()
    assert check_n_jobs(-1) == available_cores()
    assert check_n_jobs(3) == 3
    with pytest.raises(
        ValueError, match=r"`n_jobs` must be a positive int, -1 or None, not 0\."
    ):
        check_n_jobs(0)
    with pytest.raises(
        TypeError, match=r"`n_jobs` must be a positive int, -1 or None, not 1\.5\."
    ):
        check_n_jobs(1.5)
    with pytest.raises(TypeError, match=r"not True"):
        check_n_jobs(True)


def test_thread_map_keeps_order_and_uses_n_threads():
    seen = set()

    def work(i):
        seen.add(threading.get_ident())
        time.sleep(0.01 * (5 - i))  # later items finish first
        return i * i

    assert thread_map(work, range(5), 2) == [0, 1, 4, 9, 16]
    assert 1 <= len(seen) <= 2 and threading.get_ident() not in seen
    seen.clear()
    assert thread_map(work, range(3), 1) == [0, 1, 4]
    assert seen == {threading.get_ident()}  # n_jobs=1: in this thread


def test_workers_use_one_blas_and_openmp_thread_and_limits_are_restored():
    before = _limits()
    inside = thread_map(lambda _: _limits(), range(2), 2)
    for limits in inside:
        assert all(n == 1 for n in limits.values()), limits
    assert _limits() == before


def test_first_error_is_raised_and_pending_calls_cancelled():
    started = []

    def work(i):
        started.append(i)
        if i == 0:
            raise RuntimeError("boom 0")
        time.sleep(0.05)
        return i

    # Many items: all of them start only if the main thread, woken by call
    # 0's error, is kept off the CPU while 99 calls of 0.05 s each run (5 s);
    # with 20 items a 0.45 s stall on a loaded machine was enough. The calls
    # that do start are the same few, so the test takes no longer.
    with pytest.raises(RuntimeError, match="boom 0"):
        thread_map(work, range(200), 2)
    assert len(started) < 200  # the rest were cancelled, not run


def test_locked_callback_counts_every_call():
    count = [0]

    def bump(_):
        value = count[0]
        time.sleep(0)  # invite a thread switch inside the read-modify-write
        count[0] = value + 1

    safe = locked(bump)
    thread_map(lambda i: [safe(i) for _ in range(200)], range(4), 4)
    assert count[0] == 800
    assert locked(None) is None
    np.testing.assert_array_equal(
        thread_map(np.square, [np.arange(3)], 2)[0], [0, 1, 4]
    )


def test_an_interrupt_tripped_while_the_main_thread_waits_is_raised_at_once():
    # `_thread.interrupt_main` trips the interrupt flag without a real signal,
    # exactly like a SIGINT that arrives just before the main thread starts a
    # blocking wait: nothing wakes the wait. Waiting in short slices is what
    # makes the interrupt raise before the blocked call ends.
    import _thread

    release = threading.Event()
    finished = threading.Event()

    def work(i):
        if i == 0:
            release.wait(60)
            finished.set()
        else:
            time.sleep(0.2)  # the main thread is waiting by now
            _thread.interrupt_main()
        return i

    try:
        with pytest.raises(KeyboardInterrupt):
            thread_map(work, [0, 1], 2)
        # raised while call 0 still blocks: an unbounded wait would have
        # returned only once call 0 had given up waiting and finished
        assert not finished.is_set()
    finally:
        release.set()


def test_a_timeout_error_raised_by_a_call_is_raised_as_it_is():
    def work(i):
        if i == 1:
            raise TimeoutError("the call's own")
        return i

    with pytest.raises(TimeoutError, match="the call's own"):
        thread_map(work, [0, 1, 2], 2)
