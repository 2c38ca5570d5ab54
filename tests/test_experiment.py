"""Experiments: the output check, the interleaved rounds, the interval and the verdict.

The code under test runs for real; only time is faked (each call advances a fake clock by
the duration the test plans), so the numbers the tests assert are exact.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench.errors import ExperimentError
from workbench.experiment.measure import Plan, decide, plan_number, plan_rounds
from workbench.experiment.outputs import Tolerance, first_difference, freeze, thaw
from workbench.experiment.speedup import speedup_interval


class FakeClock:
    """A clock that only moves when code under test says it took time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def work(self, seconds: float, value: object = None) -> Callable[[], object]:
        def run() -> object:
            self.now += seconds
            return value

        return run


def noisy(
    clock: FakeClock, mean: float, rng: np.random.Generator, value: object = 1
) -> Callable[[], object]:
    def run() -> object:
        clock.now += mean * float(rng.lognormal(0.0, 0.02))
        return value

    return run


# --- the output check ------------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: float
    y: float
    seconds: float = dataclasses.field(default=0.0, compare=False)


class Plain:
    def __init__(self, value: int) -> None:
        self.value = value


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (1.0, 1.0 + 1e-9),
        ([1, (2.0, "a")], [1, (2.0 + 1e-12, "a")]),
        ({"a": np.arange(1.0, 4.0)}, {"a": np.arange(1.0, 4.0) * (1 + 1e-12)}),
        (np.array([np.nan, 1.0]), np.array([np.nan, 1.0])),
        (pd.DataFrame({"a": [1.0, 2.0]}), pd.DataFrame({"a": [1.0, 2.0 + 1e-12]})),
        (Point(1.0, 2.0, seconds=1.0), Point(1.0, 2.0, seconds=2.0)),
        (Plain(3), Plain(3)),
        (frozenset({1, 2}), frozenset({2, 1})),
        (None, None),
        (3, np.int64(3)),
    ],
)
def test_equal_outputs_have_no_difference(left: object, right: object) -> None:
    a, b = thaw(freeze({"result": left}, "b")), thaw(freeze({"result": right}, "c"))
    assert first_difference(a, b, Tolerance()) is None


@pytest.mark.parametrize(
    ("left", "right", "where"),
    [
        (1.0, 1.1, "result: 1.0 in the baseline, 1.1 in the candidate"),
        ([1, 2, 3], [1, 2], "length 3 in the baseline, 2 in the candidate"),
        ({"a": [1, 2]}, {"a": [1, 5]}, "result['a'][1]: 2 in the baseline, 5"),
        (np.zeros((2, 2)), np.eye(2), "2 of 4 elements differ, first at (0, 0)"),
        (np.zeros(3), np.zeros(4), "shape (3,) in the baseline, (4,)"),
        (Point(1.0, 2.0), Point(1.0, 3.0), "result.y: 2.0 in the baseline, 3.0"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [2.0]}), "result: DataFrame"),
        ({"a": 1}, {"b": 1}, "keys only in the baseline: 'a'; only in the candidate: 'b'"),
    ],
)
def test_different_outputs_say_where(left: object, right: object, where: str) -> None:
    difference = first_difference({"result": left}, {"result": right}, Tolerance())
    assert difference is not None and where in difference


def test_float_tolerance_is_configurable() -> None:
    assert first_difference({"r": 1.0}, {"r": 1.001}, Tolerance(rtol=1e-2)) is None
    assert first_difference({"r": 1.0}, {"r": 1.001}, Tolerance(rtol=1e-6)) is not None
    assert first_difference({"r": 0.0}, {"r": 1e-9}, Tolerance(rtol=0, atol=1e-8)) is None


def test_different_types_cannot_be_compared() -> None:
    with pytest.raises(ExperimentError, match="baseline's is a list, the candidate's a tuple"):
        first_difference({"result": [1]}, {"result": (1,)}, Tolerance())


