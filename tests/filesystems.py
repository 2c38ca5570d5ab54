"""Real faulty folders for tests: a file system that is full, one that is read-only.

As root (which ignores permission bits) they are real tmpfs mounts; a full one is filled
to the last block by a file, so every write after that gets ENOSPC from the kernel. Without
root a read-only folder is one with permission bits 0o555, and a full one is skipped.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def fill(folder: Path) -> None:
    """Write a file in `folder` until the file system has no block left."""
    fd = os.open(folder / "ballast", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    try:
        with open(folder / "probe", "wb") as handle:
            handle.write(b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    else:
        pytest.fail("the tmpfs still took a write after it was filled")
    finally:
        (folder / "probe").unlink(missing_ok=True)


@contextlib.contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    """`folder` on a small tmpfs of its own (as root; else the test is skipped): fill it
    with :func:`fill`."""
    if os.geteuid() != 0:
        pytest.skip("a full file system needs root (a tmpfs mount)")
    _mount(folder, "1m")
    try:
        yield folder
    finally:
        _umount(folder)


@contextlib.contextmanager
def full_disk(folder: Path) -> Iterator[Path]:
    """`folder` on a small tmpfs that is full (as root; else the test is skipped)."""
    with small_disk(folder):
        fill(folder)
        yield folder


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """`folder` that nothing can be written in: a read-only tmpfs as root, else mode 0o555.
    Whatever `folder` held before is copied in first."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    saved = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    _mount(folder, "1m")
    try:
        for name, data in saved.items():
            (folder / name).write_bytes(data)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        _umount(folder)


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name -> bytes), to compare before and after."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
