"""The stack sampler: a real thread samples real runs; statistics in pstats form."""

from __future__ import annotations

import cProfile
import itertools
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path

import pytest
import sampled_workloads as wl

from workbench.errors import ProfileError
from workbench.profiling.breakdown import build_tables, classify_all
from workbench.profiling.capture import FuncKey, FuncStats, run_profiled
from workbench.profiling.categories import Ruleset
from workbench.profiling.run import compile_source
from workbench.profiling.stack_sampler import just_entered, run_stack_sampled

WL = Path(wl.__file__).name
THREAD_NAME = "workbench-stack-sampler"


def _self(stats: dict[FuncKey, FuncStats], name: str) -> float:
    return float(sum(v[2] for k, v in stats.items() if k[2] == name and k[0].endswith(WL)))


def _cum(stats: dict[FuncKey, FuncStats], name: str) -> float:
    return float(sum(v[3] for k, v in stats.items() if k[2] == name and k[0].endswith(WL)))


def _sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


class CountingClock:
    """A fake clock, safe across threads: every reading is one millisecond later."""

    def __init__(self) -> None:
        self._readings = itertools.count(1)

    def __call__(self) -> float:
        return next(self._readings) * 0.001


def _many_calls() -> int:
    return wl.three_to_one_calls(5, 200_000)  # long enough for ~300 samples


@pytest.mark.parametrize(
    ("workload", "heavy", "light"),
    [(wl.three_to_one, "heavy", "light"), (_many_calls, "heavy_calls", "light_calls")],
)
def test_a_three_to_one_split_comes_out_three_to_one(
    workload: Callable[[], int], heavy: str, light: str
) -> None:
    profile, error = run_stack_sampled([workload], interval=0.0005)
    assert error is None and profile.completed
    big, small = _cum(profile.stats, heavy), _cum(profile.stats, light)
    assert big / (big + small) == pytest.approx(0.75, abs=0.1)
    assert profile.result == workload()
    assert not _sampler_threads()


def test_samples_weigh_the_time_since_the_previous_sample() -> None:
    """With a clock that advances 1 ms per reading, every sample weighs exactly 1 ms."""
    profile, error = run_stack_sampled([wl.three_to_one], interval=0.0005, clock=CountingClock())
    assert error is None
    assert profile.samples > 10
    assert profile.sampled_s == pytest.approx(profile.samples * 0.001)
    assert profile.sampled_s <= profile.wall_s


def test_statistics_are_in_pstats_form_with_cprofiles_keys() -> None:
    profile, _ = run_stack_sampled([wl.three_to_one], interval=0.0005)
    traced, _ = run_profiled([wl.three_to_one])
    assert profile.native_folded and profile.counts_are_samples
    assert set(profile.stats) <= set(traced.stats)  # same (file, first line, name) keys
    assert not any(key[0] == "~" for key in profile.stats)
    total_self = sum(v[2] for v in profile.stats.values())
    assert total_self == pytest.approx(profile.sampled_s, rel=1e-9)
    assert 0.5 * profile.wall_s < profile.sampled_s <= profile.wall_s
    spin = next(v for k, v in profile.stats.items() if k[2] == "spin")
    assert spin[2] == pytest.approx(spin[3], rel=0.05)  # spin calls nothing: self ~ cumulative
    top = next(v for k, v in profile.stats.items() if k[2] == "three_to_one")
    assert top[1] == profile.samples  # every sample has the workload on its stack


def test_only_the_steps_are_sampled_not_the_sampler_or_its_caller() -> None:
    profile, _ = run_stack_sampled([wl.three_to_one], interval=0.0005)
    roots = {stack[0][2] for stack, _seconds in profile.stacks}
    assert roots == {"three_to_one"}
    files = {key[0] for key in profile.stats}
    assert files == {wl.__file__}


def test_c_time_is_self_time_of_the_python_caller() -> None:
    profile, _ = run_stack_sampled([wl.natives], interval=0.0002)
    assert _self(profile.stats, "natives") / profile.sampled_s > 0.8


def test_time_before_a_function_has_started_is_its_callers_after_a_long_stretch() -> None:
    """hashing_caller hashes a large tuple (no point to take the GIL for milliseconds) then
    calls tiny(): the GIL comes late, at tiny's first instruction, but the time was
    hashing_caller's."""
    profile, _ = run_stack_sampled([lambda: wl.hashing_caller(60, 1_000_000)], interval=0.0005)
    if profile.samples < 10:  # the sampler spaces out dear samples: a loaded machine
        pytest.skip(f"only {profile.samples} samples on this machine now")
    # without the rule nearly every sample would land on tiny's first instruction
    assert _self(profile.stats, "hashing_caller") / profile.sampled_s > 0.7
    assert _self(profile.stats, "tiny") / profile.sampled_s < 0.25


