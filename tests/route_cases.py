"""Random calls of every runnable router op, over odd shapes and dtypes, and a comparison
of any backend's result with NumPy's (shared by the CPU and GPU router tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

DTYPES = ("float64", "float32", "float16", "int8", "int32", "int64", "uint8", "uint16", "bool")

Case = tuple[str, tuple[Any, ...], dict[str, Any]]


def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Random values of `dtype`: normals for floats, small ints, coin flips for bool."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind == "u":
        return rng.integers(0, 200, shape).astype(dt)
    return rng.integers(-100, 100, shape).astype(dt)


def cases(rng: np.random.Generator, dtypes: tuple[str, ...] = DTYPES) -> Iterator[Case]:
    """Calls of every runnable op: broadcasting, empty, 0-d, non-contiguous, axes, modes."""
    binary_shapes = [
        ((5,), (5,)),
        ((3, 4), (4,)),
        ((3, 1), (1, 4)),
        ((2, 3, 4), (3, 4)),
        ((0,), (0,)),
        ((), (7,)),
    ]
    for op in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
        for i, d1 in enumerate(dtypes):
            d2 = dtypes[(i * 5 + 1) % len(dtypes)]  # pairs of different dtypes, rotating
            for sa, sb in binary_shapes:
                yield op, (make(rng, sa, d1), make(rng, sb, d2)), {}
                yield op, (make(rng, sa, d1), make(rng, sb, d1)), {}
        yield op, (make(rng, (4,), "float64"), 2.5), {}
        yield op, (make(rng, (4,), "int8"), 3), {}
    for op in ("negative", "absolute", "square", "sqrt", "exp"):
        for d in dtypes:
            for shape in ((5,), (2, 3), (), (0,)):
                yield op, (make(rng, shape, d),), {}
    for op in ("sum", "mean", "max", "min", "prod", "argmax", "argmin"):
        for d in dtypes:
            for shape, axis in (
                ((7,), None),
                ((3, 4), 0),
                ((3, 4), 1),
                ((2, 3, 4), -1),
                ((), None),
            ):
                yield op, (make(rng, shape, d),), {"axis": axis}
        nan = make(rng, (6,), "float64")
        nan[2] = np.nan
        yield op, (nan,), {}
    for op in ("matmul", "dot"):
        for i, d1 in enumerate(dtypes):
            d2 = dtypes[(i + 3) % len(dtypes)]
            for sa, sb in (
                ((3, 4), (4, 5)),
                ((4,), (4, 5)),
                ((3, 4), (4,)),
                ((4,), (4,)),
                ((0, 3), (3, 2)),
                ((3, 0), (0, 2)),
            ):
                yield op, (make(rng, sa, d1), make(rng, sb, d2)), {}
    for d in dtypes:
        yield "vdot", (make(rng, (3, 4), d), make(rng, (12,), d)), {}
        yield "tensordot", (make(rng, (2, 3, 4), d), make(rng, (3, 4, 5), d)), {}
        yield "tensordot", (make(rng, (2, 3), d), make(rng, (3, 2), d)), {"axes": 1}
        yield "tensordot", (make(rng, (3, 2), d), make(rng, (2, 3), d)), {"axes": ((1, 0), (0, 1))}
        for mode in ("full", "same", "valid"):
            for la, lv in ((7, 3), (3, 7), (5, 5), (1, 4)):
                yield "convolve", (make(rng, (la,), d), make(rng, (lv,), d)), {"mode": mode}
        for sub, shapes in (
            ("ij,jk->ik", [(2, 3), (3, 4)]),
            ("ij,jk", [(2, 3), (3, 4)]),
            ("ii->i", [(3, 3)]),
            ("ij->ji", [(2, 3)]),
            ("i,i->", [(4,), (4,)]),
            ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]),
        ):
            yield "einsum", (sub, *[make(rng, s, d) for s in shapes]), {}
        yield "reshape", (make(rng, (3, 4), d), (2, -1)), {}
        yield "transpose", (make(rng, (2, 3, 4), d),), {"axes": (1, 0, 2)}
        if d != "bool":
            yield "standard_scale", (make(rng, (5, 3), d),), {}
    t = make(rng, (3, 4), "float64").T  # non-contiguous
    yield "add", (t, t), {}
    yield "matmul", (t, t.T), {}


def assert_same(got: Any, ref: Any, context: str) -> None:
    """`got` equals NumPy's `ref`: same type of container, dtype, shape, and values (floats
    within a tolerance that suits their precision; NaN and inf where NumPy has them)."""
    assert type(got) is type(ref), f"{context}: type {type(got)} != {type(ref)}"
    g, r = np.asarray(got), np.asarray(ref)
    assert g.dtype == r.dtype, f"{context}: dtype {g.dtype} != {r.dtype}"
    assert g.shape == r.shape, f"{context}: shape {g.shape} != {r.shape}"
    if r.dtype.kind != "f":
        assert np.array_equal(g, r), f"{context}: {g.ravel()[:6]} != {r.ravel()[:6]}"
        return
    g64, r64 = g.astype(np.float64), r.astype(np.float64)
    assert np.array_equal(np.isnan(g64), np.isnan(r64)), f"{context}: NaN positions differ"
    assert np.array_equal(np.isinf(g64), np.isinf(r64)), f"{context}: inf positions differ"
    finite = np.isfinite(r64)
    scale = max(1.0, float(np.abs(r64[finite]).max()) if finite.any() else 1.0)
    tol = {2: 2e-2, 4: 1e-4, 8: 1e-10}[r.dtype.itemsize]
    assert np.allclose(g64[finite], r64[finite], rtol=tol, atol=tol * scale), (
        f"{context}: {g.ravel()[:6]} != {r.ravel()[:6]}"
    )


def numpy_reference(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The op called on NumPy directly: exactly what NumPy returns (its scalars, and the
    0-d arrays it gives for reshape, transpose and tensordot)."""
    if op == "standard_scale":  # scikit-learn's StandardScaler, written out in NumPy
        x = np.asarray(args[0])
        return (x - x.mean(axis=0)) / x.std(axis=0)
    return getattr(np, op)(*args, **kwargs)
