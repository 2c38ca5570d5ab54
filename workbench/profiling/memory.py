"""``--memory``: the code re-run under tracemalloc, its bytes charged to categories and lines.

tracemalloc records every block Python (and NumPy, which reports its arrays to it)
allocates, with the line that allocated it (one frame: the innermost Python line, so a C
call's allocation belongs to the line that called it). What it keeps is the memory still
held: a snapshot is taken whenever the traced total passes its previous high by 10%
(from a background thread, every 10 ms), and one when the code ends. Each snapshot's
blocks are charged to the function holding their line (found among the capture's
functions) and that function's category:

* `peak_bytes`: what the category held at the largest snapshot (the peak, give or take
  what changed within 10 ms and 10%);
* `end_bytes`: what it still held when the code ended (results kept, caches, leaks).

Memory allocated and freed between two snapshots (churn) is not seen; the traced peak of
the whole run (`MemoryPass.peak_bytes`) is exact.
"""

from __future__ import annotations

import bisect
import threading
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.profiling.capture import Clock, FuncKey, Step

if TYPE_CHECKING:
    import pandas as pd

    from workbench.profiling.categories import Ruleset

CATEGORY_COLUMNS = ["category", "peak_bytes", "end_bytes", "peak_blocks", "end_blocks"]
LINE_COLUMNS = ["file", "line", "function", "category", "peak_bytes", "end_bytes", "peak_blocks"]
POLL_S = 0.01
GROWTH = 1.10  # a new snapshot when the traced total passes the last one's by this much
MIN_BYTES = 1 << 20
ByLine = dict[tuple[str, int], tuple[int, int]]  # (file, line): (bytes, blocks)


@dataclass(frozen=True)
class MemoryPass:
    """What the tracemalloc run measured."""

    categories: pd.DataFrame
    lines: pd.DataFrame
    peak_bytes: int  # tracemalloc's exact peak of the whole run
    end_bytes: int
    seconds: float
    snapshots: int
    error: str | None = None

    def sentence(self, plain_s: float | None = None) -> str:
        """The pass's own cost and what it saw, for the notes."""
        cost = f"; {self.seconds / plain_s:.2f}x a plain run ({plain_s:.3f} s)" if plain_s else ""
        return (
            f"Memory pass (--memory): the code was re-run under tracemalloc in {self.seconds:.3f} s"
            f"{cost}; traced peak {_mib(self.peak_bytes)}, {_mib(self.end_bytes)} still held at the "
            f"end; {self.snapshots} snapshot(s) charged to categories (memory freed between "
            "snapshots is not seen)."
        )


def _mib(n: float) -> str:
    return f"{n / (1 << 20):.1f} MiB"


class _Watcher:
    """Takes a snapshot whenever the traced total grows past the last snapshot's."""

    def __init__(self) -> None:
        self.best: tuple[int, ByLine | None] = (0, None)  # traced bytes, what each line held
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="workbench-memory", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            current, _ = tracemalloc.get_traced_memory()
            if current >= MIN_BYTES and current > self.best[0] * GROWTH:
                self.take(current)

    def take(self, current: int) -> ByLine:
        held = by_line(tracemalloc.take_snapshot())
        self.count += 1
        if current >= self.best[0]:
            self.best = (current, held)
        return held


def by_line(snapshot: tracemalloc.Snapshot) -> ByLine:
    """The bytes and blocks each line holds, less the workbench's own and tracemalloc's;
    the snapshot is dropped at once (it is traced memory too)."""
    ours = (tracemalloc.Filter(False, __file__), tracemalloc.Filter(False, tracemalloc.__file__))
    return {
        (stat.traceback[0].filename, stat.traceback[0].lineno): (stat.size, stat.count)
        for stat in snapshot.filter_traces(ours).statistics("lineno")
    }


