"""What a calibration was measured on: the fields a hardware profile is keyed by."""

from __future__ import annotations

import datetime
import platform
from dataclasses import asdict, dataclass, fields
from types import ModuleType
from typing import Any

import numpy as np

from workbench.route.profile import cpu_name

UNKNOWN = "unknown"


@dataclass(frozen=True)
class MachineKey:
    """CPU, GPU, driver and CUDA versions, library versions and dtype of one calibration."""

    cpu: str
    gpu: str = "none"
    driver: str = "none"
    cuda: str = "none"
    numpy: str = np.__version__
    cupy: str = "none"
    python: str = platform.python_version()
    dtype: str = "float64"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MachineKey:
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in data.items() if k in known})

    def differences(self, other: MachineKey) -> list[str]:
        """'field: this vs other' for every field that differs."""
        return [
            f"{f.name}: {getattr(self, f.name)!r} vs {getattr(other, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]


def _version(number: int) -> str:
    """CUDA's packed version number (12040) as text ('12.4')."""
    return f"{number // 1000}.{number % 1000 // 10}" if number else UNKNOWN


def key_for(cp: ModuleType | None, devices: tuple[int, ...], dtype: str) -> MachineKey:
    """The key of this machine, with the GPUs in `devices` (none when cp is None)."""
    if cp is None or not devices:
        return MachineKey(cpu=cpu_name(), dtype=dtype)
    runtime = cp.cuda.runtime
    names = []
    for index in devices:
        name = runtime.getDeviceProperties(index)["name"]
        names.append(name.decode() if isinstance(name, bytes) else str(name))
    return MachineKey(
        cpu=cpu_name(),
        gpu=", ".join(f"{i}: {n}" for i, n in zip(devices, names, strict=True)),
        driver=_version(int(runtime.driverGetVersion())),
        cuda=_version(int(runtime.runtimeGetVersion())),
        cupy=str(cp.__version__),
        dtype=dtype,
    )


def today() -> str:
    """The date and time a calibration ran, in UTC (ISO 8601, minutes)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%MZ")


def current_key(dtype: str = "float64") -> MachineKey:
    """This machine's key, with every GPU CuPy can use (CPU-only without one)."""
    from workbench import gpu

    status = gpu.probe()
    cp = gpu.cupy_or_none() if status.available else None
    return key_for(cp, tuple(range(len(status.devices))), dtype)


def differences(saved: dict[str, str], here: MachineKey | None = None) -> list[str]:
    """Fields where a saved profile's key differs from this machine ('field: saved vs
    here'); fields the profile did not record are not compared."""
    if not saved:
        return []
    here = here or current_key(saved.get("dtype", "float64"))
    theirs = MachineKey.from_dict(saved)
    compared = set(saved)
    if saved.get("gpu", "none") == "none":  # a CPU-only profile says nothing of GPUs
        compared -= {"gpu", "driver", "cuda", "cupy"}
    return [d for d in theirs.differences(here) if d.split(":", 1)[0] in compared]
