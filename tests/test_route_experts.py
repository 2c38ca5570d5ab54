"""Experts for the user's own functions: the gate learns per size bucket on the real
calls, checks results against the reference, survives failures, and explains itself.
Times come from a fake clock each expert advances by a known cost, so every number the
gate decides on is exact."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workbench.route.experts import Gated, experts
from workbench.route.features import ExpertError, bucket_label, bucket_of
from workbench.route.learner import ExpertMismatchWarning


class FakeClock:
    """A clock that moves only when an expert spends time on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def spend(self, seconds: float) -> None:
        self.now += seconds


def python_cost(n: int) -> float:
    return 1e-6 * n  # 1 us per element


def numpy_cost(n: int) -> float:
    return 20e-6 + 1e-8 * n  # 20 us per call, 10 ns per element: faster above ~20 elements


def make_add(clock: FakeClock, tmp_path: Path, **options: Any) -> tuple[Gated, dict[str, int]]:
    """add(a, b) on lists, a pure-Python reference and a NumPy expert, costs on the clock;
    `calls` counts each expert's calls."""
    calls = {"python": 0, "numpy": 0}

    @experts(size=lambda a, b: len(a), clock=clock, profile=tmp_path / "p.json", **options)
    def add(a: list[float], b: list[float]) -> list[float]:
        calls["python"] += 1
        clock.spend(python_cost(len(a)))
        return [x + y for x, y in zip(a, b, strict=True)]

    @add.expert("numpy")
    def _(a: list[float], b: list[float]) -> list[float]:
        calls["numpy"] += 1
        clock.spend(numpy_cost(len(a)))
        return (np.asarray(a) + np.asarray(b)).tolist()

    return add, calls


def label(n: int) -> str:
    """The bucket label of size `n` (4 buckets per decade)."""
    return bucket_label(bucket_of(n, 4), 4)


def lists(n: int) -> tuple[list[float], list[float]]:
    return [float(i) for i in range(n)], [0.5] * n


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_call_returns_the_reference_answer_and_experts_are_callable_by_hand(
    clock: FakeClock, tmp_path: Path
) -> None:
    add, _ = make_add(clock, tmp_path, autosave=False)
    a, b = lists(5)
    assert add(a, b) == [x + 0.5 for x in a]
    assert list(add.experts) == ["python", "numpy"] and add.reference == "python"
    assert add.experts["numpy"](a, b) == add(a, b)
    assert "experts: python, numpy" in repr(add)


def test_each_bucket_runs_the_expert_measured_fastest_there(
    clock: FakeClock, tmp_path: Path
) -> None:
    add, calls = make_add(clock, tmp_path, autosave=False)
    for _ in range(12):
        for n in (3, 1000):
            add(*lists(n))
    table = add.table().set_index(["bucket", "expert"])
    small, large = label(3), label(1000)
    assert table.loc[(small, "python"), "chosen"] and not table.loc[(small, "numpy"), "chosen"]
    assert table.loc[(large, "numpy"), "chosen"]
    # exact medians from the fake clock: the first call of each expert is kept apart
    assert table.loc[(large, "numpy"), "median_s"] == pytest.approx(numpy_cost(1000))
    assert table.loc[(small, "python"), "median_s"] == pytest.approx(python_cost(3))
    text = str(add.explain(*lists(1000)))
    assert "chosen: numpy (measured on live calls" in text and "faster than python" in text
    assert "first calls" in text
    before = dict(calls)
    for _ in range(10):
        add(*lists(1000))
    assert calls["numpy"] - before["numpy"] == 10 and calls["python"] == before["python"]


def test_the_first_call_of_an_expert_is_timed_apart(clock: FakeClock, tmp_path: Path) -> None:
    seen: list[int] = []

    @experts(clock=clock, autosave=False, profile=tmp_path / "p.json")
    def slow_start(x: np.ndarray) -> float:
        clock.spend(1.0 if not seen else 1e-3)  # the first call compiles
        seen.append(1)
        return float(x.sum())

    x = np.ones(100)
    for _ in range(4):
        slow_start(x)
    learner = slow_start.learners()[-1]
    assert learner.experts["python"].first_s == pytest.approx(1.0)
    assert slow_start.table()["median_s"].iloc[0] == pytest.approx(1e-3)


