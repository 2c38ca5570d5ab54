"""Opening the file under a run store: refuse what is not a workbench store before anything
could write to it, fall back to reading when the file cannot be written, create the schema
in a new file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from workbench.errors import StoreError
from workbench.store.files import (
    BUSY_TIMEOUT_S,
    SQLITE_FAILURES,
    describe_sqlite_error,
    table_names,
    writable,
)
from workbench.store.schema import APP_ID, MIGRATIONS, SCHEMA_SQL, SCHEMA_VERSION, SQLITE_HEADER


def open_store_file(path: Path, read_only: bool) -> tuple[sqlite3.Connection, bool]:
    """A connection to the run store at `path` and whether it is read-only (asked for, or
    because the file, its folder or its disk cannot be written). Another program's file, a
    damaged one or a newer schema is refused before anything could write to it."""
    existing = path.is_file() and path.stat().st_size > 0
    made = [p for p in (path, *path.parents) if not p.exists()]  # removed again on failure
    if existing:
        check_header(path)
        inspect_schema(path)
    elif read_only:
        raise StoreError(f"there is no run store at {path} to read")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder of the run store {path}: {exc.strerror or exc}"
            ) from None
    if not read_only and existing and not writable(path):
        read_only = True
    conn = connect(path, read_only)
    try:
        names = table_names(conn)
        if "meta" in names:
            check_meta(conn, path)
        elif names:
            raise StoreError(foreign(path, names))
        elif read_only:
            raise StoreError(f"{path} is an empty SQLite file: no runs to read")
        if not read_only:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            prepare(conn, path)
    except SQLITE_FAILURES as exc:
        conn.close()
        forget(made)
        raise StoreError(describe_sqlite_error(exc, path)) from None
    except BaseException:
        conn.close()
        forget(made)
        raise
    return conn, read_only


def forget(made: list[Path]) -> None:
    """Remove a store file (and its -wal, -shm and folders) that this opening created and
    could not finish: a failed open leaves nothing behind."""
    if not made:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{made[0]}{suffix}").unlink(missing_ok=True)
    for folder in made[1:]:
        try:
            folder.rmdir()
        except OSError:
            return


def foreign(path: Path, names: set[str]) -> str:
    return (
        f"{path} is an SQLite file of another program (tables: "
        f"{', '.join(sorted(names)[:5])}): it was left as it is; point WORKBENCH_STORE "
        "(or --store) at a new file"
    )


def check_header(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read the run store {path}: {exc.strerror or exc}") from None
    if header != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a readable workbench run store (corrupt, or another kind "
            "of file: it is not an SQLite file); it was left as it is: move it away to "
            "start a new store, or point WORKBENCH_STORE (or --store) at another file"
        )


def inspect_schema(path: Path) -> None:
    """Refuse another program's file before any connection that could write to it (or
    create its -wal and -shm files): an ``immutable`` read of its schema. What this read
    cannot see (tables still in another kernel's write-ahead log) is checked again on
    the real connection."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)
    except SQLITE_FAILURES:
        return
    try:
        names = table_names(conn)
        if "meta" in names:
            check_meta(conn, path)
        elif names:
            raise StoreError(foreign(path, names))
    except SQLITE_FAILURES:
        return  # read again, properly, on the real connection
    finally:
        conn.close()


def connect(path: Path, read_only: bool) -> sqlite3.Connection:
    """A read-write connection, or a read-only one (``mode=ro``, then ``immutable=1``
    where the folder cannot hold SQLite's shared-memory file)."""
    try:
        if not read_only:
            return sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        uri = path.as_uri()
        try:
            conn = sqlite3.connect(
                f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
            )
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
    except SQLITE_FAILURES as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from None


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in a new file, or bring an older schema up to date (checked again
    inside the transaction, in case another kernel did it meanwhile)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        names = table_names(conn)
        if "meta" in names:
            migrate(conn)
        else:
            if names:
                raise StoreError(
                    f"{path} became an SQLite file of another program while it was "
                    "opened: point WORKBENCH_STORE (or --store) at a new file"
                )
            for statement in SCHEMA_SQL:
                conn.execute(statement)
            conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [("app", APP_ID), ("schema_version", str(SCHEMA_VERSION))],
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations from the store's schema version to this one (inside the
    caller's transaction)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row and str(row[0]).isdigit() else SCHEMA_VERSION
    while version < SCHEMA_VERSION:
        for statement in MIGRATIONS[version]:
            conn.execute(statement)
        version += 1
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))


def check_meta(conn: sqlite3.Connection, path: Path) -> None:
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except (sqlite3.Error, TypeError, ValueError):
        meta = {}
    if meta.get("app") != APP_ID:
        raise StoreError(
            f"{path} is not a workbench run store (its meta table names "
            f"{meta.get('app')!r}): it was left as it is; point WORKBENCH_STORE (or "
            "--store) at another file"
        )
    version_text = str(meta.get("schema_version", "0"))
    version = int(version_text) if version_text.isdigit() else -1
    if version < 1:
        raise StoreError(
            f"the run store {path} has a damaged schema version "
            f"({version_text[:20]!r}): it was left as it is; move it away to start a new store"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the run store {path} was written by a newer workbench (schema "
            f"{version}; this one reads up to {SCHEMA_VERSION}): upgrade workbench "
            "(pip install -U workbench), or point WORKBENCH_STORE at another file"
        )