def test_unpicklable_outputs_are_refused_with_advice() -> None:
    with pytest.raises(
        ExperimentError, match=r"candidate's result \(a generator\) cannot be pickled.*--check"
    ):
        freeze({"result": (i for i in range(3))}, "candidate")
    with pytest.raises(ExperimentError, match="candidate's variable 'lock'"):
        freeze({"lock": threading.Lock()}, "candidate")


def test_negative_tolerance_is_refused() -> None:
    with pytest.raises(ExperimentError, match="tolerances must be >= 0"):
        Tolerance(rtol=-1)


# --- planning, interval, verdict -------------------------------------------------------


def test_samples_last_at_least_the_minimum_and_rounds_fit_the_budget() -> None:
    plan = Plan(budget_s=10, min_sample_s=0.02)
    assert plan_number(0.5, plan) == 1
    assert plan_number(0.001, plan) == 20
    assert plan_rounds(round_s=1.0, remaining_s=10.0, plan=plan) == 10
    assert plan_rounds(round_s=5.0, remaining_s=10.0, plan=plan) == plan.min_rounds
    assert plan_rounds(round_s=0.001, remaining_s=10.0, plan=plan) == plan.max_rounds


def test_interval_of_a_constant_ratio_is_that_ratio() -> None:
    speed = speedup_interval([2.0] * 6, [1.0] * 6, confidence=0.99)
    assert (speed.point, speed.low, speed.high, speed.rounds) == (2.0, 2.0, 2.0, 6)


def test_interval_is_deterministic_for_the_same_timings() -> None:
    rng = np.random.default_rng(1)
    base = list(1.0 + 0.01 * rng.standard_normal(20))
    cand = list(0.9 + 0.01 * rng.standard_normal(20))
    first = speedup_interval(base, cand, confidence=0.99)
    second = speedup_interval(base, cand, confidence=0.99)
    assert first == second
    assert first.low < first.point < first.high
    assert first.low > 1.05 and first.high < 1.2


@pytest.mark.parametrize(
    ("low", "high", "correct", "verdict", "words"),
    [
        (1.05, 1.2, "equal", "keep", "faster"),
        (0.8, 0.9, "equal", "revert", "slower"),
        (0.98, 1.04, "equal", "revert", "overhead without benefit"),
        (1.05, 1.2, "differ", "broken", "outputs differ"),
    ],
)
def test_verdict_rule(low: float, high: float, correct: str, verdict: str, words: str) -> None:
    from workbench.experiment.speedup import Speedup

    speed = Speedup(math.sqrt(low * high), low, high, 0.99, 10, low, high)
    got, reason = decide(speed, correct, "x", Plan())  # type: ignore[arg-type]
    assert got == verdict and words in reason


# --- whole experiments with a fake clock -----------------------------------------------


def test_clear_speedup_is_kept_with_equal_outputs() -> None:
    clock = FakeClock()
    result = workbench.run_experiment(
        clock.work(0.10, [1, 2.0]),
        clock.work(0.08, [1, 2.0]),
        budget_s=3.0,
        clock=clock,
        record=False,
    )
    assert result.verdict == "keep"
    assert result.correctness == "equal"
    assert result.speedup.point == pytest.approx(1.25)
    assert result.baseline_median == pytest.approx(0.10)
    # first runs (0.18 s) then 15 rounds of 0.18 s fill the 3 s budget
    assert len(result.timings.baseline) == 15


def test_rounds_alternate_which_version_runs_first() -> None:
    clock = FakeClock()
    order: list[str] = []

    def base() -> int:
        order.append("b")
        clock.now += 0.05
        return 1

    def cand() -> int:
        order.append("c")
        clock.now += 0.05
        return 1

    workbench.run_experiment(base, cand, budget_s=0.5, clock=clock, record=False)
    assert order[:2] == ["b", "c"]  # the first runs
    rounds = order[2:]
    assert rounds[:4] == ["b", "c", "c", "b"]


