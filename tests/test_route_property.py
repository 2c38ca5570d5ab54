"""Property test (hypothesis): every routed op, under every policy and every shipped
profile, on arrays, lists and tuples, called with Router.run and through the namespace,
gives NumPy's result, dtype and shape (lists in, lists out; tuples in, tuples out), and
raises where NumPy raises."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import RouteError
from workbench.route import Backend, Router
from workbench.route.machine_profile import ProfileMismatchWarning
from workbench.route.namespace import namespace

SHIPPED = sorted((Path(__file__).parents[1] / "data" / "hardware").glob("*.json"))
BINARY = ("add", "subtract", "multiply", "divide", "maximum", "minimum")
UNARY = ("negative", "absolute", "square", "sqrt", "exp")
REDUCE = ("sum", "mean", "max", "min", "prod", "argmax", "argmin")
PAIRS = ("vdot", "matmul", "dot")
DTYPES = ("float64", "float32", "int64", "int8", "bool")


def routers() -> list[Router]:
    out = [Router(policy=p, gpu=False) for p in ("seed", "5x", "end-to-end")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileMismatchWarning)  # measured on other machines
        out += [Router(path, gpu=False) for path in SHIPPED]
    return out


ROUTERS = routers()
SPACES = [namespace(router=router) for router in ROUTERS]

shapes = st.one_of(
    st.tuples(st.integers(0, 6)),
    st.tuples(st.integers(1, 4), st.integers(1, 4)),
)
floats = st.one_of(
    st.floats(-1e6, 1e6, width=64),
    st.sampled_from((float("nan"), float("inf"), -float("inf"), 0.0, -0.0)),
)
ints = st.integers(-1000, 1000)


finite = st.floats(-1e6, 1e6, width=64)


@st.composite
def operand(draw: Any, shape: tuple[int, ...] | None = None, special: bool = True) -> Any:
    """An ndarray of a random dtype, or the same values as a list or a tuple. Matrix
    products get finite values only: BLAS gives NaN * 0 as 0 in some shapes (NumPy's
    dot of [[nan]] and [[0.]] is 0 here), so NaN there is implementation-defined."""
    shape = shape if shape is not None else draw(shapes)
    dtype = draw(st.sampled_from(DTYPES))
    n = int(np.prod(shape))
    if dtype == "bool":
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    elif dtype.startswith("float"):
        values = draw(st.lists(floats if special else finite, min_size=n, max_size=n))
    else:
        values = draw(st.lists(st.integers(-100, 100), min_size=n, max_size=n))
    array = np.array(values, dtype=dtype).reshape(shape)
    kind = draw(st.sampled_from(("array", "list", "tuple")))
    if kind == "array":
        return array
    nested = array.tolist()
    return _tuples(nested) if kind == "tuple" else nested


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


@st.composite
def calls(draw: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    family = draw(st.sampled_from(("binary", "unary", "reduce", "pair", "scalar")))
    if family == "binary":
        a = draw(operand())
        same = draw(st.booleans())
        b = draw(operand(np.shape(a) if same else None))
        return draw(st.sampled_from(BINARY)), (a, b), {}
    if family == "scalar":
        a = draw(operand())
        s = draw(st.one_of(st.integers(-5, 5), st.floats(-5, 5)))
        args = (a, s) if draw(st.booleans()) else (s, a)
        return draw(st.sampled_from(("add", "subtract", "multiply"))), args, {}
    if family == "unary":
        return draw(st.sampled_from(UNARY)), (draw(operand()),), {}
    if family == "reduce":
        a = draw(operand())
        axis = draw(st.sampled_from((None, 0, -1)))
        return draw(st.sampled_from(REDUCE)), (a,), {"axis": axis}
    n = draw(st.integers(1, 4))
    a = draw(operand((draw(st.integers(1, 4)), n), special=False))
    b = draw(operand((n, draw(st.integers(1, 4))), special=False))
    op = draw(st.sampled_from(PAIRS))
    if op == "vdot":
        b = draw(operand(np.shape(a), special=False))
    return op, (a, b), {}


def _numpy(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return getattr(np, op)(*args, **kwargs)


def _container(args: tuple[Any, ...]) -> type | None:
    """The container routed results come back in: None for NumPy's own types."""
    kinds = {type(a) for a in args if isinstance(a, (list, tuple))}
    if not kinds or any(isinstance(a, (np.ndarray, np.generic)) for a in args):
        return None
    return tuple if kinds == {tuple} else list


