"""A lane: one backend, with inputs on one residency, on one device. It makes its inputs,
runs the op the way the router would (through the router's own backend functions, so
conversions and copies are paid as at run time), synchronises and checks results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from workbench import gpu
from workbench.calibration import oracle
from workbench.calibration.families import Family
from workbench.calibration.oracle import LANES as ORACLE_LANES
from workbench.calibration.result import CPU
from workbench.gpu.pinned import Mover
from workbench.route.kinds import Location
from workbench.route.router import Router

_LOCATION = {"python": Location.PYTHON, "host": Location.HOST, "device": Location.DEVICE}


@dataclass(frozen=True)
class Lane:
    """Backend `backend` on inputs living in `residency`; `device` is the GPU involved."""

    residency: str
    device: int
    backend: str

    @property
    def uses_gpu(self) -> bool:
        return self.device != CPU


def lanes_for(residency: str, gpus: Sequence[int], oracle: bool = True) -> list[Lane]:
    """Every lane of one residency: Python and NumPy, plus CuPy on each GPU; then the
    independent oracle's idiomatic-code lanes (calibrate/oracle.py) likewise."""
    out: list[Lane] = []
    for names in (("python", "numpy", "cupy"), ORACLE_LANES if oracle else ()):
        if not names:
            continue
        py, np_, cu = names
        if residency == "device":
            out += [Lane("device", d, b) for d in gpus for b in (py, np_, cu)]
        else:
            out += [Lane(residency, CPU, py), Lane(residency, CPU, np_)]
            out += [Lane(residency, d, cu) for d in gpus]
    return out


class Runner:
    """Runs lanes of one family; holds the CuPy module (None on a CPU-only sweep)."""

    def __init__(self, cp: ModuleType | None) -> None:
        self.cp = cp
        self.mover: Mover | None = None  # staged copies, where they measured faster
        self._router: Router | None = None

    @property
    def router(self) -> Router:
        """The router whose own code each lane runs (Router.kernel: no dispatch)."""
        if self._router is None or self._router._staging is not self.mover:
            self._router = Router("seed", gpu=self.cp is not None, mover=self.mover)
        return self._router

    def on(self, lane: Lane) -> AbstractContextManager[Any]:
        """The context a lane's work runs in: its GPU made current, if it has one."""
        if self.cp is not None and lane.uses_gpu:
            return self.cp.cuda.Device(lane.device)  # type: ignore[no-any-return]
        return nullcontext()

    def sync(self, lane: Lane) -> Callable[[], None]:
        """What ends a timed call: a device synchronise for lanes that touch a GPU."""
        cp = self.cp
        if cp is None or not lane.uses_gpu:
            return _nothing
        device = cp.cuda.Device(lane.device)
        return device.synchronize  # type: ignore[no-any-return]

    def place(self, lane: Lane, host: Sequence[np.ndarray]) -> list[Any]:
        """The operands where the lane's inputs live: lists, NumPy arrays or CuPy arrays."""
        if lane.residency == "python":
            return [a.tolist() for a in host]
        if lane.residency == "device":
            assert self.cp is not None
            with self.cp.cuda.Device(lane.device):
                return [self.cp.asarray(a) for a in host]
        return list(host)

    def call(self, family: Family, lane: Lane, operands: Sequence[Any]) -> Callable[[], Any]:
        """A no-argument call of the op on the lane, the result left where inputs live:
        exactly what the router runs for that backend (its idiomatic pure-Python kernels,
        NumPy as a user writes it, CuPy with the copies it makes)."""
        spec, params = family.spec, dict(family.spec.params)
        if lane.backend in ORACLE_LANES:
            return oracle.calls(spec.name, lane.residency, operands, self.cp)[lane.backend]
        where = _LOCATION[lane.residency]
        return self.router.kernel(lane.backend, spec.name, *operands, to=where, **params)

    def to_host(self, result: Any) -> np.ndarray:
        """A result as a NumPy array, for the check against NumPy's."""
        if self.cp is not None and gpu.is_device_type(type(result)):
            return np.asarray(self.cp.asnumpy(result))
        return np.asarray(result)

    def oom_errors(self) -> tuple[type[BaseException], ...]:
        """Exceptions that mean 'out of memory' here."""
        if self.cp is None:
            return (MemoryError,)
        return (MemoryError, gpu.out_of_memory_error(self.cp))

    def free(self) -> None:
        """Give cached GPU blocks back (between big sizes and after a failure)."""
        if self.cp is not None:
            gpu.free_cached_blocks(self.cp)


def _nothing() -> None:
    return None


def mismatch(got: np.ndarray, want: np.ndarray, dtype: np.dtype[np.generic]) -> str | None:
    """Why `got` is not NumPy's answer `want`, or None when it is (within rounding)."""
    if got.shape != want.shape:
        return f"shape {got.shape} where NumPy gives {want.shape}"
    rtol = 1e-6 if dtype.itemsize >= 8 else 1e-3
    if not np.allclose(got, want, rtol=rtol, atol=rtol * float(np.max(np.abs(want), initial=1))):
        worst = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
        return f"differs from NumPy's result by up to {worst:.3g} (rtol {rtol:g})"
    return None
