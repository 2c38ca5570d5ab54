"""The DSL of the ``dsl`` shape: frozensets, closures, lambdas, generator expressions."""

from __future__ import annotations

from collections.abc import Callable

Work = Callable[[], object]

Grid = tuple[tuple[int, ...], ...]


def dsl_cells(grid: Grid) -> frozenset[tuple[int, tuple[int, int]]]:
    return frozenset((v, (i, j)) for i, row in enumerate(grid) for j, v in enumerate(row))


def dsl_rbind(function: Callable[..., object], fixed: object) -> Callable[[object], object]:
    return lambda x: function(x, fixed)


def dsl_compose(outer: Callable[[object], object], inner: Callable[[object], object]) -> Work:
    return lambda x: outer(inner(x))  # type: ignore[return-value]


def dsl_shift(patch: frozenset[tuple[int, tuple[int, int]]], offset: tuple[int, int]) -> frozenset:
    di, dj = offset
    return frozenset((v, (i + di, j + dj)) for v, (i, j) in patch)


def dsl_colorfilter(patch: frozenset, color: int) -> frozenset:
    return frozenset(cell for cell in patch if cell[0] == color)


def dsl_size(patch: frozenset) -> int:
    return len(patch)


def dsl_mfilter(items: frozenset, predicate: Callable[[object], object]) -> frozenset:
    return frozenset(e for e in items if predicate(e))


def dsl_apply(function: Callable[[object], object], items: frozenset) -> frozenset:
    return frozenset(function(e) for e in items)


def dsl_argmax(items: frozenset, key: Callable[[object], int]) -> object:
    return max(items, key=key)
