"""The op families a calibration sweeps, and how to make their inputs at a given size.

Sizes count the elements of the largest operand, as the router's Workload.size does, so a
threshold fitted here is compared with the same number the router sees at run time.
Matrix ops take square operands of about `size` elements; standard scaling takes a
samples x 8 features array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workbench.errors import WorkbenchError
from workbench.route import shapes as sh
from workbench.route.ops import OpRegistry, OpSpec

# The families: elementwise, reductions, the dot product, matmul, a scaler.
DEFAULT_OPS = ("add", "multiply", "sum", "mean", "max", "vdot", "matmul", "standard_scale")
# Where the inputs start: Python lists, NumPy arrays, CuPy arrays.
RESIDENCIES = ("python", "host", "device")


_BLOCK = 4099  # prime, so tiled inputs do not line up with matrix rows


class CalibrationError(WorkbenchError):
    """Bad input to a calibration: an unknown op, a bad size range or budget."""


def log_sizes(lo: float = 10, hi: float = 1e8, per_decade: int = 2) -> list[int]:
    """Sizes from `lo` to `hi` on a log scale, `per_decade` steps per factor of ten."""
    if not (1 <= lo < hi) or per_decade < 1:
        raise CalibrationError(
            f"sizes need 1 <= lo < hi and at least one step per decade, got lo={lo}, hi={hi}, "
            f"per_decade={per_decade}"
        )
    steps = round(math.log10(hi / lo) * per_decade)
    return sorted({round(lo * 10 ** (i / per_decade)) for i in range(steps + 1)})


@dataclass(frozen=True)
class Family:
    """One op to sweep: its registry entry and how its operands are shaped."""

    spec: OpSpec

    @property
    def name(self) -> str:
        return self.spec.name

    def shapes(self, size: int) -> list[sh.Shape]:
        """Operand shapes of a call whose largest operand has about `size` elements."""
        shapes, _ = sh.synthetic(self.spec.name, self.spec.kind, self.spec.arity, size)
        return shapes

    def actual_size(self, size: int) -> int:
        """Elements of the largest operand actually made for `size` (matrices round)."""
        return max(sh.size_of(s) for s in self.shapes(size))

    def inputs(self, size: int, dtype: np.dtype[np.generic], seed: int = 0) -> list[np.ndarray]:
        """Host operands: a block of uniform values in [0.5, 1.5) (no division by zero, no
        overflow) repeated to the shape, so a 1e8-element input costs a copy, not a draw."""
        rng = np.random.default_rng(seed)
        block = (rng.random(_BLOCK) + 0.5).astype(dtype)
        out = []
        for i, shape in enumerate(self.shapes(size)):
            n = sh.size_of(shape)
            out.append(np.resize(np.roll(block, 7 * i), n).reshape(shape))
        return out

    def nbytes(self, size: int, itemsize: int) -> int:
        """Bytes of the operands and one output, for the memory check before a point."""
        operands = sum(sh.size_of(s) for s in self.shapes(size))
        return (operands + self.actual_size(size)) * itemsize


def families(ops: Sequence[str] | None = None) -> list[Family]:
    """The families for these op names (registry names or aliases); the defaults if None."""
    registry = OpRegistry.builtin()
    chosen: list[Family] = []
    for name in ops or DEFAULT_OPS:
        try:
            spec = registry.get(name)
        except WorkbenchError as exc:
            raise CalibrationError(str(exc)) from None
        if not spec.runnable or spec.arity < 1:
            raise CalibrationError(
                f"{spec.name} cannot be calibrated: it has no kernels with fixed operands; "
                f"calibrate one of {', '.join(DEFAULT_OPS)} or another array op"
            )
        if spec.name not in [f.name for f in chosen]:
            chosen.append(Family(spec))
    return chosen
