"""This machine's identity, in one place.

- `Environment` / `current_environment()`: what a stored run was measured on (git commit,
  Python and library versions, the device). Cheap: no subprocess, no imports of libraries
  that are not loaded yet, because it is read on every recorded run.
- `MachineKey` / `current_key()`: the fields a machine profile (a calibration) is keyed by
  (CPU, GPU, driver, CUDA, NumPy, CuPy, Python, dtype), and how two keys differ.
- `cpu_name()`, `machine_id()`: the machine in words.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

UNKNOWN = "unknown"

# Libraries whose version is worth keeping with a run, when the kernel has loaded them.
TRACKED_LIBRARIES = ("numpy", "pandas", "scipy", "cupy", "numba", "torch", "workbench")


@cache
def cpu_name() -> str:
    """The CPU's model name, core count and architecture."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():  # Linux; elsewhere platform.processor() is what there is
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model} x{os.cpu_count() or 1} ({platform.machine()})"


def machine_id(gpu_names: Sequence[str] = ()) -> str:
    """This machine in words: 'CPU: ...; GPU: ...' (profiles record where they were measured)."""
    return f"CPU: {cpu_name()}; GPU: {', '.join(gpu_names) or 'none'}"


# -- what a stored run was measured on ---------------------------------------------------


@dataclass(frozen=True)
class Environment:
    """The facts stored with each run."""

    git_commit: str | None
    python: str
    versions: dict[str, str]
    device: str


def _git_dir(start: Path) -> Path | None:
    """The git directory of the repository holding `start` (worktrees included)."""
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip())
                return target if target.is_absolute() else (folder / target).resolve()
            return None
    return None


def _packed_ref(common: Path, ref: str) -> str | None:
    packed = common / "packed-refs"
    if not packed.is_file():
        return None
    for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[1].strip() == ref:
            return parts[0]
    return None


def git_commit(start: Path | None = None) -> str | None:
    """The commit checked out in the repository holding `start` (default: the working
    folder), read from the .git files; None outside a repository or when unreadable."""
    try:
        git = _git_dir((start or Path.cwd()).resolve())
        if git is None:
            return None
        head = (git / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head[len("ref:") :].strip()
        common = git
        commondir = git / "commondir"
        if commondir.is_file():
            common = (git / commondir.read_text(encoding="utf-8").strip()).resolve()
        for base in (git, common):
            ref_file = base / ref
            if ref_file.is_file():
                return ref_file.read_text(encoding="utf-8").strip() or None
        return _packed_ref(common, ref)
    except OSError:
        return None


def library_versions() -> dict[str, str]:
    """Versions of the tracked libraries this process has already imported."""
    versions = {}
    for name in TRACKED_LIBRARIES:
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None) if module is not None else None
        if isinstance(version, str):
            versions[name] = version
    return versions


def describe_device() -> str:
    """CPU and, where CuPy is already loaded, the GPU: e.g. 'x86_64, 2 CPUs, Linux; GPU: none'."""
    cpu = (
        f"{platform.machine() or 'unknown CPU'}, {os.cpu_count() or '?'} CPUs, {platform.system()}"
    )
    if "cupy" not in sys.modules:
        return f"{cpu}; GPU: not used (CuPy not loaded)"
    from workbench import gpu

    status = gpu.probe()
    if not status.available:
        return f"{cpu}; GPU: none ({status.reason})"
    return f"{cpu}; GPU: {', '.join(status.devices)}"


def current_environment(start: Path | None = None, device: str | None = None) -> Environment:
    """The environment now; pass `device` to reuse a description taken earlier."""
    return Environment(
        git_commit=git_commit(start),
        python=platform.python_version(),
        versions=library_versions(),
        device=device if device is not None else describe_device(),
    )


# -- what a calibration was measured on ------------------------------------------------


def _numpy_version() -> str:
    import numpy as np

    return str(np.__version__)


@dataclass(frozen=True)
class MachineKey:
    """CPU, GPU, driver and CUDA versions, library versions and dtype of one calibration."""

    cpu: str
    gpu: str = "none"
    driver: str = "none"
    cuda: str = "none"
    numpy: str = field(default_factory=_numpy_version)
    cupy: str = "none"
    python: str = field(default_factory=platform.python_version)
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
