"""The SQLite file under a run store: what its errors mean, which file it is, whether it
can be written, what tables it holds."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

BUSY_TIMEOUT_S = 30.0


def identity(path: Path) -> tuple[int, int] | None:
    """The file's device and inode, or None when nothing is there."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def writable(path: Path) -> bool:
    """Whether SQLite can write the file and create its -wal and -shm files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master")}


# What reading or writing the file can raise: SQLite's errors, and text that is not UTF-8
# (a damaged page) when a row is fetched.
SQLITE_FAILURES = (sqlite3.Error, UnicodeDecodeError)


def describe_sqlite_error(exc: Exception, path: Path) -> str:
    """One line for what SQLite (or a damaged row's text) said, and what to do."""
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"the run store {path} is damaged: a row holds text that is not UTF-8 ({exc}); "
            "move it away to start a new store, or point WORKBENCH_STORE (or --store) at "
            "another file"
        )
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc)
    if name == "SQLITE_FULL" or "disk is full" in text:
        return (
            f"the disk holding the run store {path} is full: nothing from this write was "
            "stored and earlier runs are intact; free some space, or point WORKBENCH_STORE "
            "(or --store) at another disk"
        )
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in text:
        return (
            f"the run store {path} stayed locked by another kernel for {BUSY_TIMEOUT_S:g} s: "
            "nothing was written; run again when the other kernel's write has finished"
        )
    if (
        name in ("SQLITE_NOTADB", "SQLITE_CORRUPT")
        or "not a database" in text
        or "malformed" in text
    ):
        return (
            f"{path} is not a readable workbench run store (corrupt, or another kind of file: "
            f"{text}); move it away to start a new store, or point WORKBENCH_STORE "
            "(or --store) at another file"
        )
    if name == "SQLITE_READONLY" or "readonly" in text:
        return f"the run store {path} is read-only: point WORKBENCH_STORE (or --store) at a writable file"
    if name == "SQLITE_CANTOPEN" or "unable to open" in text:
        return f"cannot open the run store {path}: check that its folder exists and is writable"
    return f"run store {path}: {text}"


def as_dict(row: sqlite3.Row) -> dict[str, object]:
    """A result row as a plain mapping of column names to values."""
    return {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row
