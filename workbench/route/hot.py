"""The hot path: the plan an op's last call ran, bound to that call's signature.

A loop calls one op with operands of one kind over and over. Once a plan with a direct
kernel has run, the router keeps it per op name as a hot call: one closure that checks
the exact operand types, their dtypes and ranks (or, for lists, the type of the first
element) and that the size is in the integer range of the plan's bucket, runs the
kernel and counts it, all in one frame: no signature tuple is built, no dict keyed by
it is looked up. A call that does not match (or whose kernel steps aside) gets MISS
back and goes the usual way (and its plan becomes the hot one).

Matching the types and tags exactly means the call would have found the same plan: the
plan's key is made of where the operands live (read from their types), their ranks and
tags, the size bucket and the parameters (the hot path serves the op's default
parameters only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np

from workbench.route.features import bucket_of
from workbench.route.idioms import SAME_LENGTHS

_NDARRAY = np.ndarray
_LISTS = (list, tuple)
_NUMBERS = (float, int, bool)
MISS: Final = object()  # what a hot call returns when the router's full path must answer
HotCall = Callable[..., Any]
Kernel = Callable[..., Any]
Aside = tuple[type[BaseException], ...]


def bucket_bounds(bucket: int, per_decade: int) -> tuple[int, int]:
    """The integer sizes of a bucket as [lo, hi), found with bucket_of itself, so the
    hot path's range check agrees with the router's bucketing at the edges."""
    if bucket < 0:
        return 0, 1
    lo = max(1, int(10 ** (bucket / per_decade)) - 2)
    while bucket_of(lo, per_decade) < bucket:
        lo += 1
    hi = max(lo + 1, int(10 ** ((bucket + 1) / per_decade)) - 2)
    while bucket_of(hi, per_decade) <= bucket:
        hi += 1
    return lo, hi


def hot_call(
    arrays: Sequence[Any],
    device: Callable[[type], bool],
    bounds: tuple[int, int],
    fast: Kernel,
    cell: list[int],
    aside: Aside,
) -> HotCall | None:
    """The hot call for operands of exactly these types and tags (None where the
    combination has none): one or two exact NumPy (or device) arrays, an array and a
    Python number, one or two flat lists (or tuples) of numbers of one container type.
    It takes as many operands as `arrays` has; the size checked against `bounds` is the
    elements of the largest operand; `cell` is the plan's [decisions, executions]."""
    if len(arrays) == 1:
        return _one(arrays[0], device, bounds, fast, cell, aside)
    if len(arrays) != 2:
        return None
    a, b = arrays
    ta, tb = type(a), type(b)
    if _array_like(ta, device) and _array_like(tb, device):
        return _arrays((ta, a.dtype, a.ndim), (tb, b.dtype, b.ndim), bounds, fast, cell, aside)
    if _array_like(ta, device) and tb in _NUMBERS:
        return _array_number((ta, a.dtype, a.ndim), tb, bounds, fast, cell, aside)
    if ta in _NUMBERS and _array_like(tb, device):
        return _number_array(ta, (tb, b.dtype, b.ndim), bounds, fast, cell, aside)
    if ta is tb and ta in _LISTS and a and b:
        ea, eb = type(a[0]), type(b[0])
        if ea in _NUMBERS and eb in _NUMBERS:
            return _lists(ta, ea, eb, bounds, fast, cell, aside)
    return None


def _array_like(t: type, device: Callable[[type], bool]) -> bool:
    return t is _NDARRAY or device(t)


# The closures below compare dtypes by identity first (NumPy's are cached objects) and by
# equality where that fails (another object of the same dtype), so an equal dtype never
# misses.