def test_signed_rank_interval_matches_the_wilcoxon_table() -> None:
    from workbench.experiment.speedup import signed_rank_distribution, signed_rank_interval

    # n = 10: P(T <= 8) = 0.0244 <= 0.025 < P(T <= 9), so the 95% interval is Walsh
    # averages 9 and 47 of 55; for 1..10 those are 3.0 and 8.0.
    assert float(np.cumsum(signed_rank_distribution(10))[8]) == pytest.approx(25 / 1024)
    assert signed_rank_interval(np.arange(1.0, 11.0), 0.95) == (3.0, 8.0)
    assert signed_rank_interval(np.arange(7.0), 0.99) == (-math.inf, math.inf)


def test_hodges_lehmann_is_the_median_of_pairwise_averages() -> None:
    from workbench.experiment.speedup import hodges_lehmann

    # pairwise averages of 0, 1, 10: 0, 0.5, 1, 5, 5.5, 10; their median is 3
    assert float(hodges_lehmann(np.array([0.0, 1.0, 10.0]))) == 3.0
    stacked = hodges_lehmann(np.array([[0.0, 1.0, 10.0], [1.0, 1.0, 1.0]]))
    assert stacked.tolist() == [3.0, 1.0]


def test_identical_code_is_never_kept() -> None:
    rng = np.random.default_rng(7)
    verdicts = []
    for _ in range(40):
        clock = FakeClock()
        result = workbench.run_experiment(
            noisy(clock, 0.1, rng), noisy(clock, 0.1, rng), budget_s=4.0, clock=clock, record=False
        )
        verdicts.append(result.verdict)
    assert "keep" not in verdicts


def test_slower_candidate_is_reverted_as_slower() -> None:
    rng = np.random.default_rng(3)
    clock = FakeClock()
    result = workbench.run_experiment(
        noisy(clock, 0.10, rng), noisy(clock, 0.11, rng), budget_s=6.0, clock=clock, record=False
    )
    assert result.verdict == "revert"
    assert result.reason.startswith("slower")


def test_different_outputs_are_broken_even_when_faster() -> None:
    clock = FakeClock()
    result = workbench.run_experiment(
        clock.work(0.1, {"a": 1}),
        clock.work(0.05, {"a": 2}),
        budget_s=1.0,
        clock=clock,
        record=False,
    )
    assert result.verdict == "broken"
    assert "result['a']: 1 in the baseline, 2 in the candidate" in result.reason


def test_interrupted_experiment_keeps_what_it_measured() -> None:
    clock = FakeClock()
    calls = {"n": 0}

    def cand() -> int:
        calls["n"] += 1
        clock.now += 0.05
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return 1

    result = workbench.run_experiment(
        clock.work(0.1, 1), cand, budget_s=5, clock=clock, record=False
    )
    assert result.timings.interrupted
    assert len(result.timings.candidate) == 3
    assert result.verdict == "revert" and "too few rounds" in result.reason


def test_recorded_experiment_is_listed_and_sets_validate(isolated_cwd: Path) -> None:
    clock = FakeClock()
    result = workbench.run_experiment(
        clock.work(0.1, 1), clock.work(0.05, 1), name="fast", budget_s=2.0, clock=clock
    )
    listing = workbench.experiments()
    assert list(listing["name"]) == ["fast"]
    assert listing.loc[0, "verdict"] == "keep"
    assert listing.loc[0, "speedup"] == pytest.approx(result.speedup.point)
    validate = workbench.workflow().frame().set_index("phase").loc["Validate"]
    assert validate["state"] == "Completed"


def test_bad_plan_options_are_refused() -> None:
    with pytest.raises(ExperimentError, match="budget must be > 0"):
        Plan(budget_s=0)
    with pytest.raises(ExperimentError, match="confidence"):
        Plan(confidence=1.0)