def test_just_entered_is_true_only_before_the_first_instruction() -> None:
    seen: list[tuple[str, bool]] = []

    def tracer(frame: types.FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_name == "tiny":
            seen.append((frame.f_code.co_name, just_entered(frame)))

    sys.settrace(tracer)
    try:
        wl.tiny()
    finally:
        sys.settrace(None)
    assert not just_entered(sys._getframe())
    if sys.version_info >= (3, 11):
        assert seen == [("tiny", True)]


def test_the_value_of_the_last_step_is_the_result() -> None:
    profile, error = run_stack_sampled([lambda: 1, lambda: "last"])
    assert error is None
    assert profile.result == "last"


def test_an_exception_is_returned_unchanged_and_the_thread_is_gone() -> None:
    boom = ValueError("boom")
    switch = sys.getswitchinterval()

    def fails() -> None:
        wl.spin(300_000)
        raise boom

    profile, error = run_stack_sampled([fails, lambda: "never"], interval=0.0005)
    assert error is boom
    assert not profile.completed
    assert profile.error == "ValueError: boom"
    assert profile.result is None
    assert any(k[2] == "spin" for k in profile.stats)
    assert not _sampler_threads()
    assert sys.getswitchinterval() == switch


def test_keyboard_interrupt_is_returned_and_the_thread_is_gone() -> None:
    switch = sys.getswitchinterval()

    def interrupted() -> None:
        wl.spin(100_000)
        raise KeyboardInterrupt

    profile, error = run_stack_sampled([interrupted], interval=0.0005)
    assert isinstance(error, KeyboardInterrupt)
    assert not profile.completed
    assert not _sampler_threads()
    assert sys.getswitchinterval() == switch


def test_the_switch_interval_is_set_for_the_run_and_restored() -> None:
    before = sys.getswitchinterval()
    during: list[float] = []
    run_stack_sampled([lambda: during.append(sys.getswitchinterval())], interval=0.002)
    assert during == [pytest.approx(min(0.0005, before))]
    run_stack_sampled([lambda: during.append(sys.getswitchinterval())], switch_interval=0.003)
    assert during[-1] == pytest.approx(0.003)
    assert sys.getswitchinterval() == before


def test_refuses_bad_settings_and_another_active_profiler() -> None:
    other = cProfile.Profile()
    other.enable()
    try:
        with pytest.raises(ProfileError, match="another profiler is already active"):
            run_stack_sampled([wl.caller_b])
    finally:
        other.disable()
    with pytest.raises(ProfileError, match="interval"):
        run_stack_sampled([wl.caller_b], interval=0)
    with pytest.raises(ProfileError, match="switch interval"):
        run_stack_sampled([wl.caller_b], switch_interval=-1.0)
    assert not _sampler_threads()


def test_a_failing_sampler_is_reported_not_dropped() -> None:
    def broken_clock() -> float:
        if threading.current_thread().name == THREAD_NAME:
            raise RuntimeError("clock broke")
        return 0.0

    with pytest.raises(ProfileError, match="the stack sampler failed") as caught:
        run_stack_sampled([lambda: wl.spin(300_000)], interval=0.0005, clock=broken_clock)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert not _sampler_threads()


def test_cell_code_is_sampled_under_its_cell_name_and_feeds_the_tables() -> None:
    namespace: dict[str, object] = {"wl": wl}
    steps = compile_source("total = wl.three_to_one()\ntotal * 2", namespace)
    profile, error = run_stack_sampled(steps, interval=0.0005)
    assert error is None
    assert profile.result == 2 * wl.three_to_one()
    category_of, _ = classify_all(profile.stats, Ruleset())
    cells = [k for k in profile.stats if k[0].startswith("<workbench-cell-")]
    assert cells and all(category_of[k] == "user:<cell>" for k in cells)
    tables = build_tables(profile.stats, Ruleset())
    assert tables.profiled_s == pytest.approx(profile.sampled_s, rel=1e-9)
    assert "native" not in set(tables.categories["category"])
    assert tables.top.iloc[0]["name"] == "spin"
