"""The pure-Python kernels (the seeds' "Scalar" backend).

An array here is a flat row-major list of Python numbers and a shape. The kernels compute
with Python ints and floats; :mod:`workbench.route.backends` casts the result to the dtype
NumPy would give (wrapping integers, rounding floats), so both agree.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np

from workbench.route import shapes as sh

PyArray = tuple[list[Any], sh.Shape]
Kernel = Callable[[Sequence[PyArray], sh.Params, bool], PyArray]

NAN = float("nan")
INF = float("inf")


def strides(shape: sh.Shape) -> list[int]:
    """Row-major strides, in elements."""
    out = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        out[i] = out[i + 1] * shape[i + 1]
    return out


def expand(flat: list[Any], shape: sh.Shape, out: sh.Shape) -> list[Any]:
    """The elements of `flat` broadcast to shape `out`, row-major."""
    if shape == out:
        return flat
    if not shape:
        return flat * sh.size_of(out)
    padded = (1,) * (len(out) - len(shape)) + shape
    steps = strides(padded)
    index = [0]
    for dim, size, step in zip(padded, out, steps, strict=False):
        step = step if dim == size else 0
        index = [i + j * step for i in index for j in range(size)]
    return [flat[i] for i in index]


def permute(flat: list[Any], shape: sh.Shape, perm: Sequence[int]) -> PyArray:
    """Axes of an array reordered (a copy), like ``np.transpose(a, perm)``."""
    steps = strides(shape)
    index = [0]
    for p in perm:
        step = steps[p]
        index = [i + j * step for i in index for j in range(shape[p])]
    return [flat[i] for i in index], tuple(shape[p] for p in perm)


def groups(flat: list[Any], shape: sh.Shape, axis: int | None) -> tuple[list[list[Any]], sh.Shape]:
    """The runs of elements a reduction combines, and the shape of its result."""
    if axis is None:
        return [flat], ()
    outer = math.prod(shape[:axis])
    n = shape[axis]
    inner = math.prod(shape[axis + 1 :])
    span = n * inner
    runs = [
        flat[o * span + i : o * span + i + span : inner] for o in range(outer) for i in range(inner)
    ]
    return runs, shape[:axis] + shape[axis + 1 :]


# Elementwise functions with NumPy's answers where Python would raise or differ.


def _divide(x: Any, y: Any) -> float:
    a, b = float(x), float(y)
    if b:
        return a / b
    if a != a or a == 0:
        return NAN
    return math.copysign(INF, a) * math.copysign(1.0, b)


def _maximum(x: Any, y: Any) -> Any:
    return x if (x >= y or x != x) else y


def _minimum(x: Any, y: Any) -> Any:
    return x if (x <= y or x != x) else y


def _sqrt(x: Any) -> float:
    return math.sqrt(x) if x >= 0 else NAN


def _exp(x: Any) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def _square(x: Any) -> Any:
    return x * x


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": _divide,
    "maximum": _maximum,
    "minimum": _minimum,
}
UNARY: dict[str, Callable[[Any], Any]] = {
    "negative": operator.neg,
    "absolute": abs,
    "square": _square,
    "sqrt": _sqrt,
    "exp": _exp,
}


def binary(name: str) -> Kernel:
    """An elementwise kernel of two arrays, with broadcasting."""
    fn = BINARY[name]

    def kernel(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
        (fa, sa), (fb, sb) = arrays
        if sa == sb:
            return list(map(fn, fa, fb)), sa
        out = sh.elementwise([sa, sb], params, name).out_shape
        return list(map(fn, expand(fa, sa, out), expand(fb, sb, out))), out

    return kernel


def unary(name: str) -> Kernel:
    """An elementwise kernel of one array."""
    fn = UNARY[name]

    def kernel(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
        flat, shape = arrays[0]
        return list(map(fn, flat)), shape

    return kernel


def _has_nan(run: list[Any]) -> bool:
    return any(x != x for x in run)


def _max(run: list[Any], floaty: bool) -> Any:
    return NAN if floaty and _has_nan(run) else max(run)


def _min(run: list[Any], floaty: bool) -> Any:
    return NAN if floaty and _has_nan(run) else min(run)


def _argmax(run: list[Any], floaty: bool) -> int:
    if floaty and _has_nan(run):
        return next(i for i, x in enumerate(run) if x != x)
    return run.index(max(run))


def _argmin(run: list[Any], floaty: bool) -> int:
    if floaty and _has_nan(run):
        return next(i for i, x in enumerate(run) if x != x)
    return run.index(min(run))


def _mean(run: list[Any], floaty: bool) -> float:
    return sum(run) / len(run) if run else NAN


REDUCERS: dict[str, Callable[[list[Any], bool], Any]] = {
    "sum": lambda run, floaty: sum(run),
    "prod": lambda run, floaty: math.prod(run),
    "mean": _mean,
    "max": _max,
    "min": _min,
    "argmax": _argmax,
    "argmin": _argmin,
}


def reduction(name: str) -> Kernel:
    """A reduction over all elements or one axis."""
    fn = REDUCERS[name]

    def kernel(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
        flat, shape = arrays[0]
        axis = sh.normalize_axis(params.get("axis"), len(shape), name)
        runs, out = groups(flat, shape, axis)
        return [fn(run, floaty) for run in runs], out

    return kernel


def _matmul2(fa: list[Any], n: int, k: int, fb: list[Any], m: int) -> list[Any]:
    rows = [fa[i * k : (i + 1) * k] for i in range(n)]
    cols = [fb[j::m] for j in range(m)] if m > 1 else [fb]
    mul = operator.mul
    return [sum(map(mul, row, col)) for row in rows for col in cols]


def matmul(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
    """matmul and dot of 1-D and 2-D operands (0-d operands of dot multiply)."""
    (fa, sa), (fb, sb) = arrays
    if not sa or not sb:
        return binary("multiply")(arrays, params, floaty)
    out = sh.matmul([sa, sb], params, "matmul").out_shape
    n, k = sa if len(sa) == 2 else (1, sa[0])
    m = sb[1] if len(sb) == 2 else 1
    return _matmul2(fa, n, k, fb, m), out


def vdot(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
    """The dot product of two flattened arrays."""
    (fa, _), (fb, _) = arrays
    return [sum(map(operator.mul, fa, fb))], ()


def tensordot(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
    """tensordot as a transpose, then a matrix product."""
    (fa, sa), (fb, sb) = arrays
    sum_a, sum_b = sh.tensordot_axes(sa, sb, params.get("axes", 2))
    free_a = [i for i in range(len(sa)) if i not in sum_a]
    free_b = [i for i in range(len(sb)) if i not in sum_b]
    pa, _ = permute(fa, sa, free_a + list(sum_a))
    pb, _ = permute(fb, sb, list(sum_b) + free_b)
    n = math.prod(sa[i] for i in free_a)
    k = math.prod(sa[i] for i in sum_a)
    m = math.prod(sb[i] for i in free_b)
    out = tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b)
    return _matmul2(pa, n, k, pb, m), out


def convolve(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
    """Direct 1-D convolution, with NumPy's 'full', 'same' and 'valid' modes."""
    (fa, _), (fv, _) = arrays
    if len(fv) > len(fa):
        fa, fv = fv, fa
    n, m = len(fa), len(fv)
    rv = fv[::-1]
    mul = operator.mul
    full = []
    for k in range(n + m - 1):
        lo, hi = max(0, k - m + 1), min(n, k + 1)
        full.append(sum(map(mul, fa[lo:hi], rv[m - 1 - k + lo : m - 1 - k + hi])))
    mode = params.get("mode", "full")
    if mode == "same":
        start = (m - 1) // 2
        return full[start : start + n], (n,)
    if mode == "valid":
        return full[m - 1 : n], (n - m + 1,)
    return full, (n + m - 1,)


