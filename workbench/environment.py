"""What a stored run was measured on: git commit, Python and library versions, the device.

Everything here is cheap (no subprocess, no imports of libraries that are not loaded yet),
because it is read on every recorded run.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

# Libraries whose version is worth keeping with a run, when the kernel has loaded them.
TRACKED_LIBRARIES = ("numpy", "pandas", "scipy", "cupy", "numba", "torch", "workbench")


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


def capture(start: Path | None = None, device: str | None = None) -> Environment:
    """The environment now; pass `device` to reuse a description taken earlier."""
    return Environment(
        git_commit=git_commit(start),
        python=platform.python_version(),
        versions=library_versions(),
        device=device if device is not None else describe_device(),
    )
