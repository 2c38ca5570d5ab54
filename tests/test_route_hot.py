"""The router's hot path (route/hot.py): a loop's repeated calls skip the signature and
plan lookups, and give exactly what the full path gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import workbench
from workbench.route import Router
from workbench.route import planning as planning_module
from workbench.route import router as router_module
from workbench.route.features import bucket_of
from workbench.route.hot import bucket_bounds


@pytest.mark.parametrize("per_decade", [1, 4, 8])
def test_bucket_bounds_agree_with_bucket_of_at_every_edge(per_decade: int) -> None:
    for bucket in range(0, 6 * per_decade):
        lo, hi = bucket_bounds(bucket, per_decade)
        if bucket_of(lo, per_decade) != bucket:  # a bucket that holds no integer size
            assert all(bucket_of(n, per_decade) != bucket for n in range(1, hi + 1))
            continue
        assert bucket_of(hi - 1, per_decade) == bucket
        assert bucket_of(hi, per_decade) > bucket
        if lo > 1:
            assert bucket_of(lo - 1, per_decade) < bucket
    assert bucket_bounds(-1, per_decade) == (0, 1)


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the router's signature reads (describe, quick) from here on."""
    calls = {"describe": 0, "quick": 0}

    def counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            calls[name] += 1
            return fn(*args)

        return wrapper

    monkeypatch.setattr(router_module, "describe", counted("describe", router_module.describe))
    monkeypatch.setattr(router_module, "quick", counted("quick", router_module.quick))
    monkeypatch.setattr(planning_module, "describe", counted("describe", planning_module.describe))
    return calls


def _cell(router: Router, op: str, backend: str) -> tuple[int, int]:
    frame = router.counts()
    row = frame[(frame.op == op) & (frame.backend == backend)].iloc[0]
    return int(row.decisions), int(row.executions)


def test_repeated_calls_read_no_signature_and_are_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router(gpu=False)
    a, b = np.arange(50.0), np.ones(50)
    xs, ys = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]
    for _ in range(2):  # the first call plans, the second finds the plan and heats it
        router.run("add", a, b)
        router.run("sum", xs)
    numpy_before = _cell(router, "add", "numpy")
    python_before = _cell(router, "sum", "python")
    calls = _counting(monkeypatch)
    for _ in range(10):
        assert np.array_equal(router.run("add", a, b), a + b)
        assert router.run("sum", xs) == 6.0
        assert router.run("add", xs, ys) == [5.0, 7.0, 9.0]  # another op's plan: not hot yet
    assert calls["describe"] <= 2  # only the list add's first calls read a signature
    assert _cell(router, "add", "numpy")[0] == numpy_before[0] + 10
    assert _cell(router, "add", "numpy")[1] == numpy_before[1] + 10
    assert _cell(router, "sum", "python") == (python_before[0] + 10, python_before[1] + 10)


def test_namespace_ops_take_the_hot_path_too(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router(gpu=False)
    a = np.arange(12.0).reshape(3, 4)
    xp = workbench.namespace(a, router=router)
    xp.add(a, a)
    xp.add(a, a)
    calls = _counting(monkeypatch)
    for _ in range(5):
        assert np.array_equal(xp.add(a, a), a + a)
    assert calls == {"describe": 0, "quick": 0}
    # the op's own parameters, keyword forms and `to=` never take the hot path
    xp.sum(a)
    xp.sum(a)
    assert np.array_equal(xp.sum(a, axis=0), a.sum(axis=0))
    assert np.array_equal(xp.sum(a, 1), a.sum(axis=1))
    assert router.run("add", a, a, to="python") == (a + a).tolist()


CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("add", (np.arange(10.0), np.arange(10.0))),
    ("add", (np.arange(10.0), np.arange(10.0))),
    ("add", (np.arange(11.0), 2.0)),  # another signature: array and number
    ("add", (np.arange(12), np.arange(12))),  # another dtype
    ("add", (np.arange(10.0).reshape(2, 5), np.ones(5))),  # another rank
    ("add", (np.arange(5000.0), np.arange(5000.0))),  # another bucket
    ("add", ((1, 2, 3), (4, 5, 6))),  # tuples in, tuples out
    ("add", ((1, 2, 3), (4, 5, 6))),
    ("add", ([1, 2, 3], [4, 5, 6])),  # lists, same leaf: not the tuples' plan
    ("add", ([1, 2, 3], [4, 5, 6])),
    ("add", ([1, 2, 3.5], [4, 5, 6])),  # a later element of another type
    ("add", ([1.0, 2.0], [3, 4])),
    ("sum", ([1, 2, 3],)),
    ("sum", ([1, 2, 3],)),
    ("sum", ([2**62, 2**62],)),  # beyond int64: the idiom steps aside
    ("sum", ([1, 2, 3],)),
    ("max", ([1.0, float("nan"), 2.0],)),
    ("max", ([1.0, 3.0, 2.0],)),
    ("max", ([1.0, float("nan"), 2.0],)),
    ("sum", (np.arange(7.0),)),
    ("sum", (np.arange(7.0),)),
    ("sum", (np.ma.array([1.0, 2.0, 100.0], mask=[0, 0, 1]),)),  # a subclass: not hot
    ("sum", (np.arange(7.0),)),
    ("matmul", (np.eye(3), np.arange(9.0).reshape(3, 3))),
    ("matmul", (np.eye(3), np.arange(9.0).reshape(3, 3))),
    ("matmul", (np.eye(3), np.arange(3.0))),  # another rank: another plan
]


def _same(got: Any, want: Any) -> bool:
    if type(got) is not type(want):
        return False
    if isinstance(got, np.ndarray):
        return got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
    if isinstance(got, float) and got != got:
        return want != want
    return bool(got == want)


def test_hot_results_are_the_full_paths_results() -> None:
    """One router runs the calls in a row (hot where it can be); each call is also run on
    a fresh router (which plans it cold): the results, their types and dtypes agree."""
    hot = Router(gpu=False)
    for op, args in CALLS:
        got = hot.run(op, *args)
        want = Router(gpu=False).run(op, *args)
        assert _same(got, want), (op, args, got, want)


def test_a_kernel_that_steps_aside_leaves_the_answer_to_the_full_path() -> None:
    router = Router(gpu=False)
    router.run("add", [1, 2], [3, 4])
    router.run("add", [1, 2], [3, 4])  # hot now: the comprehension
    with pytest.raises(TypeError):
        router.run("add", [1, None], [3, 4])  # NumPy's own error, as NumPy gives it
    frame = router.counts()
    assert int(frame[frame.op == "add"].fallbacks_from.sum()) == 1
    assert router.run("add", [1, 2], [3, 4]) == [4, 6]
    with pytest.raises(ValueError):  # lengths that differ: NumPy's broadcasting error
        router.run("add", [1, 2, 3], [3, 4])
    assert router.run("add", [1, 2, 3], [3]) == [4, 5, 6]  # NumPy broadcasts a single one


def test_a_full_plan_cache_drops_the_hot_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning_module, "PLAN_CACHE_LIMIT", 2)
    router = Router(gpu=False)
    a = np.arange(5.0)
    router.run("add", a, a)
    router.run("add", a, a)
    assert "add" in router._hot
    router.run("sum", a)  # the second plan
    router.run("sum", a.astype(np.float32))  # the third: the cache is cleared first
    assert "add" not in router._hot
    assert np.array_equal(router.run("add", a, a), a + a)
