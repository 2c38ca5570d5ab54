"""Everything the code runs while it is captured: its threads, its child processes, the
tasks it sends to a Dask cluster. Each is profiled where it runs, read back as plain
statistics and merged with the capture's own, with one row per thread and per process.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from workbench.profiling.capture import FuncKey, FuncStats, RawProfile
from workbench.profiling.stats import merge
from workbench.profiling.waiting import WAITING, is_waiting

if TYPE_CHECKING:
    import pandas as pd

    from workbench.profiling.children import ChildProfile
    from workbench.profiling.dask_workers import WorkerProfile
    from workbench.profiling.threads import ThreadProfile

THREAD_COLUMNS = [
    "thread",
    "ident",
    "profiled_s",
    "waiting_s",
    "largest_category",
    "largest_s",
    "alive",
]
PROCESS_COLUMNS = [
    "process",
    "pid",
    "kind",
    "profiled_s",
    "waiting_s",
    "largest_category",
    "largest_s",
    "complete",
    "note",
]


@dataclass(frozen=True)
class Part:
    """One thread's or process's statistics, before they are merged."""

    name: str
    ident: int
    stats: dict[FuncKey, FuncStats]
    alive: bool = False  # a thread still running at the end (a pool left open)
    kind: str = "thread"  # thread, fork, spawn, forkserver, dask-worker
    complete: bool = True
    note: str = ""


@dataclass
class Coverage:
    """The threads and processes a capture saw besides its own thread, and what they say."""

    main: str = "MainThread"
    main_ident: int = 0
    threads: list[Part] = field(default_factory=list)
    processes: list[Part] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    main_stats: dict[FuncKey, FuncStats] = field(default_factory=dict)

    def merged(self, raw: RawProfile) -> RawProfile:
        """`raw` with every thread's and process's statistics added in."""
        own = [raw.stats, *(p.stats for p in self.threads)]
        parts = [p.stats for p in self.processes]
        if not parts:
            return raw if len(own) == 1 else replace(raw, stats=merge(own))
        return replace(raw, stats=merge([*own, *parts]), own_stats=merge(own), beside=tuple(parts))

    def thread_rows(self, category_of: Mapping[FuncKey, str]) -> pd.DataFrame:
        """One row per thread (the capture's own first), biggest profiled time first."""
        rows = [_row(self.main, self.main_ident, self.main_stats, category_of)]
        rows[0].append(False)
        for part in sorted(self.threads, key=lambda p: -_total(p.stats)):
            row = _row(part.name, part.ident, part.stats, category_of)
            rows.append([*row, part.alive])
        return _frame(rows, THREAD_COLUMNS)

    def process_rows(self, category_of: Mapping[FuncKey, str]) -> pd.DataFrame:
        """One row per child process or Dask worker, biggest profiled time first."""
        rows = []
        for part in sorted(self.processes, key=lambda p: -_total(p.stats)):
            name, pid, seconds, waiting, largest, largest_s = _row(
                part.name, part.ident, part.stats, category_of
            )
            rows.append(
                [
                    name,
                    pid,
                    part.kind,
                    seconds,
                    waiting,
                    largest,
                    largest_s,
                    part.complete,
                    part.note,
                ]
            )
        return _frame(rows, PROCESS_COLUMNS)


_TEXT = {"thread", "process", "kind", "largest_category", "note"}
_INT = {"ident", "pid"}
_BOOL = {"alive", "complete"}


def _frame(rows: Sequence[Sequence[object]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    def kind(column: str) -> str:
        if column in _TEXT:
            return "object"
        return "int64" if column in _INT else "bool" if column in _BOOL else "float64"

    data = {
        column: pd.Series([row[i] for row in rows], dtype=kind(column))
        for i, column in enumerate(columns)
    }
    return pd.DataFrame(data, columns=columns)


def _total(stats: Mapping[FuncKey, FuncStats]) -> float:
    return math.fsum(value[2] for value in stats.values())


def _row(
    name: str, ident: int, stats: Mapping[FuncKey, FuncStats], category_of: Mapping[FuncKey, str]
) -> list[object]:
    by_category: dict[str, float] = {}
    waiting = 0.0
    for key, value in stats.items():
        category = category_of.get(key, WAITING if is_waiting(key) else "?")
        if category == WAITING:
            waiting += value[2]
            continue
        by_category[category] = by_category.get(category, 0.0) + value[2]
    largest, largest_s = max(by_category.items(), key=lambda kv: kv[1], default=("", 0.0))
    return [name, ident, _total(stats), waiting, largest, largest_s]


Capture = Callable[[], tuple[RawProfile, BaseException | None]]


def covered(
    capture: Capture,
    *,
    threads: bool = True,
    processes: bool = True,
    dask: bool = True,
) -> tuple[RawProfile, BaseException | None, Coverage]:
    """Run `capture` with its threads and child processes profiled too; the statistics
    come back merged, with the coverage that says what was seen.

    Everything installed for the capture is taken down again before this returns, also
    when the capture raises."""
    from workbench.profiling.children import ChildCapture
    from workbench.profiling.dask_workers import DaskCapture
    from workbench.profiling.threads import ThreadCapture

    coverage = Coverage(main=threading.current_thread().name, main_ident=threading.get_ident())
    with contextlib.ExitStack() as stack:
        # first in, last out: its calls to the cluster run outside the thread capture
        cluster = stack.enter_context(DaskCapture()) if dask else None
        thread_capture = stack.enter_context(ThreadCapture()) if threads else None
        children = stack.enter_context(ChildCapture()) if processes else None
        raw, error = capture()
        coverage.main_stats = dict(raw.stats)
        if thread_capture is not None:
            coverage.threads = [
                Part(t.name, t.ident, t.stats, t.alive) for t in thread_capture.collect()
            ]
        if children is not None:
            found, notes = children.collect()
            coverage.processes += [_child_part(c) for c in found]
            coverage.notes += notes
        if cluster is not None:
            workers, notes = cluster.collect()
            coverage.processes += [_worker_part(w) for w in workers]
            coverage.notes += notes
    coverage.notes[:0] = _thread_notes(coverage)
    return coverage.merged(raw), error, coverage


def _child_part(child: ChildProfile) -> Part:
    return Part(
        child.name,
        child.pid,
        child.stats,
        kind=child.kind,
        complete=child.complete,
        note=child.note,
    )


def _worker_part(worker: WorkerProfile) -> Part:
    name = (
        worker.address
        if worker.name in ("", worker.address)
        else f"{worker.name} ({worker.address})"
    )
    note = f"{worker.tasks} task(s)"
    if worker.running:
        note += f", {worker.running} still running: partial"
    return Part(
        name,
        worker.pid,
        worker.stats,
        kind="dask-worker",
        complete=not worker.running,
        note=note,
    )


def sampled_coverage(
    threads: Sequence[ThreadProfile], notes: Sequence[str] = ()
) -> Coverage | None:
    """The coverage of a sampled run: `threads` are the stack sampler's, this thread's
    first (their statistics are in the profile already), `notes` what it did not see."""
    if len(threads) < 2 and not notes:
        return None
    if len(threads) < 2:
        return Coverage(notes=list(notes))
    main, *others = threads
    coverage = Coverage(main=main.name, main_ident=main.ident, main_stats=dict(main.stats))
    coverage.threads = [Part(t.name, t.ident, t.stats, t.alive) for t in others]
    coverage.notes = [*_thread_notes(coverage, "sampled with it"), *notes]
    return coverage


def _thread_notes(coverage: Coverage, how: str = "profiled on its own") -> list[str]:
    notes = []
    if coverage.threads:
        names = ", ".join(sorted({t.name for t in coverage.threads})[:6])
        notes.append(
            f"{len(coverage.threads)} thread(s) besides {coverage.main} ran while the code ran "
            f"({names}): each was {how} and merged into the categories "
            "(report.threads has one row per thread); time spent blocked (locks, queues, "
            "sleeps, waiting for workers) is the category `waiting`, left out of the shares "
            "and the wins."
        )
    open_threads = [t.name for t in coverage.threads if t.alive]
    if open_threads:
        notes.append(
            f"{len(open_threads)} thread(s) were still running when the code ended "
            f"({', '.join(open_threads[:6])}; a pool left open?): their profiles cover what "
            "they ran up to then; nothing of the workbench runs in them now."
        )
    return notes


def parts_total(parts: Sequence[Part]) -> float:
    """The profiled seconds of `parts` together."""
    return math.fsum(_total(p.stats) for p in parts)
