"""What a gate reads from a call: its size, its size bucket, and where its arrays live.

The default size of a call is the number of elements of its array arguments: NumPy and
CuPy arrays (``.size``), pandas objects, and nested lists or tuples (counted along their
first elements, so a list of 1,000 rows of 30 counts 30,000 without reading them all).
Numbers, strings and other objects count nothing. Buckets are log-spaced: with 4 per
decade, bucket 8 holds sizes 100 to 177, bucket 9 177 to 316, and so on.
"""

from __future__ import annotations

import math
import types
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from workbench import gpu
from workbench.errors import RouteError

HOST, DEVICE = "host", "device"
_NDARRAY = np.ndarray
_SCALARS = frozenset({int, float, bool, complex, str, bytes, type(None)})
_ARRAY_MODULES = ("numpy", "cupy", "cupyx", "pandas", "torch", "jax")


class ExpertError(RouteError):
    """A gated function was given or built something it cannot use: a size function that
    raises or returns a non-number, generator arguments, bad expert names or options."""


def nested_len(value: list[Any] | tuple[Any, ...]) -> int:
    """Elements of a nested list or tuple, read along its first elements."""
    n = len(value)
    item: Any = value
    while n:
        item = item[0]
        t = type(item)
        if t is list or t is tuple:
            n *= len(item)
            if not item:
                return 0
        elif t is _NDARRAY:
            return n * int(item.size)
        else:
            return n
    return n


def elements(value: Any) -> int:
    """The elements one argument counts for (0 for numbers, text and plain objects)."""
    t = type(value)
    if t is _NDARRAY:
        return int(value.size)
    if t is list or t is tuple:
        return nested_len(value) if value else 0
    if t in _SCALARS:
        return 0
    if isinstance(value, (types.GeneratorType, Iterator)):
        raise generator_error(value)
    if t.__module__.partition(".")[0] in _ARRAY_MODULES:
        size = getattr(value, "size", None)
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            return int(size)
    return 0


def default_size(*args: Any, **kwargs: Any) -> int:
    """The default gate feature: elements of every array argument, summed."""
    n = 0
    for a in args:
        t = type(a)
        if t is _NDARRAY:
            n += a.size
        elif t is list or t is tuple:
            if a:
                n += nested_len(a)
        elif t not in _SCALARS:
            n += elements(a)
    if kwargs:
        for a in kwargs.values():
            n += elements(a)
    return n


def generator_error(value: Any) -> ExpertError:
    return ExpertError(
        f"an argument is a {type(value).__name__} (a generator or iterator): each expert "
        "would consume it, and the gate may run more than one expert on a call while it "
        "learns. Pass a list or tuple instead (list(...) it first)"
    )


def check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """ExpertError for generator or iterator arguments (checked while learning)."""
    for a in (*args, *kwargs.values()):
        if isinstance(a, (types.GeneratorType, Iterator)) and not isinstance(a, (str, bytes)):
            raise generator_error(a)


def checked_size(value: Any, name: str) -> float:
    """A size function's answer as a number >= 0; ExpertError naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ExpertError(
            f"the size function {name} returned {value!r} ({type(value).__name__}), not a "
            "number: it must return how big the call is (elements, rows, cells), e.g. "
            "size=lambda grid, *rest: len(grid) * len(grid[0])"
        )
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ExpertError(
            f"the size function {name} returned {value!r}: a size must be a finite number >= 0"
        )
    return number


def bucket_of(size: float, per_decade: int) -> int:
    """The log-spaced bucket of a size (-1 for sizes below 1)."""
    if size < 1:
        return -1
    return math.floor(math.log10(size) * per_decade + 1e-9)


def bucket_range(index: int, per_decade: int) -> tuple[float, float]:
    """The sizes a bucket holds: [low, high)."""
    if index < 0:
        return 0.0, 1.0
    return 10 ** (index / per_decade), 10 ** ((index + 1) / per_decade)


def bucket_center(index: int, per_decade: int) -> float:
    """The geometric middle of a bucket (0.5 for the bucket below 1)."""
    if index < 0:
        return 0.5
    return float(10 ** ((index + 0.5) / per_decade))


def bucket_label(index: int, per_decade: int) -> str:
    """'100-177' for a bucket's sizes."""
    low, high = bucket_range(index, per_decade)
    return f"{_short(low)}-{_short(high)}"


def _short(value: float) -> str:
    if value < 1:
        return "0"
    if value >= 1e6:
        return f"{value:.3g}"
    return f"{value:,.0f}"


def on_device(args: tuple[Any, ...], kwargs: Mapping[str, Any], seen: dict[type, bool]) -> bool:
    """True when any argument (or an item of a list or tuple argument) is a CuPy array;
    `seen` caches the answer per type."""
    for a in (*args, *kwargs.values()) if kwargs else args:
        t = type(a)
        hit = seen.get(t)
        if hit is None:
            hit = seen[t] = gpu.is_device_type(t)
        if hit:
            return True
        if (t is list or t is tuple) and a:
            first = type(a[0])
            inner = seen.get(first)
            if inner is None:
                inner = seen[first] = gpu.is_device_type(first)
            if inner:
                return True
    return False
