"""Files written whole or not at all: a temporary file in the same folder, then a rename;
several files into one folder all together or none (:func:`write_files`)."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Collection, Mapping
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and a rename.

    The file gets the permissions of any newly created file (0o666 less the umask).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_files(
    folder: str | os.PathLike[str],
    files: Mapping[str, bytes],
    *,
    replaces: Collection[str] = (),
) -> dict[str, Path]:
    """Write several files into `folder`, all of them or none.

    Every file is first written whole to a temporary name in the folder; only when all
    are written are they renamed into place, so a full disk or a read-only folder leaves
    the folder as it was (a folder created for them is removed again). Files named in
    `replaces` that are not among `files` are then removed: they belong to the set being
    replaced (a report saved before, with a file this one does not have).
    Raises OSError (NotADirectoryError when `folder` is a file).
    """
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder", str(target))
    created = [p for p in (target, *target.parents) if not p.exists()]
    temps: list[tuple[Path, Path]] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            tmp = target / f".{name}.{secrets.token_hex(6)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            temps.append((tmp, target / name))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        for tmp, final in temps:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        for made in created:  # innermost first
            with contextlib.suppress(OSError):
                made.rmdir()
        raise
    for name in set(replaces) - set(files):
        (target / name).unlink(missing_ok=True)
    return {name: target / name for name in files}