def test_an_expert_that_disagrees_is_disabled_there_with_the_first_differing_element(
    clock: FakeClock, tmp_path: Path
) -> None:
    @experts(size=len, clock=clock, autosave=False, profile=tmp_path / "p.json")
    def double(a: tuple[int, ...]) -> tuple[int, ...]:
        clock.spend(2e-7 * len(a))
        return tuple(2 * x for x in a)

    @double.expert("numpy")
    def _(a: tuple[int, ...]) -> tuple[int, ...]:
        clock.spend(1e-7 * len(a))  # twice as fast at every size: every check runs at once
        out = (np.asarray(a) * 2).tolist()
        if len(a) > 50:
            out[3] += 1  # wrong for larger inputs
        return tuple(out)

    small, large = tuple(range(10)), tuple(range(100))
    for _ in range(6):
        assert double(small) == tuple(2 * x for x in small)
    with pytest.warns(
        ExpertMismatchWarning, match=r"'numpy' disagrees .* bucket 100-178.*\[3\]: 7 where"
    ):
        for _ in range(4):
            assert double(large) == tuple(2 * x for x in large)  # the reference's answer
    text = str(double.explain(large))
    assert (
        "disabled here: its result differs from python's: [3]: 7 where the reference has 6" in text
    )
    assert "chosen: python" in text
    assert "chosen: numpy" in str(double.explain(small))  # still fine where it agrees


def test_a_costly_check_waits_until_it_is_a_tenth_of_the_time_spent_in_the_bucket(
    clock: FakeClock, tmp_path: Path
) -> None:
    @experts(size=len, clock=clock, autosave=False, profile=tmp_path / "p.json")
    def double(a: tuple[int, ...]) -> tuple[int, ...]:
        clock.spend(1e-6 * len(a))  # 100 us at 100 elements
        return tuple(2 * x for x in a)

    @double.expert("numpy")
    def _(a: tuple[int, ...]) -> tuple[int, ...]:
        clock.spend(1e-6 + 1e-8 * len(a))  # 2 us: the reference is 50x slower here
        out = (np.asarray(a) * 2).tolist()
        if len(a) > 50:
            out[3] += 1
        return tuple(out)

    small, large = tuple(range(4)), tuple(range(100))
    for _ in range(6):
        double(small)
        double(tuple(range(10)))
    answers = [double(large) for _ in range(5)]
    assert answers[-1] != tuple(2 * x for x in large)  # not checked yet: the check waits
    explanation = double.explain(large)
    assert "not checked here yet" in explanation.check and "10%" in explanation.check
    with pytest.warns(ExpertMismatchWarning, match="'numpy' disagrees"):
        for _ in range(600):
            double(large)
    assert double(large) == tuple(2 * x for x in large)
    assert "disabled here" in str(double.explain(large))


def test_an_expert_that_raises_is_counted_and_the_next_one_answers(
    clock: FakeClock, tmp_path: Path
) -> None:
    @experts(clock=clock, autosave=False, profile=tmp_path / "p.json")
    def total(x: np.ndarray) -> float:
        clock.spend(1e-3)
        return float(sum(x.tolist()))

    @total.expert("numpy")
    def _(x: np.ndarray) -> float:
        clock.spend(1e-6)
        if x.size > 500:
            raise MemoryError("out of memory for this size")  # as a GPU runs out
        return float(x.sum())

    x = np.ones(1000)
    for _ in range(5):
        assert total(x) == 1000.0
    row = total.table().set_index("expert").loc["numpy"]
    assert "disabled here: ran out of memory: out of memory for this size" in row["status"]
    explanation = total.explain(x)
    assert explanation.chosen == "python"
    assert [r.failures for r in explanation.rows if r.name == "numpy"] == [1]


def test_an_exception_of_the_chosen_expert_on_the_fast_path_moves_to_the_next(
    clock: FakeClock, tmp_path: Path
) -> None:
    broken = {"now": False}

    @experts(clock=clock, autosave=False, profile=tmp_path / "p.json")
    def mean(x: np.ndarray) -> float:
        clock.spend(1e-3)
        return float(sum(x.tolist()) / x.size)

    @mean.expert("numpy")
    def _(x: np.ndarray) -> float:
        clock.spend(1e-6)
        if broken["now"]:
            raise RuntimeError("driver reset")
        return float(x.mean())

    x = np.arange(100.0)
    for _ in range(6):
        mean(x)
    assert mean.explain(x).chosen == "numpy"
    broken["now"] = True
    assert mean(x) == pytest.approx(49.5)
    explanation = mean.explain(x)
    assert explanation.chosen is None or explanation.chosen == "python"
    assert "raised RuntimeError: driver reset" in str(explanation)


