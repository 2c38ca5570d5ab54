"""workbench.namespace(*arrays): the whole NumPy API, registered ops routed, every other
name and argument form passed through to NumPy (or CuPy) and counted, never refused."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench.route import Router


@pytest.fixture
def xp() -> Any:
    return workbench.namespace(np.ones(3), router=Router(gpu=False))


@pytest.mark.parametrize(
    ("call", "want"),
    [
        (lambda xp, a: xp.sum(a, axis=(0, 1)), lambda a: np.sum(a, axis=(0, 1))),
        (lambda xp, a: xp.sum(a, keepdims=True), lambda a: np.sum(a, keepdims=True)),
        (lambda xp, a: xp.mean(a, dtype=np.float32), lambda a: np.mean(a, dtype=np.float32)),
        (lambda xp, a: xp.add(a, a, out=np.empty_like(a)), lambda a: np.add(a, a)),
        (lambda xp, a: xp.reshape(a, [3, 4]), lambda a: np.reshape(a, [3, 4])),
        (lambda xp, a: xp.transpose(a, axes=[1, 0]), lambda a: np.transpose(a, axes=[1, 0])),
        (
            lambda xp, a: xp.tensordot(a, a.T, axes=([1], [0])),
            lambda a: np.tensordot(a, a.T, axes=([1], [0])),
        ),
        (lambda xp, a: xp.max(a, axis=1, initial=-1.0), lambda a: np.max(a, axis=1, initial=-1.0)),
    ],
)
def test_numpys_own_argument_forms_pass_through_and_are_counted(
    xp: Any, call: Any, want: Any
) -> None:
    a = np.arange(12.0).reshape(4, 3).T.copy()
    got = call(xp, a)
    assert np.array_equal(np.asarray(got), np.asarray(want(a)))
    assert sum(xp.unrouted.values()) == 1


def test_other_names_submodules_and_constants_go_to_numpy(xp: Any) -> None:
    a = np.arange(6.0)
    assert xp.stack([a, a]).shape == (2, 6)
    assert xp.linalg.norm(a) == np.linalg.norm(a)
    assert xp.pi == np.pi and xp.float32 is np.float32
    assert np.array_equal(xp.where(a > 2, a, 0), np.where(a > 2, a, 0))
    assert xp.passed["stack"] == 1 and xp.passed["linalg.norm"] == 1 and xp.passed["where"] == 1
    with pytest.raises(AttributeError, match="numpy"):
        xp.no_such_function  # noqa: B018


def test_pandas_and_subclasses_keep_their_types(xp: Any) -> None:
    s = pd.Series([1.0, 2.0], index=["a", "b"])
    assert isinstance(xp.add(s, s), pd.Series) and list(xp.add(s, s).index) == ["a", "b"]
    masked = np.ma.array([1, 2, 100], mask=[0, 0, 1])
    assert xp.sum(masked) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        m = np.matrix([[1, 2], [3, 4]])
    assert type(xp.add(m, m)) is np.matrix


def test_routed_ops_keep_the_callers_containers(xp: Any) -> None:
    assert xp.add([1.0, 2.0], [3.0, 4.0]) == [4.0, 6.0]
    out = xp.add(((1, 2), (3, 4)), ((1, 1), (1, 1)))
    assert out == ((2, 3), (4, 5)) and isinstance(out, tuple)
    assert xp.sum([1.0, 2.0, 3.0]) == 6.0
    assert isinstance(xp.multiply(np.ones(4), 2.0), np.ndarray)
    counts = xp.counts()
    routed = counts[counts["why"] == "routed"]
    assert set(routed["op"]) == {"add", "sum", "multiply"}
    assert routed["executions"].sum() == 4


def test_a_kmeans_step_runs_on_the_namespace_as_in_numpy() -> None:
    """The issue's k-means step: its own forms (stack, ==, boolean masks, axis) unchanged."""
    rng = np.random.default_rng(0)
    points, centres = rng.standard_normal((500, 2)), rng.standard_normal((3, 2))

    def step(xp: Any, points: Any, centres: Any) -> Any:
        dists = xp.stack([xp.sum(xp.square(xp.subtract(points, c)), axis=1) for c in centres])
        labels = xp.argmin(dists, axis=0)
        return xp.stack([points[labels == k].mean(axis=0) for k in range(len(centres))])

    xp = workbench.namespace(points, router=Router(gpu=False))
    assert np.allclose(step(xp, points, centres), step(np, points, centres))
    counts = xp.counts().set_index(["op", "backend"])
    assert counts.loc[("square", "numpy"), "executions"] == 3
    assert counts.loc[("stack", "passed through"), "executions"] == 2
