"""Making cProfile statistics comparable with the stack sampler's: bias and C functions."""

from __future__ import annotations

import copy
import cProfile
from pathlib import Path

import pytest
import sampled_workloads as wl
from conftest import Tick

from workbench.errors import ProfileError
from workbench.profiling.capture import FuncKey, FuncStats, run_profiled
from workbench.profiling.debias import CallCost, fold_native, measure_call_split, remove_call_cost
from workbench.profiling.stack_sampler import run_stack_sampled

WL = Path(wl.__file__).name
P1: FuncKey = ("m.py", 1, "p1")
P2: FuncKey = ("m.py", 9, "p2")
CB: FuncKey = ("m.py", 20, "key_fn")
SORTED: FuncKey = ("~", 0, "<built-in method builtins.sorted>")
EXEC: FuncKey = ("~", 0, "<built-in method builtins.exec>")


def _stats() -> dict[FuncKey, FuncStats]:
    """exec (no caller) runs p1; p1 and p2 call sorted, whose key function is key_fn."""
    return {
        EXEC: (1, 1, 0.5, 10.0, {}),
        P1: (1, 1, 2.0, 6.0, {EXEC: (1, 1, 2.0, 6.0)}),
        P2: (2, 2, 1.0, 3.0, {P1: (2, 2, 1.0, 3.0)}),
        SORTED: (4, 4, 4.0, 5.0, {P1: (1, 1, 3.0, 3.5), P2: (3, 3, 1.0, 1.5)}),
        CB: (40, 40, 1.0, 1.0, {SORTED: (40, 40, 1.0, 1.0)}),
    }


def _total_self(stats: dict[FuncKey, FuncStats]) -> float:
    return float(sum(v[2] for v in stats.values()))


def test_c_self_time_goes_to_the_callers_by_their_edges_self_time() -> None:
    stats = _stats()
    before = copy.deepcopy(stats)
    folded = fold_native(stats)
    assert stats == before  # pure
    assert SORTED not in folded
    assert folded[P1][2] == pytest.approx(2.0 + 3.0)
    assert folded[P2][2] == pytest.approx(1.0 + 1.0)
    assert _total_self(folded) == pytest.approx(_total_self(stats))
    assert folded[P1][3] == 6.0 and folded[P2][3] == 3.0  # cumulative times unchanged


def test_calls_made_by_a_folded_c_function_become_calls_of_its_callers() -> None:
    folded = fold_native(_stats())
    edges = folded[CB][4]
    assert set(edges) == {P1, P2}
    assert edges[P1] == pytest.approx((30, 30, 0.75, 0.75))
    assert edges[P2] == pytest.approx((10, 10, 0.25, 0.25))


def test_a_c_function_with_no_caller_keeps_its_time() -> None:
    folded = fold_native(_stats())
    assert folded[EXEC][2] == 0.5


def test_folded_self_time_is_spread_over_the_receivers_caller_edges() -> None:
    folded = fold_native(_stats())
    assert folded[P2][4][P1][2] == pytest.approx(folded[P2][2])


def test_callers_weigh_by_calls_when_no_edge_has_self_time() -> None:
    stats = _stats()
    stats[SORTED] = (4, 4, 4.0, 4.0, {P1: (1, 1, 0.0, 0.0), P2: (3, 3, 0.0, 0.0)})
    folded = fold_native(stats)
    assert folded[P1][2] == pytest.approx(2.0 + 1.0)
    assert folded[P2][2] == pytest.approx(1.0 + 3.0)


def test_a_c_function_called_by_a_c_function_reaches_the_python_caller() -> None:
    inner: FuncKey = ("~", 0, "<method 'sort' of 'list' objects>")
    stats = _stats()
    stats[inner] = (1, 1, 2.0, 2.0, {SORTED: (1, 1, 2.0, 2.0)})
    folded = fold_native(stats)
    assert inner not in folded and SORTED not in folded
    assert folded[P1][2] == pytest.approx(2.0 + 0.75 * 6.0)
    assert _total_self(folded) == pytest.approx(_total_self(stats))


