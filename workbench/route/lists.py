"""Which idiomatic pure-Python kernel a plan runs, chosen once per plan.

A plan is made for a call signature (each operand's rank and tag: for lists, the
container and the first element's type) and a size bucket, so the kernel is picked
from types read once, never by scanning every element on every call. Exact NumPy arrays
of float64, int64 and bool go to the same kernels through ``tolist()`` (Python numbers of
the same value), and the result comes back as NumPy gives it: an array of NumPy's result
dtype, or a NumPy scalar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from workbench.route import idioms
from workbench.route import shapes as sh
from workbench.route.operands import Desc, ListTag
from workbench.route.ops import OpSpec

_KINDS = (float, int, bool)
_ARRAY_KINDS = {np.dtype(np.float64): float, np.dtype(np.int64): int, np.dtype(np.bool_): bool}
_NDARRAY = np.ndarray


def container_of(desc: Sequence[Desc]) -> type:
    """tuple when every list operand is a tuple (results come back as tuples), else list."""
    containers = {tag.container for _, tag in desc if isinstance(tag, ListTag)}
    return tuple if containers == {tuple} else list


def idiom_for(
    spec: OpSpec, desc: Sequence[Desc], params: sh.Params, like: type, on_lists: bool
) -> Callable[..., Any] | None:
    """The idiomatic kernel for this plan (`on_lists`: inputs and result are Python
    lists; else the operands are exact NumPy arrays and numbers, the result NumPy's), or
    None: the general kernels run."""
    if any(value is not None for name, value in params.items() if name in ("axis", "axes")):
        return None
    if spec.name in ("reshape", "tensordot", "einsum", "convolve") or not spec.array_fn:
        return None
    kinds: list[type] = []
    ranks: list[int] = []
    dtypes: list[Any] = []
    for shape, tag in desc:
        if on_lists and isinstance(tag, ListTag):
            if tag.leaf not in _KINDS or not shape or 0 in shape:
                return None
            kinds.append(tag.leaf)
        elif not on_lists and isinstance(tag, np.dtype) and tag in _ARRAY_KINDS and shape:
            if 0 in shape:
                return None
            kinds.append(_ARRAY_KINDS[tag])
            dtypes.append(np.ones((1,) * len(shape), tag))
        elif isinstance(tag, type) and tag in (int, float):
            kinds.append(tag)
            dtypes.append(tag(1))
        else:
            return None
        ranks.append(len(shape))
    kernel = idioms.kernel_for(spec.name, tuple(kinds), tuple(ranks), like if on_lists else list)
    if kernel is None or on_lists:
        return kernel
    with np.errstate(all="ignore"):
        probe = np.asarray(spec.array_fn(np, dtypes, params))
    return _on_arrays(kernel, probe.dtype)


def _on_arrays(kernel: Callable[..., Any], dtype: np.dtype[Any]) -> Callable[..., Any]:
    """`kernel` on NumPy operands: their values as Python numbers in, NumPy's types out."""
    make, scalar = np.array, dtype.type

    def run(*arrays: Any) -> Any:
        result = kernel(*[a.tolist() if type(a) is _NDARRAY else a for a in arrays])
        if type(result) is list:
            return make(result, dtype=dtype)
        return scalar(result)

    return run


def numpy_on_lists(
    spec: OpSpec, desc: Sequence[Desc], params: sh.Params, like: type
) -> Callable[..., Any] | None:
    """NumPy on list operands as a user writes it: np.asarray of each list, the operator
    or array method (else the op's NumPy function on the arrays), then tolist() (tuples
    for tuples); None where an operand is not a list of numbers or a Python number."""
    if not desc or not isinstance(desc[0][1], ListTag) or spec.array_fn is None:
        return None
    for _, tag in desc:
        if isinstance(tag, ListTag):
            if tag.leaf not in _KINDS:
                return None
        elif not (isinstance(tag, type) and tag in (int, float, bool)):
            return None
    extra = tuple(params[name] for name, _ in spec.params)
    lists = tuple(isinstance(tag, ListTag) for _, tag in desc)
    asarray = np.asarray
    back = _tuples if like is tuple else _listed
    fn = spec.host_fn
    if fn is None:
        array_fn = spec.array_fn

        def through(*arrays: Any) -> Any:
            operands = [
                asarray(x) if is_list else x for x, is_list in zip(arrays, lists, strict=True)
            ]
            return back(array_fn(np, operands, params))

        return through
    if not [v for v in extra if v is not None]:
        if lists == (True,):
            return lambda a: back(fn(asarray(a)))
        if lists == (True, True):
            return lambda a, b: back(fn(asarray(a), asarray(b)))

    def general(*arrays: Any) -> Any:
        operands = [asarray(x) if is_list else x for x, is_list in zip(arrays, lists, strict=True)]
        return back(fn(*operands, *extra))

    return general


def _listed(result: Any) -> Any:
    return result.tolist() if hasattr(result, "tolist") else result


def _tuples(result: Any) -> Any:
    return tuples(_listed(result))


def tuples(value: Any) -> Any:
    """Nested lists as nested tuples (tuples in, tuples out)."""
    if type(value) is list:
        return tuple(tuples(v) for v in value) if value and type(value[0]) is list else tuple(value)
    return value
