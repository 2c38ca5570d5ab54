"""Every backend's result equals NumPy's on random inputs of odd shapes and dtypes."""

from __future__ import annotations

import warnings
from collections import defaultdict

import numpy as np
import pytest
from route_cases import Case, assert_same, cases, numpy_reference

from workbench.errors import RouteError
from workbench.route import Backend, OpRegistry, Router

RUNNABLE = OpRegistry.builtin().runnable_names()
BY_OP: dict[str, list[Case]] = defaultdict(list)
for _case in cases(np.random.default_rng(20261121)):
    BY_OP[_case[0]].append(_case)


def test_every_runnable_op_has_cases() -> None:
    assert sorted(BY_OP) == sorted(RUNNABLE)


@pytest.mark.parametrize("backend", [Backend.PYTHON, Backend.NUMPY])
@pytest.mark.parametrize("op", sorted(RUNNABLE))
def test_backend_matches_numpy_on_random_inputs(op: str, backend: Backend) -> None:
    router = Router(gpu=False)
    checked = 0
    for _, args, kwargs in BY_OP[op]:
        context = f"{op} on {backend.label}, {[getattr(a, 'dtype', a) for a in args]} {kwargs}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                ref = numpy_reference(op, args, kwargs)
            except (TypeError, ValueError) as exc:
                with pytest.raises((type(exc), RouteError)):
                    router.run_on(backend, op, *args, **kwargs)
                continue
            got = router.run_on(backend, op, *args, **kwargs)
        assert_same(got, ref, context)
        checked += 1
    assert checked >= 5


def test_lists_in_give_lists_out_equal_to_numpy_tolist() -> None:
    router = Router(gpu=False)
    x, y = [[1, 2, 3], [4, 5, 6]], [10, 20, 30]
    for backend in (Backend.PYTHON, Backend.NUMPY):
        assert router.run_on(backend, "add", x, y) == np.add(x, y).tolist()
        assert router.run_on(backend, "sum", [True, True, False]) == 2
        assert router.run_on(backend, "mean", [1, 2]) == 1.5
        assert router.run_on(backend, "matmul", [[1.0, 2.0]], [[3.0], [4.0]]) == [[11.0]]


def test_python_integers_wrap_like_numpy_int64() -> None:
    router = Router(gpu=False)
    big = [2**62, 2**62]
    expected = np.add(big, big).tolist()
    assert router.run_on(Backend.PYTHON, "add", big, big) == expected
    wrapped = router.run_on(
        Backend.PYTHON, "add", np.array([100], np.int8), np.array([100], np.int8)
    )
    assert wrapped.dtype == np.int8 and wrapped[0] == -56


def test_weak_python_scalars_follow_numpy_promotion() -> None:
    router = Router(gpu=False)
    a = np.array([1, 2], dtype=np.float32)
    got = router.run_on(Backend.PYTHON, "multiply", a, 2.5)
    assert got.dtype == np.float32
    assert_same(got, np.multiply(a, 2.5), "float32 * python float")


def test_unsupported_dtype_is_an_error_when_forced_and_a_counted_fallback_when_routed() -> None:
    router = Router(policy="seed", gpu=False)
    z = np.array([1 + 2j, 3 - 1j])
    with pytest.raises(RouteError, match="complex"):
        router.run_on(Backend.PYTHON, "add", [1 + 2j], [1])
    # The seed table says Scalar for 2 elements; pure Python cannot: NumPy runs it.
    assert_same(router.run("add", z, z), np.add(z, z), "complex add")
    assert router.decide("add", z, z).backend is Backend.NUMPY
    assert router.decide("add", z, z).fallback is not None
    # Complex values inside lists are found only when the pure-Python kernel reads them.
    assert router.run("add", [1 + 2j, 3], [1, 1]) == [(2 + 2j), (4 + 0j)]
    fallbacks = router.fallbacks()
    assert set(fallbacks["from"]) == {"python"} and set(fallbacks["to"]) == {"numpy"}
    assert fallbacks["count"].sum() >= 3
