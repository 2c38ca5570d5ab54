"""The one module that imports CuPy, and only when asked.

No CuPy, or CuPy without a usable GPU, is a normal state: :func:`probe` says which,
and why, instead of raising.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class GpuStatus:
    """Whether CuPy can run kernels here, and if not, the reason in words."""

    available: bool
    reason: str
    devices: tuple[str, ...] = ()


def cupy_installed() -> bool:
    """True when a `cupy` package is importable (without importing it)."""
    return importlib.util.find_spec("cupy") is not None


def probe() -> GpuStatus:
    """Import CuPy if it is installed and count the devices it can use."""
    if not cupy_installed():
        return GpuStatus(False, "CuPy is not installed")
    cp = importlib.import_module("cupy")
    runtime = cp.cuda.runtime
    try:
        count = int(runtime.getDeviceCount())
    except runtime.CUDARuntimeError as exc:
        return GpuStatus(False, f"CuPy is installed but no CUDA device is usable: {exc}")
    if count == 0:
        return GpuStatus(False, "CuPy is installed but sees no CUDA device")
    names = []
    for index in range(count):
        props = runtime.getDeviceProperties(index)
        name = props["name"]
        names.append(name.decode() if isinstance(name, bytes) else str(name))
    return GpuStatus(True, f"{count} CUDA device(s)", tuple(names))


def cupy_or_none() -> ModuleType | None:
    """The cupy module when a GPU is usable, else None."""
    if not probe().available:
        return None
    return importlib.import_module("cupy")


def is_device_type(cls: type) -> bool:
    """True for CuPy's array types, decided from the type's module: CuPy is not imported."""
    return cls.__module__.partition(".")[0] in ("cupy", "cupyx")


def synchronize(cp: ModuleType) -> None:
    """Wait until every kernel queued on the current device has finished."""
    cp.cuda.runtime.deviceSynchronize()


def out_of_memory_error(cp: ModuleType) -> type[BaseException]:
    """The exception CuPy raises when the GPU has no memory left for an allocation."""
    error: type[BaseException] = cp.cuda.memory.OutOfMemoryError
    return error


def free_cached_blocks(cp: ModuleType) -> None:
    """Give the memory CuPy's pools hold but no array uses back to the device."""
    cp.get_default_memory_pool().free_all_blocks()
    cp.get_default_pinned_memory_pool().free_all_blocks()


def device_seconds(cp: ModuleType, start: object, stop: object) -> float:
    """Seconds between two recorded CUDA events (waits for the second one)."""
    stop.synchronize()  # type: ignore[attr-defined]
    return float(cp.cuda.get_elapsed_time(start, stop)) / 1000.0


def cupy_module() -> ModuleType | None:
    """The cupy module when it is installed (device or not), else None. Needed to move
    CuPy arrays a caller already holds, even where the router may not use the GPU."""
    if not cupy_installed():
        return None
    return importlib.import_module("cupy")