def _one(
    a: Any,
    device: Callable[[type], bool],
    bounds: tuple[int, int],
    fast: Kernel,
    cell: list[int],
    aside: Aside,
) -> HotCall | None:
    lo, hi = bounds
    t = type(a)
    if _array_like(t, device):
        dtype, ndim = a.dtype, a.ndim

        def array(x: Any) -> Any:
            if type(x) is t and x.ndim == ndim and lo <= x.size < hi:
                dx = x.dtype
                if dx is dtype or dx == dtype:
                    try:
                        result = fast(x)
                    except aside:
                        return MISS
                    cell[0] += 1
                    cell[1] += 1
                    return result
            return MISS

        return array
    if t in _LISTS and a and type(a[0]) in _NUMBERS:
        leaf = type(a[0])

        def flat(x: Any) -> Any:
            if type(x) is t and lo <= len(x) < hi and type(x[0]) is leaf:
                try:
                    result = fast(x)
                except aside:
                    return MISS
                cell[0] += 1
                cell[1] += 1
                return result
            return MISS

        return flat
    return None


def _arrays(
    first: tuple[Any, Any, int],
    second: tuple[Any, Any, int],
    bounds: tuple[int, int],
    fast: Kernel,
    cell: list[int],
    aside: Aside,
) -> HotCall:
    (ta, da, na), (tb, db, nb), (lo, hi) = first, second, bounds

    def two(x: Any, y: Any) -> Any:
        if type(x) is ta and type(y) is tb and x.ndim == na and y.ndim == nb:
            sx, sy = x.size, y.size
            if lo <= (sx if sx > sy else sy) < hi:
                dx, dy = x.dtype, y.dtype
                if (dx is da or dx == da) and (dy is db or dy == db):
                    try:
                        result = fast(x, y)
                    except aside:
                        return MISS
                    cell[0] += 1
                    cell[1] += 1
                    return result
        return MISS

    return two


def _array_number(
    first: tuple[Any, Any, int],
    tb: Any,
    bounds: tuple[int, int],
    fast: Kernel,
    cell: list[int],
    aside: Aside,
) -> HotCall:
    (ta, da, na), (lo, hi) = first, bounds

    def two(x: Any, y: Any) -> Any:
        if type(x) is ta and type(y) is tb and x.ndim == na and lo <= x.size < hi:
            dx = x.dtype
            if dx is da or dx == da:
                try:
                    result = fast(x, y)
                except aside:
                    return MISS
                cell[0] += 1
                cell[1] += 1
                return result
        return MISS

    return two


def _number_array(
    ta: Any,
    second: tuple[Any, Any, int],
    bounds: tuple[int, int],
    fast: Kernel,
    cell: list[int],
    aside: Aside,
) -> HotCall:
    (tb, db, nb), (lo, hi) = second, bounds

    def two(x: Any, y: Any) -> Any:
        if type(x) is ta and type(y) is tb and y.ndim == nb and lo <= y.size < hi:
            dy = y.dtype
            if dy is db or dy == db:
                try:
                    result = fast(x, y)
                except aside:
                    return MISS
                cell[0] += 1
                cell[1] += 1
                return result
        return MISS

    return two


def _lists(
    t: Any,
    ea: Any,
    eb: Any,
    bounds: tuple[int, int],
    fast: Kernel,
    cell: list[int],
    aside: Aside,
) -> HotCall:
    lo, hi = bounds
    same = SAME_LENGTHS.get(fast)
    if same is not None:  # a kernel whose only check is equal lengths: checked here
        return _same_lists(t, ea, eb, bounds, same, cell, aside)

    def two(x: Any, y: Any) -> Any:
        if type(x) is t and type(y) is t:
            nx, ny = len(x), len(y)
            if (
                lo <= (nx if nx > ny else ny) < hi
                and nx
                and ny
                and type(x[0]) is ea
                and type(y[0]) is eb
            ):
                try:
                    result = fast(x, y)
                except aside:
                    return MISS
                cell[0] += 1
                cell[1] += 1
                return result
        return MISS

    return two


def _same_lists(
    t: Any,
    ea: Any,
    eb: Any,
    bounds: tuple[int, int],
    fast: Kernel,
    cell: list[int],
    aside: Aside,
) -> HotCall:
    lo, hi = bounds

    def two(x: Any, y: Any) -> Any:
        if type(x) is t and type(y) is t:
            n = len(x)
            if lo <= n < hi and n == len(y) and type(x[0]) is ea and type(y[0]) is eb:
                try:
                    result = fast(x, y)
                except aside:
                    return MISS
                cell[0] += 1
                cell[1] += 1
                return result
        return MISS

    return two
