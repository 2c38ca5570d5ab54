"""What the router reads from a call's operands, without scanning them.

Each operand is described by its shape and a tag: its NumPy dtype (exact ndarrays, NumPy
and CuPy), a SubTag for ndarray subclasses (masked arrays, np.matrix: NumPy keeps their
semantics, so only NumPy runs them), a ListTag for lists and tuples (the container and
the type of the first element, read along the first elements: the whole list is typed
by it, and the type is cached with the call's signature), or the type of a Python
number. The call's signature (ranks and tags, no shapes) and its size bucket key the
router's plans, so a loop over varying shapes reuses one plan per bucket.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from workbench import gpu
from workbench.errors import RouteError
from workbench.route import shapes as sh
from workbench.route.kinds import Location

_HOST, _DEVICE, _PYTHON = Location.HOST.value, Location.DEVICE.value, Location.PYTHON.value
_NDARRAY = np.ndarray
NUMBER_TYPES = frozenset({float, int, bool, complex})
_WEAK = (float, int, bool, complex)


class ListTag(NamedTuple):
    """A (nested) list or tuple: its container type and its first element's type."""

    container: type
    leaf: type


class SubTag(NamedTuple):
    """An ndarray subclass (np.ma.MaskedArray, np.matrix, memmap...) and its dtype."""

    cls: type
    dtype: np.dtype[Any]


# The tags of flat lists and tuples of numbers, made once (the fast path reads them).
_FLAT = {(c, leaf): ListTag(c, leaf) for c in (list, tuple) for leaf in (float, int, bool, complex)}

# One operand: (shape, tag).
Desc = tuple[sh.Shape, Any]
Sig = tuple[tuple[int, Any], ...]


def list_shape(obj: list[Any] | tuple[Any, ...]) -> sh.Shape:
    """The shape of a nested list, read along its first elements."""
    return leaf_shape(obj)[0]


def leaf_shape(obj: list[Any] | tuple[Any, ...]) -> tuple[sh.Shape, type]:
    """The shape of a nested list and the type of its first element (an ndarray row
    adds its own shape)."""
    shape = [len(obj)]
    item: Any = obj
    while True:
        if not item:
            return tuple(shape), float
        item = item[0]
        t = type(item)
        if t is list or t is tuple:
            shape.append(len(item))
            continue
        if isinstance(item, np.ndarray):
            return (*shape, *item.shape), np.ndarray
        return tuple(shape), t


def _one(a: Any, index: int) -> tuple[str, Desc]:
    t = type(a)
    if t is _NDARRAY:
        return _HOST, (a.shape, a.dtype)
    if t in NUMBER_TYPES:
        return "", ((), t)
    if t is list or t is tuple:
        shape, leaf = leaf_shape(a)
        return (_HOST if leaf is np.ndarray else _PYTHON), (shape, ListTag(t, leaf))
    if isinstance(a, np.generic):
        return "scalar", ((), a.dtype)
    if isinstance(a, np.ndarray):
        return _HOST, (a.shape, SubTag(t, a.dtype))
    if gpu.is_device_type(t):
        return _DEVICE, (tuple(a.shape), a.dtype)
    raise RouteError(
        f"operand {index} is a {t.__module__}.{t.__qualname__}: the router takes NumPy "
        "arrays, CuPy arrays, (nested) lists and numbers; convert it first, or use "
        "workbench.namespace(...), which passes other types through to NumPy"
    )


