"""Each section of a profile, built once as a :class:`~workbench.report.tables.Table`.

The builders read DataFrames (a Report's tables, or a stored run's, so the postmortem
goes through the same model) and plain values; the renderers lay the tables out.
"""

from __future__ import annotations

import linecache
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from workbench.report.figures import category_colors
from workbench.report.format import records, where
from workbench.report.tables import Column, Table

# Top functions and wins are listed for categories at or above this share of self time.
TOP_MIN_PCT = 1.0


def categories(
    frame: pd.DataFrame,
    *,
    profiled_s: float,
    calls: int,
    functions: int,
    title: str = "By category",
    detail: bool = True,
) -> Table:
    """One row per category, seed 004's shape plus self time, and a closing total.

    With `detail`: an in-table bar, the estimated profiler overhead and the rule.
    """
    colors = category_colors(list(frame["category"]))
    columns = [
        Column("Category", "name"),
        Column("Self (s)", "seconds"),
        Column("% self", "pct"),
        Column("", "bar"),
        Column("Inclusive (s)", "seconds"),
        Column("Calls", "count"),
        Column("Functions", "count"),
        Column("Est. overhead (s)", "seconds", wide=True),
        Column("Rule", "code", wide=True),
    ]
    rows = [
        (
            r["category"],
            r["self_s"],
            r["pct"],
            (r["pct"], colors[r["category"]]),
            r["inclusive_s"],
            r["calls"],
            r["functions"],
            r["est_overhead_s"],
            r["rule"],
        )
        for r in records(frame)
    ]
    total: tuple[Any, ...] = ("total", profiled_s, 100.0, None, None, calls, functions, None, None)
    if not detail:
        columns, rows, total = columns[:3] + columns[4:7], [_cut(r) for r in rows], _cut(total)
    return Table(title, tuple(columns), tuple(rows), total=total)


