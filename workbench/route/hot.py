"""The hot path: the plan an op's last call ran, bound to that call's signature.

A loop calls one op with operands of one kind over and over. Once a plan with a direct
kernel has run, the router keeps it per op name as a `Hot`: the exact operand types, their
dtype objects and ranks (or, for lists, the type of the first element) and the integer
sizes of the plan's bucket. A later call whose operands match runs the kernel after a
few identity checks: no signature tuple is built, no dict keyed by it is looked up. A
call that does not match goes the usual way (and becomes the hot one).

Matching the types and tags exactly means the call would have found the same plan: the
plan's key is made of where the operands live (read from their types), their ranks and
tags, the size bucket and the parameters (the hot path serves the op's default
parameters only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from workbench.route.features import bucket_of

_NDARRAY = np.ndarray
_LISTS = (list, tuple)
_NUMBERS = (float, int, bool)
Match = Callable[..., int]


class Hot:
    """One op's hot plan: `match(*operands)` gives the call's size when the operands have
    the plan's signature (else -1), `lo <= size < hi` is the plan's bucket; `fast` is the
    kernel, `cell` the plan's [decisions, executions] counters and `aside` the exceptions
    on which the kernel steps aside for the router's full path."""

    __slots__ = ("arity", "aside", "cell", "fast", "hi", "lo", "match")

    def __init__(
        self,
        match: Match,
        arity: int,
        bounds: tuple[int, int],
        fast: Callable[..., Any],
        cell: list[int],
        aside: tuple[type[BaseException], ...],
    ) -> None:
        self.match, self.arity, self.fast, self.cell, self.aside = match, arity, fast, cell, aside
        self.lo, self.hi = bounds


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


def matcher(arrays: Sequence[Any], device: Callable[[type], bool]) -> Match | None:
    """A check for operands of exactly these types and tags, returning their size (the
    elements of the largest), or None where the combination has no hot path: one or two
    exact NumPy (or device) arrays, an array and a Python number, one or two flat lists
    (or tuples) of numbers of one container type."""
    if len(arrays) == 1:
        return _one(arrays[0], device)
    if len(arrays) != 2:
        return None
    a, b = arrays
    ta, tb = type(a), type(b)
    if _array_like(ta, device) and _array_like(tb, device):
        return _arrays(ta, a.dtype, a.ndim, tb, b.dtype, b.ndim)
    if _array_like(ta, device) and tb in _NUMBERS:
        return _array_number(ta, a.dtype, a.ndim, tb)
    if ta in _NUMBERS and _array_like(tb, device):
        return _number_array(ta, tb, b.dtype, b.ndim)
    if ta is tb and ta in _LISTS and a and b:
        ea, eb = type(a[0]), type(b[0])
        if ea in _NUMBERS and eb in _NUMBERS:
            return _lists(ta, ea, eb)
    return None


def _array_like(t: type, device: Callable[[type], bool]) -> bool:
    return t is _NDARRAY or device(t)


def _one(a: Any, device: Callable[[type], bool]) -> Match | None:
    t = type(a)
    if _array_like(t, device):
        dtype, ndim = a.dtype, a.ndim

        def array(x: Any) -> int:
            if type(x) is t and x.dtype is dtype and x.ndim == ndim:
                size: int = x.size
                return size
            return -1

        return array
    if t in _LISTS and a and type(a[0]) in _NUMBERS:
        leaf = type(a[0])

        def flat(x: Any) -> int:
            if type(x) is t and x and type(x[0]) is leaf:
                return len(x)
            return -1

        return flat
    return None


def _arrays(ta: Any, da: Any, na: int, tb: Any, db: Any, nb: int) -> Match:
    def two(x: Any, y: Any) -> int:
        if (
            type(x) is ta
            and type(y) is tb
            and x.dtype is da
            and y.dtype is db
            and x.ndim == na
            and y.ndim == nb
        ):
            sx: int = x.size
            sy: int = y.size
            return sx if sx > sy else sy
        return -1

    return two


def _array_number(ta: Any, da: Any, na: int, tb: Any) -> Match:
    def two(x: Any, y: Any) -> int:
        if type(x) is ta and type(y) is tb and x.dtype is da and x.ndim == na:
            size: int = x.size
            return size
        return -1

    return two


def _number_array(ta: Any, tb: Any, db: Any, nb: int) -> Match:
    def two(x: Any, y: Any) -> int:
        if type(x) is ta and type(y) is tb and y.dtype is db and y.ndim == nb:
            size: int = y.size
            return size
        return -1

    return two


def _lists(t: Any, ea: Any, eb: Any) -> Match:
    def two(x: Any, y: Any) -> int:
        if type(x) is t and type(y) is t and x and y and type(x[0]) is ea and type(y[0]) is eb:
            nx, ny = len(x), len(y)
            return nx if nx > ny else ny
        return -1

    return two