def test_the_references_own_exception_is_raised_unchanged(clock: FakeClock, tmp_path: Path) -> None:
    mine = ValueError("mine")

    @experts(clock=clock, autosave=False, profile=tmp_path / "p.json")
    def picky(x: np.ndarray) -> float:
        raise mine

    @picky.expert("numpy")
    def _(x: np.ndarray) -> float:
        raise ValueError("numpy's")

    for _ in range(3):
        with pytest.raises(ValueError) as info:
            picky(np.ones(3))
        assert info.value is mine


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (lambda x: 1 / 0, r"size function .*<lambda>.* raised ZeroDivisionError"),
        (lambda x: "big", r"size function .*<lambda>.* returned 'big' \(str\), not a number"),
        (lambda x: [1, 2], r"returned \[1, 2\] \(list\), not a number"),
        (lambda x: -1, r"returned -1: a size must be a finite number >= 0"),
        (lambda x: math.nan, r"returned nan"),
    ],
)
def test_a_bad_size_function_is_one_clear_error_at_the_first_call(
    tmp_path: Path, size: Callable[[Any], Any], message: str
) -> None:
    @experts(size=size, autosave=False, profile=tmp_path / "p.json")
    def f(x: Any) -> Any:
        return x

    with pytest.raises(ExpertError, match=message):
        f(3)


def test_generator_arguments_are_refused_and_unhashable_ones_work(tmp_path: Path) -> None:
    @experts(autosave=False, profile=tmp_path / "p.json")
    def count(items: Any, options: dict[str, int]) -> int:
        return sum(1 for _ in items) + options["extra"]

    with pytest.raises(ExpertError, match=r"generator or iterator.*list"):
        count((i for i in range(3)), {"extra": 1})
    with pytest.raises(ExpertError, match="generator or iterator"):
        count(iter([1, 2]), {"extra": 1})
    assert count([[1], [2]], {"extra": 1}) == 3  # lists and dicts: unhashable, fine


def test_methods_are_gated_and_explained_with_their_instance(
    clock: FakeClock, tmp_path: Path
) -> None:
    class Scaler:
        def __init__(self, factor: float) -> None:
            self.factor = factor

        @experts(
            size=lambda self, x: len(x), clock=clock, autosave=False, profile=tmp_path / "p.json"
        )
        def scale(self, x: list[float]) -> list[float]:
            clock.spend(1e-6 * len(x))
            return [self.factor * v for v in x]

        @scale.expert("numpy")
        def _(self, x: list[float]) -> list[float]:
            clock.spend(2e-5 + 1e-8 * len(x))
            return (self.factor * np.asarray(x)).tolist()

    s = Scaler(2.0)
    x = [1.0] * 2000
    for _ in range(8):
        assert s.scale(x) == [2.0] * 2000
    assert s.scale.explain(x).chosen == "numpy"
    assert Scaler.scale.explain(s, [1.0]).size == 1
    assert Scaler.scale.qualname.endswith("Scaler.scale")


def test_one_array_generic_implementation_runs_as_numpy_and_cupy_experts(tmp_path: Path) -> None:
    @experts(xp=("numpy", "cupy"), autosave=False, profile=tmp_path / "p.json")
    def standardize(xp: Any, x: Any) -> Any:
        return (x - xp.mean(x, axis=0)) / xp.std(x, axis=0)

    x = np.random.default_rng(0).standard_normal((50, 3))
    out = standardize(x)
    assert isinstance(out, np.ndarray) and np.allclose(out.mean(axis=0), 0)
    assert list(standardize.experts) == ["numpy", "cupy"]
    text = str(standardize.explain(x))
    from workbench import gpu

    if not gpu.probe().available:
        assert "cupy" in text and "cannot run here: no GPU" in text


def test_exploration_costs_at_most_ten_percent_over_200_calls_across_8_buckets(
    clock: FakeClock, tmp_path: Path
) -> None:
    """The issue's bound, on fake time: the calls' total against always calling the best
    expert of each size (python below ~20 elements, numpy above), random order."""
    add, _ = make_add(clock, tmp_path, autosave=False)
    sizes = [3, 10, 30, 100, 1_000, 10_000, 100_000, 1_000_000]  # 8 buckets
    order = [n for n in sizes for _ in range(25)]
    random.Random(7).shuffle(order)
    inputs = {n: lists(n) for n in sizes}
    start = clock.now
    for n in order:
        add(*inputs[n])
    spent = clock.now - start
    best = sum(min(python_cost(n), numpy_cost(n)) for n in order)
    assert spent <= 1.10 * best, (spent / best, add.table()[["bucket", "expert", "calls"]])


