"""A demo function with three experts: outlines of a batch of DSL grids.

``outline_all(grids, color, background=0)`` paints, in every grid, the background cells
that touch a non-background cell (4-way) with `color`: the DSL's ``outline`` on each grid.
Its experts are the DSL itself (pure Python over tuples), the same on stacked NumPy
arrays (grids of one shape stacked, four shifted comparisons), and that array code on a
GPU (CuPy). The gate's size is the number of cells in the batch. Results are tuples of
grids (tuples of tuples of ints) from every expert, so the gate can check them against
the DSL's.

    from workbench.demo.experts import outline_all, sample_batch
    grids = sample_batch(200, 10)      # 200 grids of 10 x 10
    outline_all(grids, 5)              # the expert measured fastest here for 20,000 cells
    outline_all.explain(grids, 5)
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from workbench import gpu
from workbench.demo import dsl
from workbench.demo.dsl import Grid
from workbench.route.experts import experts


def cells(grids: Sequence[Grid], color: int = 0, background: int = 0) -> int:
    """The batch's cells, read from its first grid (the gate's size)."""
    if not grids or not grids[0]:
        return 0
    return len(grids) * len(grids[0]) * len(grids[0][0])


@experts(size=cells)
def outline_all(grids: Sequence[Grid], color: int, background: int = 0) -> tuple[Grid, ...]:
    """Every grid's outline (the DSL's own code: the reference expert)."""
    return tuple(dsl.outline(grid, color, background) for grid in grids)


def _outline_stack(xp: ModuleType, stack: Any, color: int, background: int) -> Any:
    """Outlines of an (n, rows, cols) stack: background cells next to a filled one."""
    filled = stack != background
    touch = xp.zeros_like(filled)
    touch[:, 1:, :] |= filled[:, :-1, :]
    touch[:, :-1, :] |= filled[:, 1:, :]
    touch[:, :, 1:] |= filled[:, :, :-1]
    touch[:, :, :-1] |= filled[:, :, 1:]
    return xp.where(~filled & touch, stack.dtype.type(color), stack)


def _by_shape(grids: Sequence[Grid]) -> dict[tuple[int, int], list[int]]:
    groups: dict[tuple[int, int], list[int]] = {}
    for i, grid in enumerate(grids):
        groups.setdefault((len(grid), len(grid[0]) if grid else 0), []).append(i)
    return groups


def _outline_arrays(
    xp: ModuleType, grids: Sequence[Grid], color: int, background: int, to_host: Any
) -> tuple[Grid, ...]:
    out: list[Grid] = [()] * len(grids)
    for (rows, cols), members in _by_shape(grids).items():
        if rows == 0 or cols == 0:
            for i in members:
                out[i] = grids[i]
            continue
        stack = xp.asarray(np.array([grids[i] for i in members], dtype=np.int16))
        result = to_host(_outline_stack(xp, stack, color, background)).tolist()
        for i, plane in zip(members, result, strict=True):
            out[i] = tuple(map(tuple, plane))
    return tuple(out)


@outline_all.expert("numpy")
def _outline_numpy(grids: Sequence[Grid], color: int, background: int = 0) -> tuple[Grid, ...]:
    """The grids of each shape stacked into one NumPy array, outlined at once."""
    return _outline_arrays(np, grids, color, background, np.asarray)


@outline_all.expert("cupy")
def _outline_cupy(grids: Sequence[Grid], color: int, background: int = 0) -> tuple[Grid, ...]:
    """The same array code on the GPU: stacked on the host, copied over, copied back."""
    cp = gpu.cupy_or_none()
    if cp is None:
        raise RuntimeError("the CuPy expert needs CuPy and a GPU")
    return _outline_arrays(cp, grids, color, background, cp.asnumpy)


def sample_batch(count: int, side: int, seed: int = 0) -> tuple[Grid, ...]:
    """`count` random side x side grids, mostly background with a few coloured cells."""
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 10, size=(count, side, side)) * (rng.random((count, side, side)) < 0.2)
    return tuple(dsl.make_grid(plane) for plane in values.tolist())
