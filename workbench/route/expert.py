"""One expert of a gated function: an implementation, its kind, and how to call it where
its inputs must live.

The kind says where an expert wants its arrays: ``python`` and ``numpy`` experts on the
host (CuPy arguments are copied to NumPy first), ``cupy`` experts on the GPU (NumPy
arguments are copied to the device first, through the staged copy where the machine
profile measured it faster). Arrays are moved at the top level of the arguments and one
level into lists, tuples and dicts; the result comes back the same way to where the
inputs lived (or where the caller asked). Lists, tuples of numbers and other objects are
passed as they are: an expert converts them itself, and that cost is part of its time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from workbench import gpu
from workbench.gpu.pinned import Mover
from workbench.route.features import DEVICE, HOST, ExpertError
from workbench.route.machine_profile import MachineProfile

PYTHON, NUMPY, CUPY = "python", "numpy", "cupy"
KINDS = (PYTHON, NUMPY, CUPY)
_KIND_NAMES = {
    "python": PYTHON,
    "pure": PYTHON,
    "scalar": PYTHON,
    "py": PYTHON,
    "numpy": NUMPY,
    "np": NUMPY,
    "simd": NUMPY,
    "host": NUMPY,
    "cupy": CUPY,
    "cp": CUPY,
    "gpu": CUPY,
    "device": CUPY,
}


def kind_of(name: str, kind: str | None) -> str:
    """An expert's kind: given, or read from its name ('numpy', 'gpu', ...); others are
    'python' (their arguments are passed as they are)."""
    if kind is not None:
        found = _KIND_NAMES.get(str(kind).lower())
        if found is None:
            raise ExpertError(f"expert kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return found
    return _KIND_NAMES.get(name.lower(), PYTHON)


@dataclass
class Expert:
    """An implementation of the gated function. `xp` is set for the array-generic form:
    the function takes the array module (numpy or cupy) as its first argument."""

    name: str
    fn: Callable[..., Any]
    kind: str
    reference: bool = False
    xp: bool = False
    first_s: float | None = None  # the first call's seconds (imports, compilation), apart
    first_bucket: int | None = None
    unavailable: str = ""  # why it cannot run on this machine ('no GPU: ...')
    _bound: dict[str, Callable[..., Any]] = field(default_factory=dict, repr=False)

    @property
    def where(self) -> str:
        """Where its arrays must live: 'host' or 'device'."""
        return DEVICE if self.kind == CUPY else HOST

    def callable(self, cp: ModuleType | None) -> Callable[..., Any]:
        """The function to call with the user's arguments (xp filled in for the
        array-generic form)."""
        if not self.xp:
            return self.fn
        module: Any = np if self.kind != CUPY else cp
        if module is None:
            return functools.partial(_no_cupy, self.name)
        return functools.partial(self.fn, module)


def _no_cupy(name: str, *args: Any, **kwargs: Any) -> Any:
    raise ExpertError(f"expert {name!r} needs CuPy, which is not usable here")


def _move(value: Any, convert: Callable[[Any], Any], wanted: Callable[[Any], bool]) -> Any:
    """`value` with the arrays `wanted` selects converted, at the top level and one level
    into lists, tuples and dicts."""
    if wanted(value):
        return convert(value)
    t = type(value)
    if t is list or t is tuple:
        if value and any(wanted(v) for v in value):
            moved = [convert(v) if wanted(v) else v for v in value]
            return moved if t is list else tuple(moved)
        return value
    if t is dict and any(wanted(v) for v in value.values()):
        return {k: convert(v) if wanted(v) else v for k, v in value.items()}
    return value


def _is_host_array(value: Any) -> bool:
    return type(value) is np.ndarray


def _is_device_array(value: Any) -> bool:
    return gpu.is_device_type(type(value)) and hasattr(value, "shape")


class Placer:
    """Moves arguments to where an expert needs them and results back, with one copy
    method per direction (staged through pinned buffers where the profile found it
    faster, a plain CuPy copy otherwise)."""

    def __init__(self, cp: ModuleType | None, mover: Mover | None) -> None:
        self.cp = cp
        self.mover = mover

    def _to_device(self, a: Any) -> Any:
        if self.cp is None:
            raise ExpertError("CuPy is not usable here: the arguments cannot go to the GPU")
        return self.mover.to_device(a) if self.mover is not None else self.cp.asarray(a)

    def _to_host(self, a: Any) -> Any:
        if self.cp is None:
            raise ExpertError("a CuPy array was given but CuPy is not usable here")
        return self.mover.to_host(a) if self.mover is not None else self.cp.asnumpy(a)

    def to(self, where: str, value: Any) -> Any:
        """`value` with its arrays moved to `where` ('host' or 'device')."""
        if where == DEVICE:
            return _move(value, self._to_device, _is_host_array)
        return _move(value, self._to_host, _is_device_array)

    def runner(
        self, fn: Callable[..., Any], needs: str, lives: str, out: str
    ) -> Callable[..., Any]:
        """`fn` called with its arrays moved from `lives` to `needs`, its result moved to
        `out`; `fn` itself when nothing moves."""
        if needs == lives == out:
            return fn
        to = self.to

        def moved(*args: Any, **kwargs: Any) -> Any:
            if needs != lives:
                args = tuple(to(needs, a) for a in args)
                kwargs = {k: to(needs, v) for k, v in kwargs.items()}
            result = fn(*args, **kwargs)
            return result if needs == out else to(out, result)

        return moved

    def host_copy(self, value: Any) -> Any:
        """The value with device arrays copied to the host (to compare results)."""
        if self.cp is None:
            return value
        return _move(value, self._to_host, _is_device_array)


def gpu_for(experts: list[Expert], wanted: int | None, qualname: str) -> tuple[Any, int, str]:
    """(CuPy or None, the GPU index or -1, a note) for these experts: CuPy experts are
    marked unavailable, with the reason, where no GPU is usable."""
    if not any(e.kind == CUPY for e in experts):
        return None, -1, ""
    status = gpu.probe()
    if not status.available:
        for e in experts:
            if e.kind == CUPY:
                e.unavailable = f"no GPU: {status.reason}"
        return None, -1, f"CuPy experts skipped: {status.reason}"
    cp = gpu.cupy_or_none()
    if cp is None:
        return None, -1, ""
    device = int(cp.cuda.runtime.getDevice()) if wanted is None else wanted
    if not 0 <= device < len(status.devices):
        raise ExpertError(
            f"{qualname}: device={wanted}, but this machine has GPUs 0..{len(status.devices) - 1}"
        )
    cp.cuda.Device(device).use()
    return cp, device, ""


def mover_for(cp: ModuleType | None, profile: MachineProfile | None) -> Mover | None:
    """Staged copies where the machine profile measured them faster, else None (plain)."""
    t = profile.transfer if profile is not None else None
    if cp is None or t is None or "staged" not in (t.h2d_method, t.d2h_method):
        return None
    return Mover(
        cp, t.h2d_method == "staged", t.d2h_method == "staged", t.stage_above, t.stage_threads
    )