def check(got: Any, want: Any, args: tuple[Any, ...], context: str) -> None:
    container = _container(args)
    if container is not None:
        if np.ndim(want):
            assert type(got) is container, f"{context}: {type(got).__name__} back"
        g, w = np.asarray(got, dtype=np.asarray(want).dtype), np.asarray(want)
        assert np.asarray(got).dtype.kind == w.dtype.kind or w.size == 0, context
    else:
        assert type(got) is type(want), f"{context}: {type(got)} vs {type(want)}"
        g, w = np.asarray(got), np.asarray(want)
        assert g.dtype == w.dtype, f"{context}: dtype {g.dtype} vs {w.dtype}"
    assert g.shape == w.shape, f"{context}: shape {g.shape} vs {w.shape}"
    if w.dtype.kind in "fc":
        tol = 1e-3 if w.dtype.itemsize <= 4 else 1e-9
        assert np.allclose(g, w, rtol=tol, atol=tol, equal_nan=True), f"{context}: {g} vs {w}"
    else:
        assert np.array_equal(g, w), f"{context}: {g} vs {w}"


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=calls(), which=st.integers(0, len(ROUTERS) - 1), python=st.booleans())
def test_every_op_gives_numpys_answer_under_every_policy_and_profile(
    call: tuple[str, tuple[Any, ...], dict[str, Any]], which: int, python: bool
) -> None:
    op, args, kwargs = call
    router = ROUTERS[which]
    context = f"{op}{tuple(type(a).__name__ for a in args)} {kwargs} on {router!r}"
    try:
        want = _numpy(op, args, kwargs)
    except (TypeError, ValueError, IndexError) as exc:
        raised = (type(exc), RouteError, ValueError, TypeError)
        with pytest.raises(raised), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            router.run(op, *args, **kwargs)
        with pytest.raises(raised), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            getattr(SPACES[which], op)(*args, **kwargs)
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = router.run(op, *args, **kwargs)
        check(got, want, args, context)
        through = getattr(SPACES[which], op)(*args, **kwargs)  # xp.op(...), the same route
        check(through, want, args, context + " (through the namespace)")
        if python:  # the pure-Python backend itself, where it takes the call
            try:
                forced = router.run_on(Backend.PYTHON, op, *args, **kwargs)
            except RouteError as exc:
                assert "cannot run on pure Python" in str(exc), str(exc)
            else:
                check(forced, want, args, context + " (forced to pure Python)")


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
def test_ndarray_subclasses_keep_numpys_semantics() -> None:
    router = Router(policy="seed", gpu=False)  # the table would pick pure Python
    masked = np.ma.array([1, 2, 100], mask=[0, 0, 1])
    assert router.run("sum", masked) == 3
    assert isinstance(router.run("add", masked, masked), np.ma.MaskedArray)
    matrix = np.matrix([[1, 2], [3, 4]])
    assert type(router.run("add", matrix, matrix)) is np.matrix
    scaled = router.run("standard_scale", np.ma.array(np.arange(16.0).reshape(8, 2)))
    assert isinstance(scaled, np.ma.MaskedArray)


def test_float32_sums_overflow_as_in_numpy_and_tuples_stay_tuples() -> None:
    router = Router(policy="seed", gpu=False)
    with np.errstate(over="ignore"):
        assert np.isinf(router.run("sum", np.array([3e38, 3e38, -3e38], np.float32)))
    out = router.run("add", ((1, 2), (3, 4)), ((1, 1), (1, 1)))
    assert out == ((2, 3), (4, 5)) and hash(out)  # hashable: fits frozenset-based code
    assert isinstance(router.run("reshape", np.ones(1), ()), np.ndarray)  # 0-d as NumPy
    rows = [np.array([1.0, 2.0]), np.array([3.0, 4.0])]
    assert router.run("sum", rows) == 10.0  # lists of NumPy rows: NumPy stacks them
