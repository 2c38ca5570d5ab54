"""Shapes and work of each op kernel, found without touching the data.

Every function here takes the input shapes and the op's parameters, checks that they fit
together (raising :class:`RouteError` with NumPy's rule in words when they don't), and
returns the output shape and the work in the kernel's own unit: elements for elementwise,
view and reduction ops, multiply-adds for matrix products, convolutions and einsum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.errors import RouteError

Shape = tuple[int, ...]
Params = dict[str, Any]


@dataclass(frozen=True)
class Analysis:
    """What the cost model needs about one call: output shape, work, matrix side."""

    out_shape: Shape
    work: int
    matrix_side: int = 0  # largest matrix dimension of a matrix op; 0 for other ops


def size_of(shape: Shape) -> int:
    """Number of elements of an array of this shape."""
    return math.prod(shape)


def _broadcast(shapes: Sequence[Shape], name: str) -> Shape:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        shown = " and ".join(str(s) for s in shapes)
        raise RouteError(
            f"{name}: shapes {shown} do not broadcast together (each dimension must match "
            "or be 1, counting from the right)"
        ) from None


def elementwise(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """Unary or binary elementwise ops: the output has the broadcast shape."""
    first = shapes[0]
    out = first if all(s == first for s in shapes) else _broadcast(shapes, name)
    return Analysis(out, size_of(out))


def normalize_axis(axis: object, ndim: int, name: str) -> int | None:
    """An axis argument as a non-negative int (or None), checked against ndim."""
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise RouteError(f"{name}: axis must be None or an int, got {axis!r}")
    value = int(axis)
    if not -ndim <= value < ndim:
        raise RouteError(f"{name}: axis {value} is out of bounds for an array of dimension {ndim}")
    return value % ndim


def reduction(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """Reductions over all elements (axis None) or one axis."""
    shape = shapes[0]
    axis = normalize_axis(params.get("axis"), len(shape), name)
    out = () if axis is None else shape[:axis] + shape[axis + 1 :]
    n = shape[axis] if axis is not None else size_of(shape)
    if n == 0 and name in ("max", "min", "argmax", "argmin"):
        raise RouteError(
            f"{name}: the input has no elements along the reduced axis and {name} has no "
            "identity; check the array is not empty before reducing it"
        )
    return Analysis(out, size_of(shape))


def standard_scale(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """Per-column standard scaling of a 2-D array: the output has the input's shape."""
    shape = shapes[0]
    if len(shape) != 2 or shape[0] < 2:
        raise RouteError(
            f"{name}: takes a 2-D array of at least 2 rows (samples x features), got shape {shape}"
        )
    return Analysis(shape, 3 * size_of(shape))


def reshape_shape(size: int, target: object) -> Shape:
    """The shape `target` names for `size` elements, with one -1 filled in."""
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        target = (int(target),)
    if not isinstance(target, tuple) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in target
    ):
        raise RouteError(
            f"reshape: the new shape must be an int or a tuple of ints, got {target!r}"
        )
    dims = [int(d) for d in target]
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in dims):
        raise RouteError(
            f"reshape: can only give one -1 and no other negative size, got {target!r}"
        )
    known = math.prod(d for d in dims if d != -1)
    if unknown:
        if known == 0 or size % known:
            raise RouteError(f"reshape: cannot reshape an array of size {size} into shape {target}")
        dims[unknown[0]] = size // known
    if math.prod(dims) != size:
        raise RouteError(f"reshape: cannot reshape an array of size {size} into shape {target}")
    return tuple(dims)


