"""The run store: every profiled run, baseline, experiment and workflow event, in SQLite.

One embedded file (default ``.workbench/runs.sqlite`` in the project folder). Writes go
through :meth:`RunStore.write`, one ``BEGIN IMMEDIATE`` transaction each, so a crash or a
full disk leaves the file as it was before the write. WAL mode and a busy timeout let two
kernels write to the same file at once. Report tables are kept as compressed JSON blobs in
their own table, so listing runs never reads them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.errors import StoreError
from workbench.store.files import (
    SQLITE_FAILURES,
    as_dict,
    describe_sqlite_error,
    identity,
)
from workbench.store.opening import open_store_file
from workbench.store.records import (
    DamagedRow,
    ExperimentRow,
    PhaseEvent,
    StoredBaseline,
    StoredRun,
    Writer,
    baseline_from_row,
    pack_frame,
    run_from_row,
    unpack_frame,
)
from workbench.store.schema import (
    RUN_LIST_COLUMNS,
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

BASELINE_SQL = (
    "SELECT b.*, r.session AS session, r.git_commit AS git_commit, r.device AS device,"
    " r.python AS python FROM baselines b LEFT JOIN runs r ON r.id = b.run_id"
)


class RunStore:
    """An open run store. Use as a context manager, or call :meth:`close`.

    A file that is not a workbench store (another program's SQLite file, a corrupt file, a
    newer schema) is refused before anything is written to it. A store the process cannot
    write (a read-only file, folder or file system) opens for reading, and every write is a
    StoreError; `read_only=True` asks for that. The store remembers which file it opened:
    when that file is deleted or replaced under it, the next read or write is a StoreError
    (nothing is lost into the old file) and the one after opens the file now at the path.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        start: str | os.PathLike[str] | None = None,
        read_only: bool = False,
    ):
        self.path = resolve_store_path(path, start=start)
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._stale = False
        if self.path.is_dir():
            raise StoreError(f"run store path {self.path} is a folder: give a file name")
        if self.path.exists() and not self.path.is_file():
            raise StoreError(
                f"run store path {self.path} is not a plain file (a device, a pipe or a "
                "socket): give the name of a file"
            )
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        conn, self.read_only = open_store_file(self.path, self.read_only)
        self._identity = identity(self.path)
        return conn

    def _check_file(self) -> None:
        """StoreError when the file at the path is no longer the one this store opened."""
        if self._conn is None or self._identity is None:
            return
        now = identity(self.path)
        if now == self._identity:
            return
        what = "was deleted" if now is None else "was replaced by another file"
        # Empty our write-ahead log first: SQLite keeps it at the path on close once the
        # file is gone, and would lay the old pages over whatever file comes to the path.
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()
        self._conn = None
        self._stale = True
        raise StoreError(
            f"the run store {self.path} {what} after this kernel opened it: nothing was "
            "read or written (writing on would have gone to the old, unreachable file); run "
            "again: the store is opened anew from the file now at that path (a new one is "
            "created if there is none)"
        )

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection (raises once the store is closed)."""
        if self._conn is None and self._stale:
            self._stale = False
            self._conn = self._open()
        if self._conn is None:
            raise StoreError(f"the run store {self.path} is closed: open it again")
        self._check_file()
        return self._conn

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._conn is None and not self._stale

    def close(self) -> None:
        """Close the connection; the file stays."""
        self._stale = False
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
        if self.read_only:
            raise StoreError(
                f"the run store {self.path} is open read-only (the file, its folder or its "
                "disk cannot be written): nothing was written; copy it somewhere writable, "
                "or point WORKBENCH_STORE (or --store) at a writable file"
            )
        try:
            conn.execute("BEGIN IMMEDIATE")
        except SQLITE_FAILURES as exc:
            raise StoreError(describe_sqlite_error(exc, self.path)) from None
        try:
            yield Writer(conn)
            conn.execute("COMMIT")
        except SQLITE_FAILURES as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(describe_sqlite_error(exc, self.path)) from None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            cursor = self.conn.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()
        except SQLITE_FAILURES as exc:
            raise StoreError(describe_sqlite_error(exc, self.path)) from None

    # --- runs ----------------------------------------------------------------------------

    def add_run(self, report: Report, **kwargs: Any) -> int:
        """Store one report in its own transaction; see :meth:`Writer.add_run`."""
        with self.write() as writer:
            return writer.add_run(report, **kwargs)

    def has_origins(self) -> bool:
        """True when the file keeps each run's origin (a schema-1 store opened read-only
        does not)."""
        return any(row["name"] == "origin" for row in self._query("PRAGMA table_info(runs)"))

    def _origin_filter(self, origin: str | None) -> tuple[str, tuple[object, ...]]:
        if origin is None or not self.has_origins():
            return "", ()
        return "origin = ?", (origin,)

    def runs(self, origin: str | None = None) -> pd.DataFrame:
        """Every run (from `origin` only, when given), oldest first, without its tables."""
        has = self.has_origins()
        columns = ", ".join(
            c if has or c != "origin" else "NULL AS origin" for c in RUN_LIST_COLUMNS
        )
        where, params = self._origin_filter(origin)
        rows = self._query(
            f"SELECT {columns} FROM runs {'WHERE ' + where if where else ''} ORDER BY id", params
        )
        frame = pd.DataFrame([tuple(row) for row in rows], columns=list(RUN_LIST_COLUMNS))
        frame["complete"] = frame["complete"].astype(bool)
        return frame

    def times_of_code(self, code: str) -> list[float]:
        """Profiled seconds of every complete run of exactly this code, oldest first."""
        rows = self._query(
            "SELECT profiled_s FROM runs WHERE code = ? AND complete = 1 ORDER BY id", (code,)
        )
        return [float(row["profiled_s"]) for row in rows]

    def resolve_run(self, ref: int | str, origin: str | None = None) -> int:
        """A run id from an id (``12``), a position from the end (``-1`` is the latest),
        or a name or label (the latest run carrying it). With `origin`, positions, names
        and labels count only the runs of that notebook or script (ids are ids)."""
        text = str(ref).strip()
        where, params = self._origin_filter(origin)
        scope = f" AND {where}" if where else ""
        if text.lstrip("-").isdigit():
            number = int(text)
            if number < 0:
                rows = self._query(
                    f"SELECT id FROM runs WHERE 1{scope} ORDER BY id DESC LIMIT 1 OFFSET ?",
                    (*params, -number - 1),
                )
            else:
                rows = self._query("SELECT id FROM runs WHERE id = ?", (number,))
        else:
            rows = self._query(
                f"SELECT id FROM runs WHERE name = ?{scope} ORDER BY id DESC LIMIT 1",
                (text, *params),
            ) or self._query(
                f"SELECT id FROM runs WHERE label = ?{scope} ORDER BY id DESC LIMIT 1",
                (text, *params),
            )
        if not rows:
            recent = self._query(
                f"SELECT id, name, label FROM runs WHERE 1{scope} ORDER BY id DESC LIMIT 5", params
            )
            known = ", ".join(f"#{r['id']} {r['name'] or r['label']!r}" for r in recent) or "none"
            mine = f" from {origin}" if where else ""
            raise StoreError(
                f"no run {text!r}{mine} in {self.path}: give a run id, -1 for the latest, or a "
                f"baseline/candidate name or label (recent runs{mine}: {known})"
            )
        return int(rows[0]["id"])

    def get_run(self, ref: int | str, *, tables: bool = True) -> StoredRun:
        """One run, with its tables unless `tables` is False."""
        run_id = self.resolve_run(ref)
        row = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))[0]
        try:
            run = run_from_row(as_dict(row))
            if tables:
                blobs = self._query("SELECT name, data FROM run_tables WHERE run_id = ?", (run_id,))
                for blob in blobs:
                    if not isinstance(blob["data"], bytes):
                        raise DamagedRow(f"its {blob['name']!r} table is not a blob")
                    run.tables[str(blob["name"])] = unpack_frame(blob["data"])
        except DamagedRow as exc:
            raise StoreError(self._damaged(f"run #{run_id}", exc)) from None
        return run

    def _damaged(self, what: str, exc: DamagedRow) -> str:
        return (
            f"{what} in the run store {self.path} is damaged ({exc}): the rest of the store "
            "is readable; leave this one out, or remove it with RunStore(path).delete_runs([id])"
        )

    # --- baselines, experiments, workflow ------------------------------------------------

    def baseline(self, name: str | None = None) -> StoredBaseline:
        """The baseline called `name`, or the latest one recorded when `name` is None."""
        if name is None:
            rows = self._query(f"{BASELINE_SQL} ORDER BY b.created_at DESC, b.run_id DESC LIMIT 1")
            if not rows:
                raise StoreError(
                    f"no baseline recorded in {self.path}: record one first with "
                    "%%optimize --baseline NAME"
                )
        else:
            rows = self._query(f"{BASELINE_SQL} WHERE b.name = ?", (name,))
            if not rows:
                known = [r["name"] for r in self._query("SELECT name FROM baselines ORDER BY name")]
                hint = f"recorded: {', '.join(known)}" if known else "none is recorded yet"
                raise StoreError(
                    f"no baseline named {name!r} in {self.path} ({hint}): record it with "
                    f"%%optimize --baseline {name}"
                )
        values = as_dict(rows[0])
        try:
            return baseline_from_row(values)
        except DamagedRow as exc:
            raise StoreError(self._damaged(f"baseline {values.get('name', name)!r}", exc)) from None

    def experiments(self) -> list[ExperimentRow]:
        """Every experiment, oldest first."""
        rows = self._query("SELECT * FROM experiments ORDER BY id")
        out = []
        for row in rows:
            values = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row
            try:
                detail = json.loads(values["detail"])
                if not isinstance(detail, dict):
                    raise DamagedRow(f"its detail holds a {type(detail).__name__}")
                values["detail"] = detail
                out.append(ExperimentRow(**values))
            except (DamagedRow, ValueError, TypeError, RecursionError) as exc:
                raise StoreError(
                    self._damaged(f"experiment #{values.get('id')}", DamagedRow(str(exc)))
                ) from None
        return out

    def phase_events(self, workflow: str) -> list[PhaseEvent]:
        """The state changes of one workflow, oldest first."""
        rows = self._query("SELECT * FROM phase_events WHERE workflow = ? ORDER BY id", (workflow,))
        try:
            return [PhaseEvent(**as_dict(row)) for row in rows]  # type: ignore[arg-type]
        except TypeError as exc:
            raise StoreError(
                self._damaged(f"a workflow event of {workflow!r}", DamagedRow(str(exc)))
            ) from None

    def check(self) -> str:
        """SQLite's own integrity check of the whole file: 'ok' when it is sound."""
        rows = self._query("PRAGMA integrity_check")
        return "; ".join(str(row[0]) for row in rows)


def runs(store: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every stored run as a DataFrame (id, created_at, kind, name, label, times, calls,
    complete, git commit, device, python), oldest first."""
    with RunStore(store) as opened:
        return opened.runs()