def run_memory(
    steps: Sequence[Step],
    stats_keys: Sequence[FuncKey],
    category_of: Mapping[FuncKey, str],
    ruleset: Ruleset,
    *,
    top: int = 10,
    clock: Clock = time.perf_counter,
) -> tuple[MemoryPass | None, BaseException | None, str | None]:
    """Run `steps` once under tracemalloc; its bytes by category (via the capture's
    `category_of`) and its `top` lines. Returns the pass, the code's exception, and a note
    when tracemalloc was already tracing (the pass is then skipped: it is the code's)."""
    if tracemalloc.is_tracing():
        return None, None, "Memory pass skipped: tracemalloc is already tracing (the code's own)."
    watcher = _Watcher()
    error: BaseException | None = None
    tracemalloc.start(1)
    try:
        start = clock()
        watcher.start()
        try:
            for step in steps:
                step()
        except BaseException as exc:  # handed back unchanged
            error = exc
        seconds = clock() - start
        watcher.stop()
        end_bytes, peak = tracemalloc.get_traced_memory()
        end = by_line(tracemalloc.take_snapshot())
        watcher.count += 1
    finally:
        watcher.stop()
        tracemalloc.stop()
    best = watcher.best[1] if watcher.best[1] is not None and watcher.best[0] > end_bytes else end
    where = _Where(stats_keys, category_of, ruleset)
    categories, lines = _tables(where, best, end, top)
    described = None if error is None else f"{type(error).__name__}: {error}"
    passed = MemoryPass(categories, lines, peak, end_bytes, seconds, watcher.count, described)
    return passed, error, None


class _Where:
    """The function (among the profiled ones) and the category of a file and line."""

    def __init__(
        self, keys: Sequence[FuncKey], category_of: Mapping[FuncKey, str], ruleset: Ruleset
    ) -> None:
        by_file: dict[str, list[tuple[int, FuncKey]]] = defaultdict(list)
        for key in keys:
            if key[0] != "~":
                by_file[key[0]].append((key[1], key))
        self.starts = {f: sorted(v) for f, v in by_file.items()}
        self.category_of = category_of
        self.ruleset = ruleset
        self.memo: dict[tuple[str, int], tuple[str, str]] = {}
        self.paths: dict[str, str] = {}

    def __call__(self, filename: str, line: int) -> tuple[str, str]:
        found = self.memo.get((filename, line))
        if found is None:
            found = self.memo[(filename, line)] = self._find(filename, line)
        return found

    def _find(self, filename: str, line: int) -> tuple[str, str]:
        starts = self.starts.get(filename, [])
        i = bisect.bisect_right(starts, (line, ("\uffff", 0, "\uffff"))) - 1
        if i >= 0:
            key = starts[i][1]
            category = self.category_of.get(key)
            if category is not None:
                return key[2], category
        from workbench.profiling.categories import ModuleIndex, site_of

        site = site_of((filename, line, "<module>"), ModuleIndex(), self.paths)
        return "<module>", self.ruleset.classify(site).category


def _tables(
    where: _Where, peak: ByLine, end: ByLine, top: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pandas as pd

    lines: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for index, held in ((0, peak), (1, end)):
        for place, (size, count) in held.items():
            row = lines[place]
            row[index] += size
            row[index + 2] += count
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    line_rows = []
    for (filename, lineno), (p, e, pb, eb) in lines.items():
        function, category = where(filename, lineno)
        total = by_category[category]
        total[0] += p
        total[1] += e
        total[2] += pb
        total[3] += eb
        line_rows.append((filename, lineno, function, category, p, e, pb))
    line_rows.sort(key=lambda r: (-max(r[4], r[5]), r[0], r[1]))
    cat_rows = sorted(
        ((c, v[0], v[1], v[2], v[3]) for c, v in by_category.items()), key=lambda r: (-r[1], r[0])
    )
    categories = pd.DataFrame(cat_rows, columns=CATEGORY_COLUMNS)
    table = pd.DataFrame(line_rows[:top], columns=LINE_COLUMNS)
    for frame_ in (categories, table):
        for column in frame_.columns:
            if column.endswith(("_bytes", "_blocks")) or column == "line":
                frame_[column] = frame_[column].astype("int64")
    return categories, table