def reshape(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """reshape(a, shape): the same elements, a new shape."""
    size = size_of(shapes[0])
    return Analysis(reshape_shape(size, params["shape"]), size)


def transpose_axes(ndim: int, axes: object) -> tuple[int, ...]:
    """The permutation transpose applies: reversed axes, or `axes` checked."""
    if axes is None:
        return tuple(range(ndim))[::-1]
    if not isinstance(axes, tuple) or sorted(int(a) % max(ndim, 1) for a in axes) != list(
        range(ndim)
    ):
        raise RouteError(f"transpose: axes {axes!r} is not a permutation of the {ndim} axes")
    return tuple(int(a) % ndim for a in axes)


def transpose(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """transpose(a, axes=None): the axes permuted."""
    shape = shapes[0]
    perm = transpose_axes(len(shape), params.get("axes"))
    return Analysis(tuple(shape[p] for p in perm), size_of(shape))


def matmul(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """matmul/dot: (..., n, k) x (..., k, m) -> (..., n, m); 1-D operands lose their dim."""
    a, b = shapes
    if name == "dot" and (len(a) == 0 or len(b) == 0):
        out = a or b
        return Analysis(out, size_of(out))
    if len(a) == 0 or len(b) == 0:
        raise RouteError(f"{name}: operands must have at least one dimension, got {a} and {b}")
    a2 = a if len(a) >= 2 else (1, *a)
    b2 = b if len(b) >= 2 else (*b, 1)
    k_b = b[-2] if name == "dot" and len(b) > 2 else b2[-2]
    if a2[-1] != k_b:
        raise RouteError(
            f"{name}: shapes {a} and {b} are not aligned: the last dimension of the first "
            f"({a2[-1]}) must equal the {'second-to-last' if len(b) >= 2 else 'only'} "
            f"dimension of the second ({k_b})"
        )
    if name == "dot" and (len(a) > 2 or len(b) > 2):
        out = a[:-1] + b[:-2] + b[-1:] if len(b) >= 2 else a[:-1]
        work = size_of(out) * a2[-1]
        return Analysis(out, work, max(max(a), max(b)))
    batch = _broadcast([a2[:-2], b2[:-2]], name) if len(a2) > 2 or len(b2) > 2 else ()
    out = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    work = size_of(batch) * a2[-2] * a2[-1] * b2[-1]
    side = max(a2[-2], a2[-1], b2[-1]) if len(a) >= 2 and len(b) >= 2 else 0
    return Analysis(out, work, side)


def vdot(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """vdot: the dot product of the two flattened inputs."""
    a, b = shapes
    if size_of(a) != size_of(b):
        raise RouteError(
            f"vdot: the inputs must have the same number of elements, got {size_of(a)} and {size_of(b)}"
        )
    return Analysis((), size_of(a))


def tensordot_axes(a: Shape, b: Shape, axes: object) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """tensordot's axes argument as two tuples of non-negative axes, checked."""
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        count = int(axes)
        if count < 0 or count > min(len(a), len(b)):
            raise RouteError(f"tensordot: axes={count} does not fit shapes {a} and {b}")
        pair = (tuple(range(len(a) - count, len(a))), tuple(range(count)))
    elif isinstance(axes, tuple) and len(axes) == 2:
        first, second = (tuple(x) if isinstance(x, tuple) else (x,) for x in axes)
        if len(first) != len(second):
            raise RouteError(f"tensordot: axes {axes!r} pair lists of different lengths")
        try:
            pair = (
                tuple(int(x) % len(a) for x in first),
                tuple(int(x) % len(b) for x in second),
            )
        except (TypeError, ZeroDivisionError):
            raise RouteError(f"tensordot: axes {axes!r} does not fit shapes {a} and {b}") from None
    else:
        raise RouteError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
    for i, j in zip(*pair, strict=False):
        if a[i] != b[j]:
            raise RouteError(
                f"tensordot: shape mismatch for sum over axes {i} and {j}: {a[i]} != {b[j]}"
            )
    return pair


def tensordot(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """tensordot(a, b, axes): free axes of a, then free axes of b."""
    a, b = shapes
    sum_a, sum_b = tensordot_axes(a, b, params.get("axes", 2))
    free_a = tuple(a[i] for i in range(len(a)) if i not in sum_a)
    free_b = tuple(b[i] for i in range(len(b)) if i not in sum_b)
    inner = math.prod(a[i] for i in sum_a)
    out = free_a + free_b
    side = max([*free_a, *free_b, inner, 0])
    return Analysis(out, size_of(free_a) * inner * size_of(free_b), side)


def convolve(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """convolve(a, v, mode): 1-D discrete convolution."""
    a, v = shapes
    if len(a) != 1 or len(v) != 1:
        raise RouteError(f"convolve: both inputs must be 1-D, got shapes {a} and {v}")
    mode = params.get("mode", "full")
    n, m = max(a[0], v[0]), min(a[0], v[0])
    if m == 0:
        raise RouteError("convolve: an input is empty; both need at least one element")
    lengths = {"full": n + m - 1, "same": n, "valid": n - m + 1}
    if mode not in lengths:
        raise RouteError(f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}")
    out = (lengths[mode],)
    return Analysis(out, out[0] * m)


@dataclass(frozen=True)
class EinsumSpec:
    """A parsed einsum subscript string without ellipsis."""

    inputs: tuple[str, ...]
    output: str


def parse_einsum(subscripts: object, count: int) -> EinsumSpec | None:
    """Parse ``'ij,jk->ik'``; None when it uses an ellipsis (left to NumPy and CuPy)."""
    if not isinstance(subscripts, str):
        raise RouteError(
            f"einsum: the first argument must be a subscripts string, got {subscripts!r}"
        )
    text = subscripts.replace(" ", "")
    if "." in text:
        return None
    left, arrow, right = text.partition("->")
    inputs = tuple(left.split(","))
    if len(inputs) != count:
        raise RouteError(
            f"einsum: {subscripts!r} names {len(inputs)} operand(s) but {count} were given"
        )
    letters = [c for term in inputs for c in term]
    if not all(c.isalpha() for c in letters) or not all(c.isalpha() for c in right):
        raise RouteError(f"einsum: subscripts must be letters, got {subscripts!r}")
    if arrow:
        output = right
        if len(set(output)) != len(output) or not set(output) <= set(letters):
            raise RouteError(f"einsum: output subscripts of {subscripts!r} are repeated or unknown")
    else:
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return EinsumSpec(inputs, output)


def einsum_dims(spec: EinsumSpec, shapes: Sequence[Shape]) -> dict[str, int]:
    """The size of every subscript letter, checked across operands."""
    dims: dict[str, int] = {}
    for term, shape in zip(spec.inputs, shapes, strict=False):
        if len(term) != len(shape):
            raise RouteError(
                f"einsum: subscripts {term!r} name {len(term)} dimension(s) for an operand of shape {shape}"
            )
        for letter, size in zip(term, shape, strict=False):
            if dims.setdefault(letter, size) != size:
                raise RouteError(
                    f"einsum: subscript {letter!r} has size {dims[letter]} in one operand and {size} in another"
                )
    return dims


def einsum(shapes: Sequence[Shape], params: Params, name: str) -> Analysis:
    """einsum: work is the product of every subscript's size."""
    spec = parse_einsum(params["subscripts"], len(shapes))
    if spec is None:  # ellipsis: estimate from the operand sizes
        largest = max((size_of(s) for s in shapes), default=1)
        return Analysis((), largest * max(1, len(shapes)))
    dims = einsum_dims(spec, shapes)
    out = tuple(dims[c] for c in spec.output)
    side = max(dims.values(), default=0) if len(shapes) >= 2 else 0
    return Analysis(out, math.prod(dims.values()), side)


def square_side(size: int) -> int:
    """The side of the square matrix closest to `size` elements (at least 1)."""
    return max(1, round(math.sqrt(size)))


def scale_columns(size: int) -> int:
    """Features of a standard-scaling input of `size` elements: 8, or 2 when tiny."""
    return 8 if size >= 16 else 2


def synthetic(name: str, kind: str, arity: int, size: int) -> tuple[list[Shape], Params]:
    """Operand shapes and parameters of a typical call of op `name` on `size` elements
    (the largest operand): vectors for elementwise ops and reductions, square matrices
    for matrix ops and einsum ('ij,jk->ik'), a kernel of sqrt(size) taps for convolve."""
    n = max(0, int(size))
    side = square_side(n)
    if kind in ("matmul", "einsum") and name != "vdot":
        params: Params = {}
        if name == "tensordot":
            params = {"axes": 1}
        elif name == "einsum":
            params = {"subscripts": "ij,jk->ik"}
        return [(side, side), (side, side)], params
    if name == "convolve":
        return [(max(n, 1),), (max(1, math.isqrt(n)),)], {"mode": "full"}
    if name == "transpose":
        return [(side, side)], {"axes": None}
    if name == "standard_scale":
        cols = scale_columns(n)
        return [(max(2, n // cols), cols)], {}
    if name == "reshape":
        return [(n,)], {"shape": (n,)}
    if kind == "reduce":
        return [(n,)], {"axis": None}
    return [(n,)] * max(1, arity), {}