def _cut(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row[:3] + row[4:7]


def top_functions(
    frame: pd.DataFrame, *, title: str, per_category: int | None = None, hidden: int = 0
) -> Table:
    """The top functions by self time, grouped by category (the category on its first row)."""
    if per_category is not None:
        frame = frame[frame["rank"] <= per_category]
    rows = tuple(
        (
            r["category"],
            r["rank"],
            r["name"],
            where(r["file"], r["line"]),
            r["ncalls"],
            r["tottime"],
            r["cumtime"],
            r["pct"],
        )
        for r in records(frame)
    )
    notes: tuple[str, ...] = ()
    if hidden:
        notes = (
            f"{hidden} categories under {TOP_MIN_PCT:g}% of self time are left out here; "
            "their functions are in report.top.",
        )
    columns = (
        Column("Category", "name"),
        Column("#", "count"),
        Column("Function", "code"),
        Column("Where"),
        Column("Calls", "count"),
        Column("Self (s)", "seconds"),
        Column("Cum (s)", "seconds"),
        Column("% self", "pct"),
    )
    return Table(title, columns, rows, notes=notes, grouped=True)


WINS_INTRO = (
    "Whole-run speedup if a category's self time were cut by 25, 50, 75 or 100% "
    "(Amdahl's law: 1 / (1 - share x cut))."
)


def wins(frame: pd.DataFrame, *, min_pct: float = 0.0) -> Table:
    """Amdahl's potential wins per category."""
    rows = tuple(
        (r["category"], r["pct"], r["cut_25"], r["cut_50"], r["cut_75"], r["cut_100"])
        for r in records(frame)
        if r["pct"] >= min_pct
    )
    columns = (
        Column("Category", "name"),
        Column("% self", "pct"),
        *(Column(f"cut {c}%", "factor") for c in (25, 50, 75, 100)),
    )
    intro = WINS_INTRO
    if min_pct > 0:
        intro += f" Categories under {min_pct:g}% are left out."
    return Table("Potential wins (Amdahl)", columns, rows, intro=intro)


def native(frame: pd.DataFrame) -> Table:
    """C-level time per package: the call pattern or the body?"""
    rows = tuple(
        (
            r["package"],
            r["native_s"],
            r["python_s"],
            r["native_calls"],
            r["native_pct"],
            f"{r['native_us_per_call']:.2f}",
            r["advice"],
        )
        for r in records(frame)
    )
    columns = (
        Column("Package", "name"),
        Column("Native (s)", "seconds"),
        Column("Python (s)", "seconds"),
        Column("Native calls", "count"),
        Column("% of total", "pct"),
        Column("us/call", "seconds"),
        Column("Reading", wide=True),
    )
    return Table("Native (C) time by package", columns, rows)


def hottest_lines(frame: pd.DataFrame, functions: Sequence[str]) -> Table:
    """The hottest lines of a line pass, with their source."""
    rows = tuple(
        (
            r["function"],
            where(r["file"], r["line"]),
            r["hits"],
            r["time_s"],
            r["pct_of_function"],
            r["source"].strip(),
        )
        for r in records(frame)
    )
    columns = (
        Column("Function", "code"),
        Column("Line"),
        Column("Hits", "count"),
        Column("Time (s)", "seconds", digits=4),
        Column("% of function", "pct"),
        Column("Source", "code"),
    )
    title = f"Hottest lines (line_profiler pass over {', '.join(functions)})"
    return Table(title, columns, rows)


def gpu_devices(frame: pd.DataFrame) -> Table:
    """Device time per GPU, with the host<->device copies."""
    rows = tuple(
        (
            str(r["device"]),
            str(r["name"]),
            r["lines_timed"],
            r["device_s"],
            r["span_s"],
            f"{int(r['h2d_bytes']):,} in {int(r['h2d_calls']):,}",
            r["h2d_s"],
            f"{int(r['d2h_bytes']):,} in {int(r['d2h_calls']):,}",
            r["d2h_s"],
        )
        for r in records(frame)
    )
    columns = (
        Column("Device"),
        Column("Name"),
        Column("Lines timed", "count"),
        Column("Device time (s)", "seconds", digits=4),
        Column("Device span (s)", "seconds", digits=4),
        Column("H->D bytes in copies", "count"),
        Column("H->D (s)", "seconds", digits=4),
        Column("D->H bytes in copies", "count"),
        Column("D->H (s)", "seconds", digits=4),
    )
    return Table("GPU time per device (CUDA events)", columns, rows)


def gpu_lines(frame: pd.DataFrame, limit: int = 10) -> Table:
    """Device time per source line of the code that launches GPU work."""
    rows = tuple(
        (
            r["function"],
            where(r["file"], r["line"]),
            str(r["device"]),
            r["runs"],
            r["device_s"],
            r["host_s"],
            linecache.getline(r["file"], r["line"]).strip(),
        )
        for r in records(frame.head(limit))
    )
    columns = (
        Column("Function", "code"),
        Column("Line"),
        Column("Device"),
        Column("Runs", "count"),
        Column("Device (s)", "seconds", digits=4),
        Column("Host (s)", "seconds", digits=4),
        Column("Source", "code"),
    )
    return Table("GPU time by source line", columns, rows)


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def recommendations(frame: pd.DataFrame, limit: int = 15) -> Table:
    """The router's backend recommendation for each compute pattern of the cell."""
    rows = tuple(
        (
            str(r["line"]),
            str(r["code"])[:70],
            str(r["pattern"]),
            str(r["complexity"]),
            int(r["size"]) if _known(r["size"]) else "unknown",
            str(r["residency"]),
            int(r["runs"]) if _known(r["runs"]) else None,
            str(r["backend"]),
            str(r["reason"]),
        )
        for r in records(frame.head(limit))
    )
    columns = (
        Column("Line", "count"),
        Column("Code", "code"),
        Column("Pattern"),
        Column("Complexity"),
        Column("Size", "count"),
        Column("Data on"),
        Column("Runs", "count"),
        Column("Backend"),
        Column("Why", wide=True),
    )
    return Table("Backend recommendations (router)", columns, rows)


WHATIF_INTRO = (
    "Predicted whole-run speedup of one change to one function, from what the what-if pass "
    "measured in this run (the range's ends and the evidence it rests on). Measure one with "
    "%optimize --try CHANGE:FUNCTION."
)


def whatif(frame: pd.DataFrame, limit: int = 5) -> Table:
    """The what-if pass's best recommended changes (`limit` of them)."""
    shown = frame[frame["recommended"]].head(limit)
    rows = tuple(
        (
            str(r["function"]),
            str(r["change"]),
            r["predicted_low"],
            r["predicted"],
            r["predicted_high"],
            r["saving_s"],
            str(r["try"]) or "by hand",
            str(r["evidence"]),
        )
        for r in records(shown)
    )
    notes: tuple[str, ...] = ()
    if shown.empty:
        notes = (
            "No change predicted to win at least 1% by its low end; all predictions are in report.whatif.",
        )
    elif len(frame) > len(shown):
        notes = (
            f"{len(frame) - len(shown)} more predictions (not recommended, or smaller) are in report.whatif.",
        )
    columns = (
        Column("Function", "code"),
        Column("Change"),
        Column("Low", "factor"),
        Column("Predicted", "factor"),
        Column("High", "factor"),
        Column("Saves (s)", "seconds"),
        Column("Try", "code"),
        Column("Evidence", wide=True),
    )
    return Table(
        "What if: predicted wins of specific changes",
        columns,
        rows,
        intro=WHATIF_INTRO,
        notes=notes,
    )


def compared_categories(frame: pd.DataFrame, limit: int | None = None) -> Table:
    """A comparison of two runs by category: A and B, the change, its status."""
    head = frame if limit is None else frame.head(limit)
    rows = tuple(
        (
            r["category"],
            r["self_a"],
            r["self_b"],
            r["self_delta_s"],
            r["self_change_pct"],
            r["inclusive_a"],
            r["inclusive_b"],
            r["status"],
        )
        for r in records(head)
    )
    columns = (
        Column("Category", "name"),
        Column("Self A (s)", "seconds"),
        Column("Self B (s)", "seconds"),
        Column("Δ self (s)", "signed"),
        Column("Change", "change"),
        Column("Incl. A (s)", "seconds"),
        Column("Incl. B (s)", "seconds"),
        Column("Status"),
    )
    return Table("By category", columns, rows)


def compared_functions(frame: pd.DataFrame, limit: int) -> Table:
    """A comparison of two runs by function, biggest change first."""
    rows = tuple(
        (
            str(r["name"]),
            where(str(r["file"]), 0).rsplit(":", 1)[0] if r["file"] != "<cell>" else "<cell>",
            str(r["category"]),
            r["self_a"],
            r["self_b"],
            r["self_delta_s"],
            r["cum_a"],
            r["cum_b"],
            r["calls_a"],
            r["calls_b"],
            str(r["status"]),
        )
        for r in records(frame.head(limit))
    )
    columns = (
        Column("Function", "code"),
        Column("Where"),
        Column("Category"),
        Column("Self A (s)", "seconds"),
        Column("Self B (s)", "seconds"),
        Column("Δ self (s)", "signed"),
        Column("Cum A (s)", "seconds", wide=True),
        Column("Cum B (s)", "seconds", wide=True),
        Column("Calls A", "count"),
        Column("Calls B", "count"),
        Column("Status"),
    )
    return Table(f"Functions that changed most (top {limit} by |Δ self|)", columns, rows)
