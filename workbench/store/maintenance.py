"""Keeping a run store small: remove old runs (:func:`prune`) and give their space back to
the disk (:func:`vacuum`).

A run is removed with its tables. The run of a current baseline is always kept, as are the
latest `keep` runs; experiments and workflow events that referred to a removed run keep their
numbers (verdict, speedup, interval) and lose only the link.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from workbench.errors import StoreError
from workbench.store.db import RunStore
from workbench.store.files import SQLITE_FAILURES, describe_sqlite_error

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|w|days?|hours?|weeks?)\s*$")
_UNIT_HOURS = {"h": 1.0, "d": 24.0, "w": 168.0}


@dataclass(frozen=True)
class PruneResult:
    """What :func:`prune` removed and the file's size before and after."""

    removed: list[int]
    kept: int
    bytes_before: int
    bytes_after: int

    def __str__(self) -> str:
        return (
            f"removed {len(self.removed)} run(s), kept {self.kept}; the store went from "
            f"{self.bytes_before / 1e6:.2f} MB to {self.bytes_after / 1e6:.2f} MB"
        )


def parse_age(older_than: timedelta | float | str) -> timedelta:
    """An age: a timedelta, a number of days, or text such as ``"30d"``, ``"12h"``, ``"2w"``."""
    if isinstance(older_than, timedelta):
        age = older_than
    elif isinstance(older_than, (int, float)) and not isinstance(older_than, bool):
        age = timedelta(days=float(older_than))
    elif isinstance(older_than, str) and (match := _AGE.match(older_than.lower())):
        age = timedelta(hours=float(match.group(1)) * _UNIT_HOURS[match.group(2)[0]])
    else:
        raise StoreError(
            f"older_than={older_than!r} is not an age: give days (30), a timedelta, or "
            "text such as '30d', '12h' or '2w'"
        )
    if age < timedelta(0):
        raise StoreError(f"older_than must not be negative, got {older_than!r}")
    return age


def delete_runs(store: RunStore, ids: Sequence[int]) -> int:
    """Remove runs with their tables, in one transaction; experiments and workflow events that
    referred to them keep their numbers and lose the link. Returns how many went. The run of
    a current baseline is refused: record another baseline under that name first."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return 0
    marks = ",".join("?" for _ in wanted)
    with store.write() as writer:
        conn = writer.conn
        held = conn.execute(
            f"SELECT name, run_id FROM baselines WHERE run_id IN ({marks})", wanted
        ).fetchall()
        if held:
            names = ", ".join(f"#{run_id} ({name!r})" for name, run_id in held)
            raise StoreError(f"runs {names} hold current baselines: nothing was removed")
        for column in ("baseline_run", "candidate_run"):
            conn.execute(
                f"UPDATE experiments SET {column} = NULL WHERE {column} IN ({marks})", wanted
            )
        conn.execute(f"UPDATE phase_events SET run_id = NULL WHERE run_id IN ({marks})", wanted)
        conn.execute(f"DELETE FROM run_tables WHERE run_id IN ({marks})", wanted)
        return int(conn.execute(f"DELETE FROM runs WHERE id IN ({marks})", wanted).rowcount)


def vacuum(store: RunStore | str | os.PathLike[str] | None = None) -> int:
    """Give the space of removed rows back to the disk (SQLite's VACUUM, then the WAL file
    truncated). Returns the store's size in bytes afterwards."""
    if not isinstance(store, RunStore):
        with RunStore(store) as opened:
            return vacuum(opened)
    conn = store.conn
    if store.read_only:
        raise StoreError(f"the run store {store.path} is open read-only: it cannot be vacuumed")
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except SQLITE_FAILURES as exc:
        raise StoreError(describe_sqlite_error(exc, store.path)) from None
    return size_on_disk(store)


def size_on_disk(store: RunStore) -> int:
    """Bytes of the store's file and its write-ahead log."""
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += os.stat(f"{store.path}{suffix}").st_size
    return total


def prune(
    store: RunStore | str | os.PathLike[str] | None = None,
    *,
    keep: int | None = None,
    older_than: timedelta | float | str | None = None,
    vacuum_after: bool = True,
    now: datetime | None = None,
) -> PruneResult:
    """Remove old runs: all but the latest `keep`, and (when given) only those recorded more
    than `older_than` ago (days, a timedelta, or ``"30d"``/``"12h"``/``"2w"``). Runs of current
    baselines always stay. With neither argument nothing is removed. Then the space is given
    back (`vacuum_after`)."""
    if not isinstance(store, RunStore):
        with RunStore(store) as opened:
            return prune(
                opened, keep=keep, older_than=older_than, vacuum_after=vacuum_after, now=now
            )
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 0):
        raise StoreError(f"keep must be a whole number of runs >= 0, got {keep!r}")
    before = size_on_disk(store)
    rows = store.conn.execute("SELECT id, created_at FROM runs ORDER BY id DESC").fetchall()
    held = {row[0] for row in store.conn.execute("SELECT run_id FROM baselines")}
    candidates = [(int(i), str(c)) for i, c in rows]
    if keep is None and older_than is None:
        candidates = []
    if keep is not None:
        candidates = candidates[keep:]
    if older_than is not None:
        cutoff = (now or datetime.now(timezone.utc)) - parse_age(older_than)
        candidates = [(i, c) for i, c in candidates if _recorded(c) < cutoff]
    removed = sorted(i for i, _ in candidates if i not in held)
    delete_runs(store, removed)
    after = vacuum(store) if vacuum_after else size_on_disk(store)
    return PruneResult(removed, len(rows) - len(removed), before, after)


def _recorded(created_at: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(created_at)
    except ValueError:
        return datetime.max.replace(tzinfo=timezone.utc)  # unreadable: never old enough
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
