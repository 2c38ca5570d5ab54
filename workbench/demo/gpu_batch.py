"""Optional GPU batch path: transform many same-shape grids in one array operation.

CuPy is reached only through :mod:`workbench.gpu`. The array code is shared with a NumPy
reference (:func:`numpy_batch`), which is what runs, and is tested, where no GPU is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench import gpu
from workbench.demo.dsl import Grid, make_grid, shape
from workbench.errors import WorkbenchError

GEOMETRIC_OPS = ("rot90", "rot180", "rot270", "flip_h", "flip_v", "transpose")
# rot90 of numpy and cupy turns anticlockwise; the DSL's rot90 turns clockwise.
_QUARTER_TURNS = MappingProxyType({"rot90": 3, "rot180": 2, "rot270": 1})
_FLIP_AXES = MappingProxyType({"flip_h": 2, "flip_v": 1})  # axis 0 is the batch


class GpuUnavailableError(WorkbenchError, RuntimeError):
    """The GPU batch path was asked for, but CuPy or a usable GPU is missing."""


@dataclass(frozen=True)
class Recolor:
    """A batch op that paints every cell of one colour with another."""

    source: int
    target: int

    @property
    def name(self) -> str:
        """The name the search gives the same step."""
        return f"recolor({self.source},{self.target})"


BatchOp = str | Recolor


def op_name(op: BatchOp) -> str:
    """The step name of a batch op, as the search's cache knows it."""
    return op.name if isinstance(op, Recolor) else op


def stack_grids(grids: Sequence[Grid]) -> npt.NDArray[np.int8]:
    """Stack same-shape grids into one (n, rows, cols) int8 array."""
    if not grids:
        raise ValueError("stack_grids needs at least one grid")
    shapes = sorted({shape(grid) for grid in grids})
    if len(shapes) > 1:
        raise ValueError(f"stack_grids needs grids of one shape, got {shapes}")
    return np.array(grids, dtype=np.int8)


def to_grids(batch: npt.NDArray[Any]) -> list[Grid]:
    """Split an (n, rows, cols) host array back into grids of Python ints."""
    return [make_grid(plane) for plane in batch.tolist()]


def apply_op(xp: ModuleType, batch: Any, op: BatchOp) -> Any:
    """One op on a whole (n, rows, cols) batch; xp is numpy or cupy."""
    if isinstance(op, Recolor):
        return xp.where(batch == op.source, batch.dtype.type(op.target), batch)
    if op in _QUARTER_TURNS:
        return xp.rot90(batch, k=_QUARTER_TURNS[op], axes=(1, 2))
    if op in _FLIP_AXES:
        return xp.flip(batch, axis=_FLIP_AXES[op])
    if op == "transpose":
        return xp.swapaxes(batch, 1, 2)
    raise ValueError(f"no batch op {op!r}: use one of {', '.join(GEOMETRIC_OPS)} or Recolor")


def _transform(
    xp: ModuleType,
    grids: Sequence[Grid],
    ops: Sequence[BatchOp],
    to_host: Callable[[Any], npt.NDArray[Any]],
) -> dict[str, list[Grid]]:
    device = xp.asarray(stack_grids(grids))
    results: dict[str, list[Grid]] = {}
    for op in ops:
        out = xp.ascontiguousarray(apply_op(xp, device, op))
        results[op_name(op)] = to_grids(to_host(out))
    return results


def numpy_batch(grids: Sequence[Grid], ops: Sequence[BatchOp]) -> dict[str, list[Grid]]:
    """The NumPy reference of the batch path: same array code, on the CPU."""
    return _transform(np, grids, ops, np.asarray)


def _cupy_to_host(array: Any) -> npt.NDArray[Any]:
    host: npt.NDArray[Any] = array.get()
    return host


class GpuBatch:
    """The batch path on a GPU, through the cupy module that workbench.gpu hands out."""

    def __init__(self, cupy: ModuleType, device: str) -> None:
        self._cp = cupy
        self.device = device

    def transform(self, grids: Sequence[Grid], ops: Sequence[BatchOp]) -> dict[str, list[Grid]]:
        """Each op applied to all grids at once on the GPU, results as grids, by op name."""
        return _transform(self._cp, grids, ops, _cupy_to_host)


def open_gpu_batch(use_gpu: bool | None) -> tuple[GpuBatch | None, str]:
    """The GPU batch path (or None) for a use_gpu setting, and the reason in words.

    use_gpu=None uses a GPU when one is usable; True demands one and raises
    GpuUnavailableError without; False never uses one.
    """
    if use_gpu is False:
        return None, "GPU batch path turned off (use_gpu=False)"
    status = gpu.probe()
    cupy = gpu.cupy_or_none() if status.available else None
    if cupy is None:
        if use_gpu:
            raise GpuUnavailableError(
                f"use_gpu=True, but the GPU batch path cannot run: {status.reason}. "
                "Install CuPy for your CUDA on a machine with an NVIDIA GPU "
                "(pip install 'workbench[gpu-cuda12]'), or pass use_gpu=None to run on the CPU."
            )
        return None, f"GPU batch path not used: {status.reason}"
    device = status.devices[0] if status.devices else "GPU"
    return GpuBatch(cupy, device), f"GPU batch path on {device} ({status.reason})"