def test_a_bucket_between_two_that_agree_is_interpolated(clock: FakeClock, tmp_path: Path) -> None:
    add, calls = make_add(clock, tmp_path, autosave=False)
    for _ in range(8):
        add(*lists(1000))
        add(*lists(100_000))
    before = dict(calls)
    add(*lists(10_000))
    assert calls["python"] == before["python"]  # not tried: both sides chose numpy
    explanation = add.explain(*lists(10_000))
    assert explanation.chosen == "numpy" and "interpolated between buckets" in explanation.note


def test_the_choice_is_rechecked_rarely(clock: FakeClock, tmp_path: Path) -> None:
    add, calls = make_add(clock, tmp_path, autosave=False)
    a, b = lists(1000)
    add(a, b)
    while add.explain(a, b).chosen is None:
        add(a, b)
    before = dict(calls)
    for _ in range(100):
        add(a, b)
    assert calls["python"] == before["python"]  # the runner-up is not run while exploiting
    for _ in range(2000 - 100):
        add(a, b)
    # re-checks after 256, then 512, then 1024 calls, and the postponed check of
    # numpy's result against the reference (python is 33x slower here): a handful
    assert 2 <= calls["python"] - before["python"] <= 5
    assert calls["numpy"] - before["numpy"] >= 2000


def test_thresholds_name_the_crossover_and_ties_are_either(
    clock: FakeClock, tmp_path: Path
) -> None:
    @experts(size=len, clock=clock, autosave=False, profile=tmp_path / "p.json")
    def f(x: list[int]) -> int:
        clock.spend(1e-6 * len(x))
        return sum(x)

    @f.expert("numpy")
    def _(x: list[int]) -> int:
        # 10% faster than python at 1,000 (a tie), 10x faster at 100,000
        clock.spend(0.9e-6 * len(x) if len(x) < 10_000 else 1e-7 * len(x))
        return int(np.sum(x))

    for _ in range(8):
        for n in (10, 1_000, 100_000):
            f(list(range(n)))
    text = str(f.thresholds)
    assert "either (numpy/python)" in text and "numpy from 100,000" in text
    assert any(c.above == "numpy" for c in f.thresholds)


def test_to_delivers_the_result_on_the_host_without_a_gpu(tmp_path: Path) -> None:
    @experts(autosave=False, profile=tmp_path / "p.json")
    def twice(x: np.ndarray) -> np.ndarray:
        return 2 * x

    out = twice.to("host")(np.ones(3))
    assert isinstance(out, np.ndarray) and out.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ExpertError, match="to\\(\\) takes 'host' or 'device'"):
        twice.to("moon")


def test_bad_decorations_are_refused() -> None:
    with pytest.raises(ExpertError, match="xp= takes 'numpy' and 'cupy'"):
        experts(xp=("torch",))(lambda xp, x: x)
    with pytest.raises(ExpertError, match="per_decade"):
        experts(per_decade=0)(lambda x: x)
    g = experts(lambda x: x)
    with pytest.raises(ExpertError, match="already has an expert named 'python'"):
        g.expert("python")(lambda x: x)
    with pytest.raises(ExpertError, match="kind must be one of"):
        g.expert("fast", kind="quantum")


def test_functions_defined_in_notebook_cells_are_gated_and_hashed_by_their_source(
    shell: Any, tmp_path: Path
) -> None:
    cell = f"""
import numpy as np
import workbench

@workbench.experts(size=len, profile={str(tmp_path / "p.json")!r}, autosave=False)
def norm(x):
    return sum(v * v for v in x) ** 0.5

@norm.expert("numpy")
def _(x):
    return float(np.sqrt(np.dot(x, x)))

values = [[float(i)] * n for n in (3, 3000) for i in range(1, 8)]
results = [norm(v) for v in values]
"""
    result = shell.run_cell(cell)
    assert result.success, result.error_in_exec
    norm = shell.user_ns["norm"]
    assert norm.qualname == "__main__.norm"
    assert shell.user_ns["results"][0] == pytest.approx(3**0.5)
    first = norm.source_hash()
    shell.run_cell(cell.replace("** 0.5", "** 0.5  # same maths, edited"))
    assert shell.user_ns["norm"].source_hash() != first  # the cell's source, not its bytecode
    text = str(shell.user_ns["norm"].explain([1.0] * 3000))
    assert text.startswith("__main__.norm: size 3,000 (bucket 1,778-3,162)"), text
