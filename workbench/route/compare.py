"""Does an expert's result equal the reference's? And if not, the first element that differs.

Floats (and float arrays) agree within `rtol`/`atol` (NaN equals NaN); integers, text and
other values must be equal. Containers must be of the same kind (a tuple is not a list:
code that hashes a result would break) and the same length; NumPy scalars equal the
Python numbers of the same value; arrays must have the same shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

import numpy as np

_NUMBERS = (int, float, np.integer, np.floating, np.bool_, bool)


@dataclass(frozen=True)
class Tolerance:
    """How close floats must be: |got - want| <= atol + rtol * |want|."""

    rtol: float = 1e-7
    atol: float = 1e-9


def _close(got: float, want: float, tol: Tolerance) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want) or math.isinf(got):
        return got == want
    return abs(got - want) <= tol.atol + tol.rtol * abs(want)


def _array_difference(got: np.ndarray, want: np.ndarray, where: str, tol: Tolerance) -> str | None:
    if got.shape != want.shape:
        return f"{where or 'the result'} has shape {got.shape} where the reference has {want.shape}"
    if want.dtype.kind in "fc" or got.dtype.kind in "fc":
        g, w = got.astype(np.complex128), want.astype(np.complex128)
        same = np.isclose(g, w, rtol=tol.rtol, atol=tol.atol, equal_nan=True)
    else:
        same = got == want
    if bool(np.all(same)):
        return None
    index = tuple(int(i) for i in np.argwhere(~np.asarray(same))[0])
    mine, theirs = got[index], want[index]
    mine = mine.item() if hasattr(mine, "item") else mine
    theirs = theirs.item() if hasattr(theirs, "item") else theirs
    return f"{where}{list(index)}: {mine!r} where the reference has {theirs!r}"


def _numbers(value: Any) -> bool:
    """A (nested) list or tuple whose first leaf is a number: compared as an array."""
    item = value
    while isinstance(item, (list, tuple)):
        if not item:
            return False
        item = item[0]
    return isinstance(item, _NUMBERS) and not isinstance(item, (bool, np.bool_))


def _kinds(value: Any) -> list[type]:
    """The container types along the first elements ([tuple, tuple] for a grid)."""
    out = []
    item = value
    while isinstance(item, (list, tuple)) and item:
        out.append(type(item))
        item = item[0]
    return out


def difference(got: Any, want: Any, tol: Tolerance = Tolerance(), where: str = "") -> str | None:
    """None when `got` matches `want`; else the first place they differ, in words
    ('[3][1]: 4 where the reference has 2'). Equal containers are found equal at C
    speed; lists of numbers are compared as arrays (a million floats in milliseconds)."""
    if type(got) is type(want) and isinstance(want, (list, tuple, str, int, float)):
        try:
            if got == want:
                return None
        except Exception:  # an element whose == raises: compared one by one below
            pass
        if isinstance(want, (list, tuple)) and _numbers(want) and _numbers(got):
            if _kinds(got) != _kinds(want):
                return (
                    f"{where or 'the result'} nests {[k.__name__ for k in _kinds(got)]} where "
                    f"the reference nests {[k.__name__ for k in _kinds(want)]}"
                )
            try:
                g, w = np.asarray(got), np.asarray(want)
            except ValueError:  # ragged: one by one below
                pass
            else:
                if g.dtype != object and w.dtype != object:
                    return _array_difference(g, w, where, tol)
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        if not (isinstance(want, np.ndarray) and isinstance(got, np.ndarray)):
            return (
                f"{where or 'the result'} is a {type(got).__name__} where the reference "
                f"returns a {type(want).__name__}"
            )
        return _array_difference(got, want, where, tol)
    if isinstance(want, _NUMBERS) and isinstance(got, _NUMBERS):
        if isinstance(want, (float, np.floating)) or isinstance(got, (float, np.floating)):
            if _close(float(got), float(want), tol):
                return None
        elif int(got) == int(want):
            return None
        return f"{where or 'the result'}: {got!r} where the reference has {want!r}"
    if isinstance(want, (list, tuple)):
        if type(got) is not type(want):
            return (
                f"{where or 'the result'} is a {type(got).__name__} where the reference "
                f"returns a {type(want).__name__}"
            )
        if len(got) != len(want):
            return (
                f"{where or 'the result'} has {len(got)} items where the reference has {len(want)}"
            )
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            found = difference(g, w, tol, f"{where}[{i}]")
            if found is not None:
                return found
        return None
    if isinstance(want, Mapping) and isinstance(got, Mapping):
        if set(got) != set(want):
            extra = sorted(map(repr, set(got) ^ set(want)))[:3]
            return f"{where or 'the result'} has other keys than the reference ({', '.join(extra)})"
        for key in want:
            found = difference(got[key], want[key], tol, f"{where}[{key!r}]")
            if found is not None:
                return found
        return None
    if isinstance(want, Set) and isinstance(got, Set):
        if got == want:
            return None
        extra = sorted(map(repr, set(got) ^ set(want)))[:3]
        return f"{where or 'the result'} differs from the reference's set in {', '.join(extra)}"
    try:
        equal = bool(got == want)
    except Exception as exc:  # an == that raises is a difference too, named
        return f"{where or 'the result'} cannot be compared with the reference ({exc})"
    if equal:
        return None
    return f"{where or 'the result'}: {got!r} where the reference has {want!r}"
