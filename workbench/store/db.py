"""The run store: every profiled run, baseline, experiment and workflow event, in SQLite.

One embedded file (default ``.workbench/runs.sqlite`` in the project folder). Writes go
through :meth:`RunStore.write`, one ``BEGIN IMMEDIATE`` transaction each, so a crash or a
full disk leaves the file as it was before the write. WAL mode and a busy timeout let two
kernels write to the same file at once. Report tables are kept as compressed JSON blobs in
their own table, so listing runs never reads them.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.errors import StoreError
from workbench.store.records import (
    ExperimentRow,
    PhaseEvent,
    StoredBaseline,
    StoredRun,
    Writer,
    pack_frame,
    unpack_frame,
)
from workbench.store.schema import (
    APP_ID,
    RUN_LIST_COLUMNS,
    SCHEMA_SQL,
    SCHEMA_VERSION,
)
from workbench.store.schema import resolve_path as resolve_store_path

if TYPE_CHECKING:
    from workbench.profiling.report import Report

__all__ = [
    "ExperimentRow",
    "PhaseEvent",
    "RunStore",
    "StoredBaseline",
    "StoredRun",
    "Writer",
    "pack_frame",
    "resolve_store_path",
    "runs",
    "unpack_frame",
]

BUSY_TIMEOUT_S = 30.0


def _describe_sqlite_error(exc: sqlite3.Error, path: Path) -> str:
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


class RunStore:
    """An open run store. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, start: Path | None = None):
        self.path = resolve_store_path(path, start=start)
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder of the run store {self.path}: {exc.strerror or exc}"
            ) from None
        if self.path.is_dir():
            raise StoreError(f"run store path {self.path} is a folder: give a file name")
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(_describe_sqlite_error(exc, self.path)) from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._prepare(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(_describe_sqlite_error(exc, self.path)) from None
        except StoreError:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Create the schema in a new file, or check that an existing file is ours."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if "meta" not in names:
                if names:
                    raise StoreError(
                        f"{self.path} is an SQLite file of another program (tables: "
                        f"{', '.join(sorted(names)[:5])}): point WORKBENCH_STORE (or --store) "
                        "at a new file"
                    )
                for statement in SCHEMA_SQL:
                    conn.execute(statement)
                conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [("app", APP_ID), ("schema_version", str(SCHEMA_VERSION))],
                )
            else:
                self._check_meta(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _check_meta(self, conn: sqlite3.Connection) -> None:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("app") != APP_ID:
            raise StoreError(
                f"{self.path} is not a workbench run store (its meta table names "
                f"{meta.get('app')!r}): point WORKBENCH_STORE (or --store) at another file"
            )
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the run store {self.path} was written by a newer workbench (schema "
                f"{version}; this one reads up to {SCHEMA_VERSION}): upgrade workbench "
                "(pip install -U workbench), or point WORKBENCH_STORE at another file"
            )

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection (raises once the store is closed)."""
        if self._conn is None:
            raise StoreError(f"the run store {self.path} is closed: open it again")
        return self._conn

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._conn is None

    def close(self) -> None:
        """Close the connection; the file stays."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[Writer]:
        """One transaction: everything written in the block is stored, or nothing is."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(_describe_sqlite_error(exc, self.path)) from None
        try:
            yield Writer(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(_describe_sqlite_error(exc, self.path)) from None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            cursor = self.conn.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(_describe_sqlite_error(exc, self.path)) from None

    # --- runs ----------------------------------------------------------------------------

    def add_run(self, report: Report, **kwargs: Any) -> int:
        """Store one report in its own transaction; see :meth:`Writer.add_run`."""
        with self.write() as writer:
            return writer.add_run(report, **kwargs)

    def runs(self) -> pd.DataFrame:
        """Every run, oldest first, without its tables."""
        columns = ", ".join(RUN_LIST_COLUMNS)
        rows = self._query(f"SELECT {columns} FROM runs ORDER BY id")
        frame = pd.DataFrame([tuple(row) for row in rows], columns=list(RUN_LIST_COLUMNS))
        frame["complete"] = frame["complete"].astype(bool)
        return frame

    def times_of_code(self, code: str) -> list[float]:
        """Profiled seconds of every complete run of exactly this code, oldest first."""
        rows = self._query(
            "SELECT profiled_s FROM runs WHERE code = ? AND complete = 1 ORDER BY id", (code,)
        )
        return [float(row["profiled_s"]) for row in rows]

    def resolve_run(self, ref: int | str) -> int:
        """A run id from an id (``12``), a position from the end (``-1`` is the latest),
        or a name or label (the latest run carrying it)."""
        text = str(ref).strip()
        if text.lstrip("-").isdigit():
            number = int(text)
            if number < 0:
                rows = self._query(
                    "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", (-number - 1,)
                )
            else:
                rows = self._query("SELECT id FROM runs WHERE id = ?", (number,))
        else:
            rows = self._query(
                "SELECT id FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1", (text,)
            ) or self._query(
                "SELECT id FROM runs WHERE label = ? ORDER BY id DESC LIMIT 1", (text,)
            )
        if not rows:
            recent = self._query("SELECT id, name, label FROM runs ORDER BY id DESC LIMIT 5")
            known = ", ".join(f"#{r['id']} {r['name'] or r['label']!r}" for r in recent) or "none"
            raise StoreError(
                f"no run {text!r} in {self.path}: give a run id, -1 for the latest, or a "
                f"baseline/candidate name or label (recent runs: {known})"
            )
        return int(rows[0]["id"])

    def get_run(self, ref: int | str, *, tables: bool = True) -> StoredRun:
        """One run, with its tables unless `tables` is False."""
        run_id = self.resolve_run(ref)
        row = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))[0]
        run = StoredRun(
            id=row["id"],
            kind=row["kind"],
            name=row["name"],
            label=row["label"],
            created_at=row["created_at"],
            code=row["code"],
            git_commit=row["git_commit"],
            python=row["python"],
            versions=json.loads(row["versions"]),
            device=row["device"],
            profiled_s=row["profiled_s"],
            wall_s=row["wall_s"],
            calls=row["calls"],
            complete=bool(row["complete"]),
            error=row["error"],
            overhead=json.loads(row["overhead"]),
            rules=json.loads(row["rules"]),
            top_n=row["top_n"],
            findings=json.loads(row["findings"]),
        )
        if tables:
            blobs = self._query("SELECT name, data FROM run_tables WHERE run_id = ?", (run_id,))
            run.tables = {r["name"]: unpack_frame(r["data"]) for r in blobs}
        return run

    # --- baselines, experiments, workflow ------------------------------------------------

    def baseline(self, name: str | None = None) -> StoredBaseline:
        """The baseline called `name`, or the latest one recorded when `name` is None."""
        if name is None:
            rows = self._query(
                "SELECT * FROM baselines ORDER BY created_at DESC, run_id DESC LIMIT 1"
            )
            if not rows:
                raise StoreError(
                    f"no baseline recorded in {self.path}: record one first with "
                    "%%optimize --baseline NAME"
                )
        else:
            rows = self._query("SELECT * FROM baselines WHERE name = ?", (name,))
            if not rows:
                known = [r["name"] for r in self._query("SELECT name FROM baselines ORDER BY name")]
                hint = f"recorded: {', '.join(known)}" if known else "none is recorded yet"
                raise StoreError(
                    f"no baseline named {name!r} in {self.path} ({hint}): record it with "
                    f"%%optimize --baseline {name}"
                )
        row = rows[0]
        return StoredBaseline(
            name=row["name"],
            run_id=row["run_id"],
            code=row["code"],
            checks=json.loads(row["checks"]),
            outputs=row["outputs"],
            fingerprints=json.loads(row["fingerprints"]),
            created_at=row["created_at"],
        )

    def experiments(self) -> list[ExperimentRow]:
        """Every experiment, oldest first."""
        rows = self._query("SELECT * FROM experiments ORDER BY id")
        out = []
        for row in rows:
            values = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row
            values["detail"] = json.loads(values["detail"])
            out.append(ExperimentRow(**values))
        return out

    def phase_events(self, workflow: str) -> list[PhaseEvent]:
        """The state changes of one workflow, oldest first."""
        rows = self._query("SELECT * FROM phase_events WHERE workflow = ? ORDER BY id", (workflow,))
        return [PhaseEvent(**{key: row[key] for key in row.keys()}) for row in rows]  # noqa: SIM118

    def check(self) -> str:
        """SQLite's own integrity check of the whole file: 'ok' when it is sound."""
        rows = self._query("PRAGMA integrity_check")
        return "; ".join(str(row[0]) for row in rows)


def runs(store: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every stored run as a DataFrame (id, created_at, kind, name, label, times, calls,
    complete, git commit, device, python), oldest first."""
    with RunStore(store) as opened:
        return opened.runs()
