"""The seeds' MoE router: a static table from (complexity, data size) to a backend.

``BackendSelector.select_with_moe`` is seed 002's function, with any threshold table
(the profile's). The table was made for Rust on other hardware and ignores where the data
lives: :class:`workbench.route.router.Router` weighs that too, and explains the difference.
"""

from __future__ import annotations

import math
import os

import numpy as np

from workbench import gpu
from workbench.errors import RouteError
from workbench.route.kinds import Backend, Complexity
from workbench.route.machine_profile import (
    SEED_THRESHOLDS,
    MachineProfile,
    Thresholds,
    load_machine_profile,
)
from workbench.route.ops import OpRegistry

_INF = math.inf


def check_size(data_size: object) -> int | float:
    """A data size as a number >= 0; RouteError for negative, NaN, bool or non-numbers."""
    if isinstance(data_size, bool) or not isinstance(
        data_size, (int, float, np.integer, np.floating)
    ):
        raise RouteError(f"data size must be a number of elements, got {data_size!r}")
    value = int(data_size) if isinstance(data_size, (int, np.integer)) else float(data_size)
    if value != value or value < 0:
        raise RouteError(f"data size must be a number >= 0 of elements, got {data_size!r}")
    return value


def table_choice(thresholds: Thresholds, complexity: Complexity, data_size: float) -> Backend:
    """The table's answer, whether or not a GPU is there."""
    tier = thresholds.tier(complexity)
    if tier.gpu_above is not None and data_size > tier.gpu_above:
        return Backend.GPU
    if tier.simd_above is not None and data_size > tier.simd_above:
        return Backend.SIMD
    return Backend.SCALAR


class BackendSelector:
    """Seed 002's ``BackendSelector``: Scalar, SIMD or GPU from complexity and size.

    `profile` gives the table ('seed', a MachineProfile or a JSON path). `gpu`: None
    probes for CuPy and a device on the first GPU answer; False never picks GPU; True
    assumes one is there (for questions about another machine). Without a GPU, a GPU
    answer becomes SIMD, and :meth:`explain` says why.
    """

    def __init__(
        self,
        profile: MachineProfile | str | os.PathLike[str] | None = "seed",
        *,
        gpu: bool | None = None,
    ) -> None:
        self.profile = load_machine_profile(profile) if profile != "seed" else None
        thresholds = self.profile.thresholds if self.profile else SEED_THRESHOLDS
        self.thresholds = thresholds
        self._gpu = gpu
        self._gpu_reason = "assumed present (gpu=True)" if gpu else "disabled (gpu=False)"
        rows: dict[object, tuple[float, float]] = {}
        for complexity in Complexity:
            tier = thresholds.tier(complexity)
            row = (
                _INF if tier.simd_above is None else tier.simd_above,
                _INF if tier.gpu_above is None else tier.gpu_above,
            )
            for key in (complexity, complexity.value, str(complexity), complexity.name):
                rows[key] = row
        self._rows = rows

    @property
    def gpu_available(self) -> bool:
        """Whether GPU answers stand (probed once, on first need)."""
        if self._gpu is None:
            status = gpu.probe()
            self._gpu = status.available
            self._gpu_reason = status.reason
        return self._gpu

    @property
    def gpu_reason(self) -> str:
        """Why GPU answers stand or not, in words."""
        _ = self.gpu_available
        return self._gpu_reason

    def select_with_moe(self, complexity: Complexity | str, data_size: int | float) -> Backend:
        """Seed 002: Scalar, SIMD or GPU for an op of this complexity over `data_size` elements."""
        row = self._rows.get(complexity)
        if row is None:
            row = self._rows[Complexity.parse(complexity)]
        if type(data_size) is not int or data_size < 0:
            data_size = check_size(data_size)
        if data_size > row[1]:
            return Backend.GPU if self.gpu_available else Backend.SIMD
        if data_size > row[0]:
            return Backend.SIMD
        return Backend.SCALAR

    def explain(self, complexity: Complexity | str, data_size: int | float) -> str:
        """select_with_moe's answer, with the table row that gave it."""
        level = Complexity.parse(complexity)
        size = check_size(data_size)
        tier = self.thresholds.tier(level)
        raw = table_choice(self.thresholds, level, size)
        simd = "never" if tier.simd_above is None else f"above {tier.simd_above:,.0f}"
        gpu_text = "never" if tier.gpu_above is None else f"above {tier.gpu_above:,.0f}"
        text = (
            f"{level} complexity, {size:,.0f} elements: the table says {raw.seed_name} "
            f"(SIMD {simd}, GPU {gpu_text} elements)"
        )
        if raw is Backend.GPU and not self.gpu_available:
            text += f"; no GPU here ({self.gpu_reason}), so SIMD"
        return text


def recommend_backend(
    op: str,
    data_size: int | float,
    *,
    profile: MachineProfile | str | os.PathLike[str] | None = "seed",
    gpu: bool | None = None,
) -> Backend:
    """Seed 002's ``converter.recommend_backend(op, size)``: the op's complexity from the
    registry, then the MoE table. ``recommend_backend("add", 100)`` is Scalar,
    ``("add", 2_000_000)`` SIMD, ``("dot", 50_000, gpu=True)`` GPU. Without a GPU here
    (and `gpu` not True), GPU answers become SIMD.
    """
    complexity = OpRegistry.builtin().get(op).complexity
    return BackendSelector(profile, gpu=gpu).select_with_moe(complexity, data_size)
