"""Corrected inclusive times against planted truths.

The workloads spend time only by moving a fake clock (no calls), and cProfile reads that
clock; each read moves it on by `READ`, so every call costs the profiler exactly two reads:
one after the callee's start (in the callee's self time), one after its end (in the
caller's). The same run with reads that cost nothing gives the exact plain times, so each
function's corrected cumulative time can be held against its truth."""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from typing import Any

import pytest

from workbench.profiling.capture import FuncKey, FuncStats
from workbench.profiling.correction import (
    corrected_stats,
    function_costs,
    overflow_to_callers,
    subtree_costs,
    under_each,
)
from workbench.profiling.cost_model import CostModel, calls_made

READ = 5.0


class FakeClock:
    def __init__(self, read_cost: float) -> None:
        self.now = 0.0
        self.read_cost = read_cost

    def __call__(self) -> float:
        now = self.now
        self.now += self.read_cost
        return now


CLOCK = FakeClock(0.0)


def work(units: float) -> None:  # never called by the workloads: they move CLOCK inline
    raise AssertionError


def leaf(x: int) -> int:
    CLOCK.now += 3.0
    return x


def step(x: int) -> int:
    CLOCK.now += 2.0
    if x > 0:
        return mapply(step, (x - 1, x - 1))
    return leaf(x)


def apply(f: Callable[[int], int], xs: tuple[int, ...]) -> tuple[int, ...]:
    CLOCK.now += 1.0
    return tuple([f(x) for x in xs])


def mapply(f: Callable[[int], int], xs: tuple[int, ...]) -> int:
    CLOCK.now += 4.0
    out = apply(f, xs)
    CLOCK.now += 1.0
    return len(out)


def recursive() -> None:
    for depth in (1, 3, 5):
        mapply(step, (depth,))
        heavy()


def heavy() -> None:
    CLOCK.now += 40.0
    helper()


def light() -> None:
    CLOCK.now += 1.0
    for _ in range(4):
        helper()


def helper() -> None:
    CLOCK.now += 2.0
    leaf(0)


def tree() -> None:
    for _ in range(3):
        heavy()
        light()


def profiled(run: Callable[[], object], read_cost: float) -> dict[FuncKey, FuncStats]:
    CLOCK.now, CLOCK.read_cost = 0.0, read_cost
    profile = cProfile.Profile(CLOCK, builtins=False)
    profile.enable()
    run()
    profile.disable()
    stats: dict[FuncKey, FuncStats] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return {key: value for key, value in stats.items() if key[2] != "disable"}


def planted_costs(stats: dict[FuncKey, FuncStats]) -> dict[FuncKey, float]:
    """What the reads cost each function: one read per call it had, one per call it made."""
    made = calls_made(stats)
    return {key: READ * (value[1] + made.get(key, 0)) for key, value in stats.items()}


def by_name(stats: dict[FuncKey, Any]) -> dict[str, Any]:
    return {key[2]: value for key, value in stats.items()}


@pytest.mark.parametrize("run", [tree, recursive])
def test_planted_costs_are_what_the_reads_added(run: Callable[[], None]) -> None:
    plain, traced = by_name(profiled(run, 0.0)), profiled(run, READ)
    costs = by_name(planted_costs(traced))
    for name, value in by_name(traced).items():
        assert value[2] == pytest.approx(plain[name][2] + costs[name])


@pytest.mark.parametrize("run", [tree, recursive])
def test_corrected_times_are_the_plain_times(run: Callable[[], None]) -> None:
    plain, traced = by_name(profiled(run, 0.0)), profiled(run, READ)
    fixed = by_name(corrected_stats(traced, planted_costs(traced)))
    total = sum(value[2] for value in plain.values())
    assert sum(value[2] for value in fixed.values()) == pytest.approx(total)
    assert fixed[run.__name__][3] == pytest.approx(total)  # the root holds everything
    for name, value in plain.items():
        assert fixed[name][2] == pytest.approx(value[2]), name
        if run is tree or name in ("leaf", "heavy", "helper", "recursive"):
            assert fixed[name][3] == pytest.approx(value[3]), name


def test_recursive_shares_hold_within_a_point() -> None:
    """mapply -> apply -> step -> mapply: cProfile's cumtime counts the outermost frame
    only, and so must what comes out of it; the walk up the callers is an estimate in a
    cycle (the caller edges do not say which frames nest), so these hold to a point."""
    plain, traced = by_name(profiled(recursive, 0.0)), profiled(recursive, READ)
    fixed = by_name(corrected_stats(traced, planted_costs(traced)))
    total = sum(value[2] for value in plain.values())
    for name in ("mapply", "apply", "step"):
        assert fixed[name][3] / total == pytest.approx(plain[name][3] / total, abs=0.01), name
    assert by_name(traced)["mapply"][1] > by_name(traced)["mapply"][0]  # it did recurse


def test_a_callee_below_every_caller_is_all_on_their_stacks() -> None:
    traced = profiled(tree, READ)
    named = by_name(traced)
    leaf_only = {key: 1.0 if key[2] == "leaf" else 0.0 for key in traced}
    helper_only = {key: 1.0 if key[2] == "helper" else 0.0 for key in traced}
    heavy_only = {key: 1.0 if key[2] == "heavy" else 0.0 for key in traced}
    assert by_name(under_each(traced, leaf_only))["tree"] == pytest.approx(1.0)
    assert by_name(under_each(traced, helper_only))["light"] == pytest.approx(12 / 15)
    assert by_name(under_each(traced, leaf_only))["heavy"] == pytest.approx(3 / 15)
    assert by_name(under_each(traced, heavy_only))["light"] == 0.0
    spent = by_name(under_each(traced, {key: value[2] for key, value in traced.items()}))
    for name, value in named.items():  # no recursion: self times add up to the cumtimes
        assert spent[name] == pytest.approx(value[3]), name


def test_recursion_is_counted_once() -> None:
    traced = profiled(recursive, READ)
    spent = by_name(under_each(traced, {key: value[2] for key, value in traced.items()}))
    for name, value in by_name(traced).items():
        assert spent[name] == pytest.approx(value[3], rel=0.01), name


def test_costs_past_a_self_time_move_to_the_callers() -> None:
    traced = profiled(tree, READ)
    named = by_name(traced)
    costs = {key: 0.0 for key in traced}
    leaf_key = next(key for key in traced if key[2] == "leaf")
    costs[leaf_key] = named["leaf"][2] + 30.0
    moved = by_name(overflow_to_callers(traced, costs))
    assert moved["leaf"] == pytest.approx(named["leaf"][2])
    assert moved["helper"] == pytest.approx(30.0)
    assert sum(moved.values()) == pytest.approx(sum(costs.values()))


def test_function_costs_add_up_to_what_was_added() -> None:
    plain, traced = profiled(tree, 0.0), profiled(tree, READ)
    added = sum(v[2] for v in traced.values()) - sum(v[2] for v in plain.values())
    costs = function_costs(traced, CostModel.flat(1e-7), {}, added_s=added)
    assert sum(costs.values()) == pytest.approx(added)
    inside = by_name(subtree_costs(traced, costs))
    fixed = corrected_stats(traced, costs)
    taken = sum(v[2] for v in traced.values()) - sum(v[2] for v in fixed.values())
    assert inside["tree"] == pytest.approx(taken)  # the root holds all that comes out
    named = by_name(traced)
    over = [name for name, cost in by_name(costs).items() if cost > named[name][2] + 1e-9]
    assert over == ["tree"]  # only the root, with no caller to hand its excess to, holds more
