"""The what-if probe, on a fake clock: exact times, counts of repeats, nested probes,
exceptions, loop sites and the probe's cost measured in situ."""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable
from typing import Any

import pytest

from workbench.profiling.whatif_probe import (
    DOUBLE_EVERY,
    PROBATION,
    Log,
    ProbeCosts,
    ProbeState,
    make_probe,
)

ZERO = ProbeCosts(0.0, 0.0)


class Clock:
    """Every reading advances exactly one unit."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _probe(
    func: Callable[..., Any], clock: Clock, **kwargs: Any
) -> tuple[Callable[..., Any], Log, ProbeState]:
    state = ProbeState(ZERO)
    log = Log(func.__name__)
    kwargs.setdefault("double", False)
    return make_probe(func, log, state, clock=clock, **kwargs), log, state  # type: ignore[arg-type]


def test_each_call_is_timed_without_the_probes_own_readings() -> None:
    clock = Clock()

    def work(n: int) -> int:
        for _ in range(n):
            clock()  # the function's own time: n readings
        return n

    probe, log, state = _probe(work, clock)
    assert [probe(3), probe(3), probe(5)] == [3, 3, 5]
    # between the probe's two readings around the call: the call's n readings, plus one
    assert log.seconds == (3 + 1) + (3 + 1) + (5 + 1)
    assert (log.calls, log.hits, log.hit_s) == (3, 1, 4.0)
    assert log.compared == 1 and log.changed == 0
    # the probe's own readings: one before and one after its lookup, one after the call
    assert state.own_s == 3 * 2.0 and state.count == 3


def test_a_nested_probe_is_taken_out_of_the_outer_time() -> None:
    clock = Clock()
    state = ProbeState(ZERO)
    inner_log, outer_log = Log("inner"), Log("outer")

    def inner(n: int) -> int:
        clock()
        return n

    inner_probe = make_probe(inner, inner_log, state, clock=clock, double=False)  # type: ignore[arg-type]

    def outer(n: int) -> int:
        return inner_probe(n) + inner_probe(n + 1)

    outer_probe = make_probe(outer, outer_log, state, clock=clock, double=False)  # type: ignore[arg-type]
    assert outer_probe(1) == 3
    assert inner_log.seconds == 2 * (1 + 1)
    # the outer call saw each inner probe's 5 readings (4 its own, 1 the function's) and
    # its own second reading, less the inner probes' own time (2 each)
    assert outer_log.seconds == 2 * 5 + 1 - 2 * 2
    assert outer_log.inner_own == 4.0


def test_calls_inside_a_repeat_of_the_same_function_are_not_counted_twice() -> None:
    clock = Clock()
    holder: dict[str, Callable[[int], int]] = {}

    def fib(n: int) -> int:
        return n if n < 2 else holder["fib"](n - 1) + holder["fib"](n - 2)

    probe, log, _ = _probe(fib, clock)
    holder["fib"] = probe
    assert probe(6) == 8
    assert probe(6) == 8  # a repeat: everything inside it is shadowed
    assert log.hits >= 1 and log.shadowed > 0
    assert log.calls == log.hits + log.entries + log.shadowed


def test_repeats_that_return_different_results_are_counted() -> None:
    clock = Clock()
    counter = iter(range(100))

    def impure(n: int) -> int:
        return next(counter)

    probe, log, _ = _probe(impure, clock)
    for _ in range(4):
        probe(1)
    assert (log.hits, log.compared, log.changed) == (3, 3, 3)


def test_unhashable_arguments_and_mutable_results_are_noted() -> None:
    clock = Clock()
    probe, log, _ = _probe(lambda values: list(values), clock)
    probe([1, 2])
    probe((1, 2))
    assert log.unhashable == 1 and "list" in log.unhashable_type
    assert log.mutable_result == "list"


def test_the_probe_stops_looking_after_calls_without_a_single_repeat() -> None:
    clock = Clock()
    probe, log, _ = _probe(lambda n: n, clock)
    for n in range(PROBATION + 10):
        probe(n)
    assert log.stopped == PROBATION and not log.memo
    assert log.entries == PROBATION - 1 and log.calls == PROBATION + 10


def test_an_exception_counts_once_at_the_innermost_probe() -> None:
    clock = Clock()
    state = ProbeState(ZERO)
    inner_log, outer_log = Log("inner"), Log("outer")

    def inner(key: str) -> int:
        return {"a": 1}[key]

    inner_probe = make_probe(inner, inner_log, state, clock=clock, double=False)  # type: ignore[arg-type]
    outer_probe = make_probe(
        lambda key: inner_probe(key), outer_log, state, clock=clock, double=False
    )  # type: ignore[arg-type]
    for key in ("a", "b", "b"):
        with contextlib.suppress(KeyError):
            outer_probe(key)
    assert dict(inner_log.raised) == {"KeyError": 2} and not outer_log.raised
    assert inner_log.raised_depth >= 2 and inner_log.calls == 3


def test_loop_sites_count_calls_and_separate_runs_of_the_loop() -> None:
    clock = Clock()
    probe, log, _ = _probe(lambda row: len(row), clock, sites=True)

    def run(rows: list[tuple[int, ...]]) -> list[int]:
        return [probe(r) for r in rows]

    run([(1,), (1, 2), (1, 2, 3)])
    run([(1,), (4, 5)])
    ((path, _line, caller), site), *_ = log.site_calls().items()
    assert caller == "<listcomp>" and path == __file__
    assert (site.calls, site.runs) == (5, 2)
    assert {key: bucket[0] for key, bucket in log.by_size.items()} == {1: 2, 2: 2, 3: 1}


def test_every_eighth_call_goes_through_a_second_probe() -> None:
    clock = Clock()
    state = ProbeState(ProbeCosts(0.0, 0.0))
    log = Log("double")
    probe = make_probe(lambda n: n, log, state, clock=clock)  # type: ignore[arg-type]
    for n in range(10 * DOUBLE_EVERY):
        probe(n % 3)
    assert log.doubled == 10 and len(log.pairs) == 10
    # the second probe reads the clock four times: the pair differences say so
    assert set(log.pairs) == {4.0}


@pytest.mark.parametrize("kind", [types.FunctionType])
def test_a_probe_looks_like_the_function_it_replaces(kind: type) -> None:
    def documented(n: int) -> int:
        """Doc."""
        return n

    probe, _, _ = _probe(documented, Clock())
    assert probe.__wrapped__ is documented and probe.__doc__ == "Doc."  # type: ignore[attr-defined]
    assert probe.__qualname__ == documented.__qualname__ and isinstance(documented, kind)


def test_equal_sets_that_iterate_in_another_order_are_counted() -> None:
    clock = Clock()
    made = iter([frozenset({1, 9, 17}), _reordered()])

    def sets(n: int) -> frozenset[int]:
        return next(made)

    probe, log, _ = _probe(sets, clock)
    probe(1)
    probe(1)
    assert log.changed == 0 and log.reordered == 1


def _reordered() -> frozenset[int]:
    """An equal frozenset whose iteration order differs (colliding hashes, other insertion)."""
    first = list(frozenset({1, 9, 17}))
    for candidate in (frozenset([17, 9, 1]), frozenset([9, 17, 1]), frozenset([17, 1, 9])):
        if list(candidate) != first:
            return candidate
    raise AssertionError("no reordering found")
