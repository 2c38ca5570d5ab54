"""The stack sampler samples every thread the code starts (real threads), merged into the
same categories; a thread blocked in the standard library is `waiting`; threads that ran
before the code are left alone."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from coverage_work import griddsl

import workbench
from workbench.profiling.capture import FuncKey, FuncStats
from workbench.profiling.sampled_threads import ACQUIRE, SIMPLE_GET, BlockingSites, CodeThreads
from workbench.profiling.stack_sampler import run_stack_sampled

DSL = ["DSL=*/coverage_work/griddsl.py"]


class CountingClock:
    """A fake clock, safe across threads: every reading is one millisecond later."""

    def __init__(self) -> None:
        self._readings = itertools.count(1)

    def __call__(self) -> float:
        return next(self._readings) * 0.001


def _self_in(stats: dict[FuncKey, FuncStats], path_end: str) -> float:
    return sum(v[2] for k, v in stats.items() if k[0].endswith(path_end))


def test_a_dsl_in_a_thread_pool_shows_as_the_dsl_and_the_wait_as_waiting() -> None:
    def cell() -> list[int]:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(griddsl.solve, [1500] * 4))

    report = workbench.profile(cell, mode="sample", category=DSL, use_pyproject=False)
    assert report.result == [griddsl.solve(1500)] * 4
    cats = report.categories.set_index("category")
    assert report.wins.iloc[0]["category"] == "DSL", report.categories
    # the biggest category by far (52-92% seen here, the GIL's hand-overs moving with load)
    assert cats.loc["DSL", "corrected_pct"] > 40, report.categories
    # the main thread stands in Future.result -> Condition.wait: waiting, never a win
    assert cats.loc["waiting", "self_s"] > 0
    assert "waiting" not in set(report.wins["category"])
    functions = report.functions.set_index("name")
    assert functions.loc[ACQUIRE[2], "category"] == "waiting"
    threads = report.threads
    assert threads is not None and len(threads) == 3, threads  # the cell's and two workers
    assert threads.iloc[0]["thread"] == threading.current_thread().name
    assert threads.iloc[0]["waiting_s"] > 0.5 * threads.iloc[0]["profiled_s"]
    workers = threads.iloc[1:]
    assert (workers["largest_category"] == "DSL").all() and not workers["alive"].any()
    # the rows add up to the profile (the threads' stacks are merged into it)
    total = report.functions["tottime"].sum()
    assert threads["profiled_s"].sum() == pytest.approx(total)
    assert any("sampled with it" in r for r in report.remarks)


def test_a_blocked_thread_is_charged_to_the_c_function_it_waits_in() -> None:
    go = threading.Event()
    holder: list[threading.Thread] = []

    def blocked() -> None:
        go.wait()

    def step() -> int:
        thread = threading.Thread(target=blocked, name="blocked")
        holder.append(thread)
        thread.start()
        result = griddsl.solve(1500)
        # keep the thread blocked long enough for a sampler starved by a loaded machine
        until = time.monotonic() + 0.3
        while time.monotonic() < until:
            griddsl.solve(200)
        go.set()
        thread.join()
        return result

    profile, error = run_stack_sampled([step], interval=0.0005, clock=CountingClock())
    assert error is None and profile.result == griddsl.solve(1500)
    stacks = [(stack, s) for stack, s in profile.stacks if stack[0][2] == "_bootstrap"]
    assert stacks, "the thread the step started was not sampled"
    in_thread = sum(s for _, s in stacks)
    waiting = sum(s for stack, s in stacks if stack[-1] == ACQUIRE)
    # from its first sample to go.set() the thread stands in Condition.wait
    assert waiting > 0.9 * in_thread, stacks
    assert all(stack[-2][2] == "wait" for stack, s in stacks if stack[-1] == ACQUIRE)
    # the main thread's DSL work is still there beside it
    assert _self_in(profile.stats, "coverage_work/griddsl.py") > 0


def test_threads_that_ran_before_the_code_are_not_sampled() -> None:
    stop = threading.Event()

    def earlier_loop() -> None:
        while not stop.is_set():
            sum(range(200))

    earlier = threading.Thread(target=earlier_loop, name="earlier", daemon=True)
    earlier.start()
    try:
        profile, error = run_stack_sampled(
            [lambda: griddsl.solve(800)], interval=0.0005, clock=CountingClock()
        )
    finally:
        stop.set()
        earlier.join()
    assert error is None
    assert not any(key[2] == "earlier_loop" for key in profile.stats)
    assert _self_in(profile.stats, "coverage_work/griddsl.py") > 0


def test_code_threads_are_the_ones_started_after_and_not_skipped() -> None:
    release = threading.Event()
    before = threading.Thread(target=release.wait, name="before", daemon=True)
    before.start()
    watch = CodeThreads(skip={threading.get_ident()})
    after = threading.Thread(target=release.wait, name="after", daemon=True)
    after.start()
    try:
        found = watch.frames(sys._current_frames())
    finally:
        release.set()
        before.join()
        after.join()
    assert set(found) == {after.ident}
    assert watch.names[after.ident] == "after"


def test_blocking_sites_are_the_standard_library_places_only() -> None:
    sites = BlockingSites()
    assert sites.leaf(threading.Condition.wait.__code__) == ACQUIRE
    import concurrent.futures.thread as pool_thread

    assert sites.leaf(pool_thread._worker.__code__) == SIMPLE_GET

    # a function of the code named like one is not a blocking place
    def wait() -> None:
        pass

    assert sites.leaf(wait.__code__) is None
    assert sites.leaf(griddsl.solve.__code__) is None