def describe(arrays: Sequence[Any]) -> tuple[str, tuple[Desc, ...], Sig, int]:
    """Where the operands live (a Location value), each one's (shape, tag), the call's
    signature (rank and tag of each) and its size (elements of the largest operand).

    RouteError when NumPy (or list) and CuPy operands are mixed, or an operand is of a
    type the router does not take. Written for speed: it runs on every call."""
    count = len(arrays)
    if count == 2:
        a, b = arrays
        ta, tb = type(a), type(b)
        if ta is _NDARRAY and tb is _NDARRAY:
            da, db = a.dtype, b.dtype
            return (
                _HOST,
                ((a.shape, da), (b.shape, db)),
                ((a.ndim, da), (b.ndim, db)),
                max(a.size, b.size),
            )
        if ta is tb and (ta is list or ta is tuple) and a and b:
            tag_a = _FLAT.get((ta, type(a[0])))
            tag_b = _FLAT.get((ta, type(b[0])))
            if tag_a is not None and tag_b is not None:  # flat lists of numbers
                na, nb = len(a), len(b)
                return (
                    _PYTHON,
                    (((na,), tag_a), ((nb,), tag_b)),
                    ((1, tag_a), (1, tag_b)),
                    na if na > nb else nb,
                )
    elif count == 1:
        a = arrays[0]
        ta = type(a)
        if ta is _NDARRAY:
            return _HOST, ((a.shape, a.dtype),), ((a.ndim, a.dtype),), a.size
        if (ta is list or ta is tuple) and a:
            tag_a = _FLAT.get((ta, type(a[0])))
            if tag_a is not None:
                n = len(a)
                return _PYTHON, (((n,), tag_a),), ((1, tag_a),), n
    where = ""
    numpy_scalar = False
    desc: list[Desc] = []
    for index, a in enumerate(arrays):
        here, d = _one(a, index)
        desc.append(d)
        if here == "scalar":
            numpy_scalar = True
            continue
        if not here:
            continue
        if where == here or not where:
            where = here
        elif _DEVICE in (where, here):
            raise RouteError(
                "NumPy (or list) and CuPy operands are mixed in one call: move them to one side "
                "first (cupy.asarray(x) to the GPU, cupy.asnumpy(x) to the host)"
            )
        else:
            where = _HOST  # lists with NumPy arrays: NumPy converts the lists
    if numpy_scalar and where in ("", _PYTHON):
        where = _HOST  # NumPy scalars with lists or numbers: NumPy results
    sig = tuple((len(shape), tag) for shape, tag in desc)
    size = max((math.prod(shape) for shape, tag in desc if shape), default=1)
    return where or _PYTHON, tuple(desc), sig, size


def quick(arrays: Sequence[Any]) -> tuple[str, Sig, int] | None:
    """(where, signature, size) for the common calls, reading no shapes: one or two exact
    ndarrays (and a Python number), one or two flat lists or tuples of numbers; None for
    anything else (describe() reads it). The signature is the one describe() gives."""
    count = len(arrays)
    if count == 2:
        a, b = arrays
        ta, tb = type(a), type(b)
        if ta is _NDARRAY:
            if tb is _NDARRAY:
                na, nb = a.size, b.size
                return _HOST, ((a.ndim, a.dtype), (b.ndim, b.dtype)), na if na > nb else nb
            if tb is float or tb is int:
                return _HOST, ((a.ndim, a.dtype), (0, tb)), a.size
            return None
        if ta is tb and (ta is list or ta is tuple) and a and b:
            tag_a = _FLAT.get((ta, type(a[0])))
            tag_b = _FLAT.get((ta, type(b[0])))
            if tag_a is None or tag_b is None:
                return None
            na, nb = len(a), len(b)
            return _PYTHON, ((1, tag_a), (1, tag_b)), na if na > nb else nb
        return None
    if count == 1:
        a = arrays[0]
        ta = type(a)
        if ta is _NDARRAY:
            return _HOST, ((a.ndim, a.dtype),), a.size
        if (ta is list or ta is tuple) and a:
            tag_a = _FLAT.get((ta, type(a[0])))
            if tag_a is not None:
                return _PYTHON, ((1, tag_a),), len(a)
    return None


def itemsize(tag: Any) -> int:
    """Bytes per element of an operand with this tag (8 for lists)."""
    if isinstance(tag, np.dtype):
        return int(tag.itemsize)
    if isinstance(tag, SubTag):
        return int(tag.dtype.itemsize)
    return 8


def is_number(tag: Any) -> bool:
    """A Python number operand (its tag is its type)."""
    return isinstance(tag, type)


def dtype_of(tag: Any) -> np.dtype[Any] | None:
    if isinstance(tag, np.dtype):
        return tag
    if isinstance(tag, SubTag):
        return tag.dtype
    return None
