"""The independent oracle: each op family written as a competent user writes it, with no
code shared with the router's kernels (nothing here imports workbench.route's kernels).

For every residency the inputs start in (Python lists, NumPy arrays, CuPy arrays) there
is one idiomatic version per library: pure Python (comprehensions, zip, sum, max), NumPy
(operators and array methods, converting lists with np.array and back with tolist) and
CuPy (plain cupy.asarray / cupy.asnumpy copies). The result comes back in the kind the
inputs were (lists for lists, NumPy for NumPy, CuPy for CuPy), as the router's does. The
fastest of them at a size is the oracle the router's choice is scored against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

Call = Callable[[], Any]
LANES = ("idiom-python", "idiom-numpy", "idiom-cupy")


def _col_stats(columns: Sequence[Sequence[float]], n: int) -> list[tuple[float, float]]:
    stats = []
    for col in columns:
        mean = sum(col) / n
        std = (sum((v - mean) ** 2 for v in col) / n) ** 0.5
        stats.append((mean, std))
    return stats


def _scale_rows(x: Sequence[Sequence[float]]) -> list[list[float]]:
    stats = _col_stats(list(zip(*x, strict=True)), len(x))
    return [[(v - m) / s for v, (m, s) in zip(row, stats, strict=True)] for row in x]


# Pure Python on Python lists: what each op is in a few lines of plain code.
def _py(op: str) -> Callable[..., Any]:
    if op == "add":
        return lambda a, b: [x + y for x, y in zip(a, b, strict=True)]
    if op == "multiply":
        return lambda a, b: [x * y for x, y in zip(a, b, strict=True)]
    if op == "sum":
        return sum
    if op == "mean":
        return lambda a: sum(a) / len(a)
    if op == "max":
        return max
    if op == "vdot":
        return lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))
    if op == "matmul":
        return lambda a, b: [
            [sum(x * y for x, y in zip(row, col, strict=True)) for col in zip(*b, strict=True)]
            for row in a
        ]
    if op == "standard_scale":
        return _scale_rows
    raise KeyError(op)


# NumPy (or CuPy: the same code with xp) on arrays: operators and methods.
def _xp(op: str) -> Callable[..., Any]:
    if op == "add":
        return lambda a, b: a + b
    if op == "multiply":
        return lambda a, b: a * b
    if op == "sum":
        return lambda a: a.sum()
    if op == "mean":
        return lambda a: a.mean()
    if op == "max":
        return lambda a: a.max()
    if op == "vdot":
        return lambda a, b: a.ravel() @ b.ravel()
    if op == "matmul":
        return lambda a, b: a @ b
    if op == "standard_scale":
        return lambda x: (x - x.mean(axis=0)) / x.std(axis=0)
    raise KeyError(op)


def _list_out(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def calls(
    op: str, residency: str, operands: Sequence[Any], cp: ModuleType | None
) -> dict[str, Call]:
    """One no-argument call per idiomatic version of `op` on these operands (placed in
    `residency`), by lane name; CuPy versions only when `cp` is given."""
    py, xp = _py(op), _xp(op)
    a = tuple(operands)
    out: dict[str, Call] = {}
    if residency == "python":
        out["idiom-python"] = lambda: py(*a)
        out["idiom-numpy"] = lambda: _list_out(xp(*[np.array(v) for v in a]))
        if cp is not None:
            out["idiom-cupy"] = lambda: _list_out(cp.asnumpy(xp(*[cp.asarray(v) for v in a])))
    elif residency == "host":

        def py_host() -> Any:
            result = py(*[v.tolist() for v in a])
            return np.array(result) if isinstance(result, list) else np.float64(result)

        out["idiom-python"] = py_host
        out["idiom-numpy"] = lambda: xp(*a)
        if cp is not None:
            out["idiom-cupy"] = lambda: cp.asnumpy(xp(*[cp.asarray(v) for v in a]))
    else:
        assert cp is not None
        out["idiom-cupy"] = lambda: xp(*a)
        out["idiom-numpy"] = lambda: cp.asarray(xp(*[cp.asnumpy(v) for v in a]))

        def py_device() -> Any:
            return cp.asarray(py(*[cp.asnumpy(v).tolist() for v in a]))

        out["idiom-python"] = py_device
    return out
