"""The pure-Python experts as a competent user writes them: comprehensions over zip, the
built-in sum, max and min, zip(*rows) for columns.

Each kernel takes the operands as given (flat or nested lists or tuples of Python
numbers, the element type read once from the first element and cached with the call's
signature) and returns the same kind of container (tuples in, tuples out). Where Python
and NumPy disagree they do what NumPy does: integer results wrap as int64 (checked on
the result, only for integer elements), max and min return NaN when a NaN is present
(checked with one sum), mean of nothing is NaN. A kernel raises Unsupported where it
cannot match NumPy (division by zero, sqrt of a negative, an exp that overflows, an
element of another type); the router then runs the general kernels, or NumPy.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from workbench.errors import RouteError

Kernel = Callable[..., Any]
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


class Unsupported(RouteError):
    """This backend cannot compute this call exactly; the router moves to the next one."""


def _wrap(value: Any) -> Any:
    """An integer total as it is, when it fits int64; else Unsupported (NumPy wraps it,
    or works with Python objects when an input did not fit: the general kernels know)."""
    if not _I64_MIN <= value <= _I64_MAX:
        raise Unsupported("an integer result beyond int64: NumPy wraps it or keeps objects")
    return value


def _wrap_all(values: list[Any]) -> list[Any]:
    """Integer results as they are when all fit int64 (checked with max and min)."""
    if values and (max(values) > _I64_MAX or min(values) < _I64_MIN):
        raise Unsupported("integer results beyond int64: NumPy wraps them or keeps objects")
    return values


def _pack(values: list[Any], like: type) -> Any:
    return values if like is list else tuple(values)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
}


def binary(name: str, kind: type, ndim: int, like: type) -> Kernel | None:
    """a OP b for two same-shape 1-D or 2-D lists of `kind` (float or int)."""
    if kind is bool or ndim not in (1, 2):
        return None
    if name in _BINARY:
        fn, wrap = _BINARY[name], kind is int
    elif name in ("maximum", "minimum") and kind is int:  # floats: NaN must win, as in NumPy
        fn, wrap = (max if name == "maximum" else min), False
    elif name == "divide":
        fn, wrap = operator.truediv, False
    else:
        return None
    one = _one_d(name, fn)
    if ndim == 1:
        if like is list and not wrap:
            if name in _FLAT:
                return _FLAT[name]  # the comprehension in the checking frame: one call less

            def flat(a: Any, b: Any) -> Any:
                if len(a) != len(b):
                    raise Unsupported("shapes differ: broadcasting is for the general kernels")
                return one(a, b)

            return flat

        def packed(a: Any, b: Any) -> Any:
            if len(a) != len(b):
                raise Unsupported("shapes differ: broadcasting is for the general kernels")
            values = one(a, b)
            return _pack(_wrap_all(values) if wrap else values, like)

        return packed

    def two(a: Any, b: Any) -> Any:
        if len(a) != len(b) or len(a[0]) != len(b[0]):
            raise Unsupported("shapes differ: broadcasting is for the general kernels")
        width = len(a[0])
        rows = [
            one(r, s) if len(r) == width == len(s) else _ragged() for r, s in zip(a, b, strict=True)
        ]
        if wrap:
            rows = [_wrap_all(r) for r in rows]
        return _pack([_pack(r, like) for r in rows], like)

    return two


def _add(a: Any, b: Any) -> list[Any]:
    if len(a) != len(b):
        raise Unsupported("shapes differ: broadcasting is for the general kernels")
    return [x + y for x, y in zip(a, b)]  # noqa: B905


def _subtract(a: Any, b: Any) -> list[Any]:
    if len(a) != len(b):
        raise Unsupported("shapes differ: broadcasting is for the general kernels")
    return [x - y for x, y in zip(a, b)]  # noqa: B905


def _multiply(a: Any, b: Any) -> list[Any]:
    if len(a) != len(b):
        raise Unsupported("shapes differ: broadcasting is for the general kernels")
    return [x * y for x, y in zip(a, b)]  # noqa: B905


_FLAT: dict[str, Kernel] = {"add": _add, "subtract": _subtract, "multiply": _multiply}
# The same comprehensions for callers that have checked the lengths are equal (hot.py).
SAME_LENGTHS: dict[Kernel, Kernel] = {
    _add: lambda a, b: [x + y for x, y in zip(a, b)],  # noqa: B905
    _subtract: lambda a, b: [x - y for x, y in zip(a, b)],  # noqa: B905
    _multiply: lambda a, b: [x * y for x, y in zip(a, b)],  # noqa: B905
}


def _ragged() -> list[Any]:
    raise ValueError("rows of different lengths: NumPy refuses an inhomogeneous shape")


def _one_d(name: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], list[Any]]:
    """One row: the caller has checked the lengths (zip as a user writes it)."""
    if name == "add":
        return lambda a, b: [x + y for x, y in zip(a, b)]  # noqa: B905
    if name == "subtract":
        return lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: B905
    if name == "multiply":
        return lambda a, b: [x * y for x, y in zip(a, b)]  # noqa: B905

    def general(a: Any, b: Any) -> list[Any]:
        try:
            return [fn(x, y) for x, y in zip(a, b)]  # noqa: B905
        except ZeroDivisionError:
            raise Unsupported("division by zero: NumPy gives inf or NaN") from None

    return general


def scalar(
    name: str, kind: type, other: type, ndim: int, like: type, flipped: bool
) -> Kernel | None:
    """a OP s (or s OP a when `flipped`) for a 1-D list of `kind` and a Python number."""
    if kind is bool or ndim != 1 or name not in _BINARY or other not in (int, float):
        return None
    one: Callable[[Any, Any], list[Any]]
    if name == "add":
        one = lambda a, s: [x + s for x in a]  # noqa: E731
    elif name == "multiply":
        one = lambda a, s: [x * s for x in a]  # noqa: E731
    elif flipped:
        one = lambda a, s: [s - x for x in a]  # noqa: E731
    else:
        one = lambda a, s: [x - s for x in a]  # noqa: E731
    if kind is int and other is int:
        return lambda a, s: _pack(_wrap_all(one(a, s)), like)
    return lambda a, s: _pack(one(a, s), like)


def unary(name: str, kind: type, ndim: int, like: type) -> Kernel | None:
    """-a, abs(a), a * a, sqrt(a), exp(a) of a 1-D list."""
    if ndim != 1 or kind is bool:
        return None
    if name == "negative":
        if kind is int:
            return lambda a: _pack(_wrap_all([-x for x in a]), like)
        return lambda a: _pack([-x for x in a], like)
    if name == "absolute":
        if kind is int:
            return lambda a: _pack(_wrap_all([abs(x) for x in a]), like)
        return lambda a: _pack([abs(x) for x in a], like)
    if name == "square":
        if kind is int:
            return lambda a: _pack(_wrap_all([x * x for x in a]), like)
        return lambda a: _pack([x * x for x in a], like)
    if name in ("sqrt", "exp"):
        fn = math.sqrt if name == "sqrt" else math.exp

        def kernel(a: Any) -> Any:
            try:
                return _pack([fn(x) for x in a], like)
            except (ValueError, OverflowError):
                raise Unsupported(
                    f"{name} outside Python's domain: NumPy gives NaN or inf"
                ) from None

        return kernel
    return None


def _nan_max(a: Any) -> Any:
    total = sum(a)  # NaN when a NaN is present (or inf - inf: then look element by element)
    if total != total and any(x != x for x in a):
        return math.nan
    return max(a)


def _nan_min(a: Any) -> Any:
    total = sum(a)
    if total != total and any(x != x for x in a):
        return math.nan
    return min(a)


def _mean(a: Any) -> float:
    if not a:
        raise Unsupported("the mean of nothing: NumPy gives NaN with a warning")
    return float(sum(a) / len(a))


def reduction(name: str, kind: type, ndim: int) -> Kernel | None:
    """sum, mean, max, min of all elements of a 1-D list."""
    if ndim != 1:
        return None
    if name == "sum":
        if kind is float:
            return sum
        return lambda a: _wrap(sum(a)) if kind is int else sum(a)
    if name == "mean":
        return _mean
    if name in ("max", "min"):
        if kind is float:
            return _nan_max if name == "max" else _nan_min
        return _checked(max if name == "max" else min)
    return None


def _checked(fn: Callable[[Any], Any]) -> Kernel:
    def kernel(a: Any) -> Any:
        if not a:
            raise ValueError("zero-size array to reduction operation which has no identity")
        return fn(a)

    return kernel


def vdot(kind: type) -> Kernel | None:
    """The dot product of two 1-D lists."""
    if kind is bool:
        return None
    mul = operator.mul
    if kind is int:
        return lambda a, b: _wrap(sum(map(mul, a, b)))
    return lambda a, b: sum(map(mul, a, b))


def matmul(kind: type, like: type) -> Kernel | None:
    """a @ b for 2-D lists: each row against each column (zip(*b))."""
    if kind is bool:
        return None
    mul = operator.mul

    def kernel(a: Any, b: Any) -> Any:
        columns = list(zip(*b, strict=True))
        if a and len(a[0]) != len(columns[0] if columns else ()):
            raise ValueError("matmul: the inner dimensions do not match")
        rows = [[sum(map(mul, row, col)) for col in columns] for row in a]
        if kind is int:
            rows = [_wrap_all(r) for r in rows]
        return _pack([_pack(r, like) for r in rows], like)

    return kernel


def transpose(like: type) -> Kernel:
    """Rows and columns of a 2-D list swapped."""
    if like is list:
        return lambda a: [list(col) for col in zip(*a, strict=True)]
    return lambda a: tuple(zip(*a, strict=True))


def standard_scale(like: type) -> Kernel:
    """(x - column mean) / column std of a 2-D list of floats, per column."""
    sqrt = math.sqrt

    def kernel(x: Any) -> Any:
        n = len(x)
        scaled = []
        for col in zip(*x, strict=True):
            mean = sum(col) / n
            centred = [v - mean for v in col]
            std = sqrt(sum(c * c for c in centred) / n)
            if not std:
                raise Unsupported("a constant column: NumPy divides by zero std (NaN)")
            scaled.append([c / std for c in centred])
        return _pack([_pack(list(row), like) for row in zip(*scaled, strict=True)], like)

    return kernel


def kernel_for(
    name: str, kinds: tuple[type, ...], ndims: tuple[int, ...], like: type
) -> Kernel | None:
    """The idiomatic kernel for op `name` on operands of these element kinds (float,
    int, bool; a Python number's own type for a scalar operand) and ranks (0 for a
    scalar), or None where there is none (the general kernels run)."""
    if len(kinds) == 2 and name in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
        (ka, kb), (na, nb) = kinds, ndims
        if na and nb:
            return binary(name, ka, na, like) if ka is kb and na == nb else None
        if na and not nb:
            return scalar(name, ka, kb, na, like, flipped=False)
        if nb and not na:
            fn = scalar(name, kb, ka, nb, like, flipped=True)
            return None if fn is None else (lambda s, a: fn(a, s))
        return None
    if len(kinds) == 1:
        kind, ndim = kinds[0], ndims[0]
        if name in ("negative", "absolute", "square", "sqrt", "exp"):
            return unary(name, kind, ndim, like)
        if name in ("sum", "mean", "max", "min"):
            return reduction(name, kind, ndim)
        if name == "transpose" and ndim == 2:
            return transpose(like)
        if name == "standard_scale" and ndim == 2 and kind is float:
            return standard_scale(like)
        return None
    if name == "vdot" and ndims == (1, 1) and kinds[0] is kinds[1]:
        return vdot(kinds[0])
    if name in ("matmul", "dot") and ndims == (2, 2) and kinds[0] is kinds[1]:
        return matmul(kinds[0], like)
    return None