def test_call_cost_is_taken_from_the_callee_and_the_caller_and_floored_at_zero() -> None:
    stats = _stats()
    cost = CallCost(callee_s=0.01, caller_s=0.02, native_callee_s=0.1, native_caller_s=0.2)
    fixed = remove_call_cost(stats, cost)
    # p1 is called once and calls p2 twice and sorted once
    assert fixed[P1][2] == pytest.approx(2.0 - 0.01 - 2 * 0.02 - 1 * 0.2)
    assert fixed[SORTED][2] == pytest.approx(4.0 - 4 * 0.1 - 40 * 0.02)
    assert fixed[SORTED][4][P2][2] == pytest.approx(1.0 - 3 * 0.1)
    assert fixed[CB][2] == pytest.approx(1.0 - 40 * 0.01)  # makes no calls
    assert fixed[EXEC][2] == pytest.approx(0.5 - 0.1 - 0.02)  # called once, made one call
    assert fixed[P1][3] == stats[P1][3]
    assert remove_call_cost(stats, CallCost.callee_only(1.0))[CB][2] == 0.0


def test_the_simple_model_charges_the_callee_only() -> None:
    fixed = remove_call_cost(_stats(), CallCost.callee_only(0.01))
    assert fixed[CB][2] == pytest.approx(1.0 - 40 * 0.01)
    assert fixed[P1][2] == pytest.approx(2.0 - 0.01)


def test_a_split_scaled_to_the_measured_added_time_adds_up_to_it() -> None:
    stats = _stats()
    cost = CallCost(1e-3, 2e-3, 1e-3, 1e-3)
    scaled = cost.scaled_to(stats, 0.5)
    assert scaled.total(stats) == pytest.approx(0.5)
    assert scaled.caller_s / scaled.callee_s == pytest.approx(2.0)
    assert cost.scaled_to(stats, 0.0) == cost


class Script:
    """A fake clock that returns the given readings in order."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0)


def test_measure_call_split_divides_the_added_time_between_callee_and_caller(
    tick: Tick,
) -> None:
    # The loops take 1 s plainly and 1 s + 3 ms per call profiled (the scripted clock, read
    # at the start and end of each loop); cProfile's own clock (`tick`) advances 1 ms per
    # reading, so it charges each call 1 ms of self time: 1 ms to the callee, 2 ms to the loop.
    calls = 100
    loop = [0.0, 1.0, 2.0, 2.0 + 1.0 + calls * 0.003]  # plain start, end; profiled start, end
    clock = Script(*loop, *loop)  # the Python calls, then the C calls
    cost = measure_call_split(calls=calls, repeats=1, clock=clock, timer=tick)
    assert clock.readings == []
    assert cost.callee_s == pytest.approx(0.001, rel=1e-9)
    assert cost.caller_s == pytest.approx(0.002, rel=1e-9)
    assert cost.native_callee_s == pytest.approx(0.001, rel=1e-9)
    assert cost.native_caller_s == pytest.approx(0.002, rel=1e-9)
    other = cProfile.Profile()
    other.enable()
    try:
        with pytest.raises(ProfileError, match="another profiler is already active"):
            measure_call_split()
    finally:
        other.disable()


def test_folded_cprofile_and_the_stack_sampler_agree_on_c_heavy_code() -> None:
    """natives() spends its time in C: both put it into natives() itself."""
    traced, _ = run_profiled([wl.natives])
    sampled, _ = run_stack_sampled([wl.natives], interval=0.0002)
    folded = fold_native(traced.stats)
    assert _total_self(folded) == pytest.approx(_total_self(traced.stats))
    assert not [k for k in folded if k[0] == "~"]

    def own_share(stats: dict[FuncKey, FuncStats]) -> float:
        mine = sum(v[2] for k, v in stats.items() if k[2] == "natives" and k[0].endswith(WL))
        return float(mine) / _total_self(stats)

    assert own_share(folded) > 0.8
    assert own_share(sampled.stats) > 0.8
