"""Tables of what ran beside the capture's thread (threads, processes, Dask workers) and
of the memory pass: the same layout model as the other sections."""

from __future__ import annotations

import pandas as pd

from workbench.report.format import records
from workbench.report.tables import Column, Table


def _mib(value: float) -> float:
    return float(value) / (1 << 20)


def threads(frame: pd.DataFrame) -> Table:
    """One row per thread: its profiled time, its waiting, its largest category."""
    rows = tuple(
        (
            r["thread"],
            r["profiled_s"],
            r["waiting_s"],
            r["largest_category"] or "-",
            r["largest_s"],
            "still running" if r["alive"] else "",
        )
        for r in records(frame)
    )
    columns = (
        Column("Thread", "name"),
        Column("Profiled (s)", "seconds"),
        Column("Waiting (s)", "seconds"),
        Column("Largest category"),
        Column("Its time (s)", "seconds"),
        Column("At the end", wide=True),
    )
    intro = "Each thread was profiled on its own; their times are merged in the tables above."
    return Table("Threads", columns, rows, intro=intro)


def processes(frame: pd.DataFrame) -> Table:
    """One row per child process or Dask worker."""
    rows = tuple(
        (
            r["process"],
            str(r["pid"]),
            r["kind"],
            r["profiled_s"],
            r["largest_category"] or "-",
            r["largest_s"],
            r["note"] or ("" if r["complete"] else "partial"),
        )
        for r in records(frame)
    )
    columns = (
        Column("Process", "name"),
        Column("pid"),
        Column("Kind"),
        Column("Profiled (s)", "seconds"),
        Column("Largest category"),
        Column("Its time (s)", "seconds"),
        Column("Note", wide=True),
    )
    intro = "Each child process (or Dask worker) was profiled where it ran; merged above."
    return Table("Processes", columns, rows, intro=intro)


def memory(categories: pd.DataFrame, lines: pd.DataFrame, time_pct: dict[str, float]) -> Table:
    """Bytes by category (tracemalloc) beside each category's share of the time."""
    rows = tuple(
        (
            r["category"],
            _mib(r["peak_bytes"]),
            _mib(r["end_bytes"]),
            r["peak_blocks"],
            time_pct.get(str(r["category"]), 0.0),
        )
        for r in records(categories)
    )
    columns = (
        Column("Category", "name"),
        Column("Held at peak (MiB)", "seconds", digits=2),
        Column("Held at end (MiB)", "seconds", digits=2),
        Column("Blocks at peak", "count"),
        Column("% of time", "pct"),
    )
    notes = tuple(
        f"{r['file']}:{r['line']} ({r['function']}, {r['category']}): "
        f"{_mib(max(r['peak_bytes'], r['end_bytes'])):.2f} MiB"
        for r in records(lines.head(5))
    )
    return Table("Memory by category (--memory)", columns, rows, notes=notes)