def einsum(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
    """einsum without ellipsis: a loop over every output index and summed index."""
    shapes_in = [shape for _, shape in arrays]
    spec = sh.parse_einsum(params["subscripts"], len(arrays))
    if spec is None:
        raise ValueError("the pure-Python einsum does not handle '...'")
    dims = sh.einsum_dims(spec, shapes_in)
    summed = [c for c in dict.fromkeys("".join(spec.inputs)) if c not in spec.output]
    letter_steps = []
    for term, shape in zip(spec.inputs, shapes_in, strict=False):
        steps: dict[str, int] = {}
        for letter, step in zip(term, strides(shape), strict=False):
            steps[letter] = steps.get(letter, 0) + step
        letter_steps.append(steps)
    sum_offsets = [
        [
            sum(st.get(c, 0) * i for c, i in zip(summed, combo, strict=False))
            for combo in product(*(range(dims[c]) for c in summed))
        ]
        for st in letter_steps
    ]
    flats = [flat for flat, _ in arrays]
    out = []
    for combo in product(*(range(dims[c]) for c in spec.output)):
        bases = [
            sum(st.get(c, 0) * i for c, i in zip(spec.output, combo, strict=False))
            for st in letter_steps
        ]
        values = [
            [f[b + o] for o in offs] for f, b, offs in zip(flats, bases, sum_offsets, strict=False)
        ]
        if len(values) == 1:
            out.append(sum(values[0]))
        elif len(values) == 2:
            out.append(sum(map(operator.mul, values[0], values[1])))
        else:
            out.append(sum(map(math.prod, zip(*values, strict=False))))
    return out, tuple(dims[c] for c in spec.output)


def reshape(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
    """The same elements under a new shape."""
    flat, _ = arrays[0]
    return list(flat), sh.reshape_shape(len(flat), params["shape"])


def transpose(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
    """Axes reversed, or permuted by `axes`."""
    flat, shape = arrays[0]
    return permute(flat, shape, sh.transpose_axes(len(shape), params.get("axes")))


def standard_scale(arrays: Sequence[PyArray], params: sh.Params, floaty: bool) -> PyArray:
    """(x - column mean) / column standard deviation (population, as NumPy's std)."""
    flat, shape = arrays[0]
    rows, cols = shape
    out = [0.0] * len(flat)
    for j in range(cols):
        column = flat[j::cols]
        mean = sum(column) / rows
        std = math.sqrt(sum((x - mean) * (x - mean) for x in column) / rows)
        out[j::cols] = [_divide(x - mean, std) for x in column]
    return out, shape


KERNELS: dict[str, Kernel] = {
    **{name: binary(name) for name in BINARY},
    **{name: unary(name) for name in UNARY},
    **{name: reduction(name) for name in REDUCERS},
    "matmul": matmul,
    "dot": matmul,
    "vdot": vdot,
    "tensordot": tensordot,
    "convolve": convolve,
    "einsum": einsum,
    "reshape": reshape,
    "transpose": transpose,
    "standard_scale": standard_scale,
}

# dtype kinds the pure-Python kernels compute exactly as NumPy does (after the cast back).
PYTHON_KINDS = frozenset("biuf")
# Ops whose pure-Python kernels handle only some shapes or subscripts (python_limits).
LIMITED = frozenset({"matmul", "dot", "einsum"})
# Ops that, on non-empty 1-D lists of floats, return floats (or indices) exactly as NumPy:
# they take the fast path, with no dtype probe and no cast back.
FLOAT_CLOSED = frozenset({*BINARY, *UNARY, *REDUCERS, "vdot", "convolve"})


def python_limits(name: str, shapes_in: Sequence[sh.Shape], params: sh.Params) -> str | None:
    """Why the pure-Python kernels cannot run this call, or None when they can."""
    if name in ("matmul", "dot") and any(len(s) > 2 for s in shapes_in):
        return f"the pure-Python {name} handles 1-D and 2-D operands only"
    if name == "einsum":
        try:
            spec = sh.parse_einsum(params["subscripts"], len(shapes_in))
        except ValueError as exc:
            return str(exc)
        if spec is None:
            return "the pure-Python einsum does not handle '...' subscripts"
    return None


def cast_flat(flat: list[Any], dtype: np.dtype[Any]) -> list[Any]:
    """Python numbers NumPy would store for `flat` in `dtype`: integers wrap, floats round."""
    kind = dtype.kind
    types = set(map(type, flat))
    if kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = int(info.min), int(info.max)
        if flat and (min(flat) < lo or max(flat) > hi):
            span = hi - lo + 1
            return [(int(x) - lo) % span + lo for x in flat]
        return flat if types <= {int} else list(map(int, flat))
    if kind == "b":
        return flat if types <= {bool} else list(map(bool, flat))
    if kind == "f" and dtype.itemsize < 8:
        with np.errstate(over="ignore"):
            values: list[Any] = np.asarray(flat, dtype=dtype).tolist()
        return values
    if kind == "f":
        return flat if types <= {float} else list(map(float, flat))
    return flat
