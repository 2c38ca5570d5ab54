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
# Categories under this share of self time are shown as one "other" row (r.categories
# keeps them all).
OTHER_MIN_PCT = 0.5
OTHER = "other"


def fold_small(frame: pd.DataFrame, min_pct: float = OTHER_MIN_PCT) -> pd.DataFrame:
    """The category table with the categories under `min_pct` of self time as one "other"
    row (its rule names them), when there are two or more; the biggest always stays."""
    if frame.empty or "pct" not in frame:
        return frame
    small = (frame["pct"] < min_pct) & (frame.index != frame.index[0])
    if int(small.sum()) < 2:
        return frame
    folded = frame[small]
    names = list(folded["category"])
    row: dict[str, Any] = {column: None for column in frame.columns}
    row.update(
        category=OTHER,
        self_s=float(folded["self_s"].sum()),
        inclusive_s=min(float(folded["inclusive_s"].sum()), float(frame["self_s"].sum())),
        pct=float(folded["pct"].sum()),
        rule=f"{len(names)} categories under {min_pct:g}%: {', '.join(names)}",
    )
    for column in ("calls", "functions"):
        if column in frame:
            row[column] = int(folded[column].sum())
    for column in ("est_overhead_s", "corrected_pct", "corrected_native_pct"):
        if column in frame:
            row[column] = float(folded[column].sum())
    other = pd.DataFrame([row], columns=frame.columns)
    joined: pd.DataFrame = pd.concat([frame[~small], other], ignore_index=True)
    return joined


def short_rule(rules: str) -> str:
    """One short rule for the Rule column: the first of a category's rules without its
    label (``path '*/dsl.py' (-c)``, ``built-in``), and how many more there are."""
    if not isinstance(rules, str) or not rules:
        return ""
    if rules.split(" ", 1)[0].isdigit():  # the "other" row: which categories it holds
        return rules if len(rules) <= 60 else rules[:59] + "…"
    every = [r for r in rules.split("; ") if r]
    first = every[0].split(" = ", 1)[-1]
    if first.startswith("built-in"):
        first = "built-in"
    more = len(every) - 1
    return first + (f" (+{more} more)" if more else "")


def category_rules(frame: pd.DataFrame) -> Table:
    """Every rule that gave each category its functions (the Rule column shows the first)."""
    rows = tuple(
        (r["category"], rule)
        for r in records(frame)
        for rule in str(r["rule"] or "").split("; ")
        if rule
    )
    return Table(
        "",
        (Column("Category", "name"), Column("Rule", "code")),
        rows,
        grouped=True,
    )


CORRECTED_NOTE = (
    "% corrected: each category's share of the time with the profiler's own cost taken out "
    "(the cost cProfile adds per call, per generator resume, per C call and per bytecode "
    "instruction, measured on this interpreter and charged where cProfile charged it) and "
    "the C functions it called folded in ('of it C'); what a plain run spends there. "
    "% as profiled: the share of recorded self time, the native category apart."
)
SAMPLED_NOTE = (
    "% corrected: each category's share with the C functions it called folded in (the "
    "sampler already sees them that way); % as profiled: the share of sampled self time."
)


def categories(
    frame: pd.DataFrame,
    *,
    profiled_s: float,
    calls: int,
    functions: int,
    title: str = "By category",
    detail: bool = True,
    samples: bool = False,
) -> Table:
    """One row per category, led by the corrected share (:data:`CORRECTED_NOTE`), then seed
    004's shape: self and inclusive time as profiled, calls (`samples`: sample counts),
    and a closing total.

    With `detail`: an in-table bar, the estimated profiler overhead and the rule (one short
    rule: :func:`category_rules` lists them all); without it, the number of functions. Categories under 0.5% of self time are
    one "other" row. A stored run from before corrected shares shows its shares as
    profiled in their place.
    """
    frame = fold_small(frame)
    colors = category_colors(list(frame["category"]))
    corrected = "corrected_pct" in frame.columns
    columns = [
        Column("Category", "name"),
        Column("% corrected", "pct"),
        Column("", "bar"),
        Column("of it C", "pct"),
        Column("% as profiled", "pct"),
        Column("Self (s)", "seconds"),
        Column("Inclusive (s)", "seconds"),
        Column("Samples" if samples else "Calls", "count"),
        Column("Functions", "count"),
        Column("Est. overhead (s)", "seconds", wide=True),
        Column("Rule", "code", wide=True),
    ]
    rows: list[tuple[Any, ...]] = []
    for r in records(frame):
        share = r["corrected_pct"] if corrected else r["pct"]
        rows.append(
            (
                r["category"],
                share,
                (share, colors[r["category"]]),
                r["corrected_native_pct"] if corrected else None,
                r["pct"],
                r["self_s"],
                r["inclusive_s"],
                r["calls"],
                r["functions"],
                r["est_overhead_s"],
                short_rule(r["rule"]),
            )
        )
    native = float(frame["corrected_native_pct"].sum()) if corrected else None
    total: tuple[Any, ...] = (
        "total",
        100.0,
        None,
        native,
        100.0,
        profiled_s,
        None,
        calls,
        functions,
        float(frame["est_overhead_s"].sum()) if len(frame) else None,
        None,
    )
    notes = (SAMPLED_NOTE if samples else CORRECTED_NOTE,) if corrected else ()
    keep = _DETAIL if detail else _COMPACT
    columns = [columns[i] for i in keep]
    rows, total = [_pick(r, keep) for r in rows], _pick(total, keep)
    return Table(title, tuple(columns), tuple(rows), total=total, notes=notes)


# The columns each layout keeps: the detailed one has the bar, the overhead and the rule
# but not the function count (the headline says it), so it fits a notebook's 850 px; the
# compact one (beneath a deeper pass's result, in the postmortem) has no bar, overhead or
# rule.
_DETAIL = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10)
_COMPACT = (0, 1, 3, 4, 5, 6, 7, 8)


def _pick(row: tuple[Any, ...], keep: tuple[int, ...]) -> tuple[Any, ...]:
    return tuple(row[i] for i in keep)


def top_functions(
    frame: pd.DataFrame,
    *,
    title: str,
    per_category: int | None = None,
    hidden: int = 0,
    samples: bool = False,
    hidden_under: str = "self time",
) -> Table:
    """The top functions by self time, grouped by category (the category on its first row);
    `samples`: the counts are sample counts; `hidden` categories were left out for being
    under TOP_MIN_PCT of `hidden_under` (what the filter compared)."""
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
            f"{categories_under(hidden, TOP_MIN_PCT, hidden_under)} left out here; "
            f"{'its' if hidden == 1 else 'their'} functions are in report.top.",
        )
    columns = (
        Column("Category", "name"),
        Column("#", "count"),
        Column("Function", "code"),
        Column("Where"),
        Column("Samples" if samples else "Calls", "count"),
        Column("Self (s)", "seconds"),
        Column("Cum (s)", "seconds"),
        Column("% self", "pct"),
    )
    return Table(title, columns, rows, notes=notes, grouped=True)


def categories_under(count: int, pct: float, of: str) -> str:
    """'1 category under 1% of the corrected time is' / '3 categories under ... are'."""
    if count == 1:
        return f"1 category under {pct:g}% of {of} is"
    return f"{count} categories under {pct:g}% of {of} are"


WINS_INTRO = (
    "Whole-run speedup if a category's time were cut by 25, 50, 75 or 100% "
    "(Amdahl's law: 1 / (1 - share x cut), with the corrected share)."
)


def wins(frame: pd.DataFrame, *, min_pct: float = 0.0, intro: bool = True) -> Table:
    """Amdahl's potential wins per category (`intro`: say how they are computed)."""
    rows = tuple(
        (r["category"], r["pct"], r["cut_25"], r["cut_50"], r["cut_75"], r["cut_100"])
        for r in records(frame)
        if r["pct"] >= min_pct
    )
    columns = (
        Column("Category", "name"),
        Column("% corrected", "pct"),
        *(Column(f"cut {c}%", "factor") for c in (25, 50, 75, 100)),
    )
    text = WINS_INTRO if intro else ""
    notes: tuple[str, ...] = ()
    left_out = sum(1 for r in records(frame) if r["pct"] < min_pct)
    if min_pct > 0 and left_out:
        if intro:
            text += f" Categories under {min_pct:g}% of the corrected time are left out."
        else:
            notes = (f"{categories_under(left_out, min_pct, 'the corrected time')} left out.",)
    return Table("Potential wins (Amdahl)", columns, rows, intro=text, notes=notes)


def native(frame: pd.DataFrame, *, samples: bool = False) -> Table:
    """C-level time per package: the call pattern or the body? `samples`: the counts are
    sample counts, so there is no time per call and no reading made from one."""
    if samples:
        return _sampled_native(frame)
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


def _sampled_native(frame: pd.DataFrame) -> Table:
    rows = tuple(
        (r["package"], r["native_s"], r["python_s"], r["native_calls"], r["native_pct"])
        for r in records(frame)
    )
    columns = (
        Column("Package", "name"),
        Column("Native (s)", "seconds"),
        Column("Python (s)", "seconds"),
        Column("Native samples", "count"),
        Column("% of total", "pct"),
    )
    note = (
        "Sampled: the counts are the samples that fell in each package's C code, not "
        "calls, so no time per call is given; a cProfile run (--mode cprofile) counts calls."
    )
    return Table("Native (C) time by package", columns, rows, notes=(note,))


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
    if frame.empty:
        notes = (
            "Nothing was predicted: the pass measured none of your functions (the notes say why).",
        )
    elif shown.empty:
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
    """A comparison of two runs by category: A and B, the change, its status; with an
    experiment's sampled rounds, the change per run and its interval. Categories under
    0.5% of self time in both runs are one "other" row when there are two or more."""
    frame, notes = _fold_small_pairs(frame)
    head = frame if limit is None else frame.head(limit)
    rounds = "round_change_s" in head.columns
    rows = tuple(
        (
            r["category"],
            r["self_a"],
            r["self_b"],
            r["self_delta_s"],
            r["self_change_pct"],
            *((_per_run(r),) if rounds else ()),
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
        *((Column("Per run, rounds (interval)"),) if rounds else ()),
        Column("Incl. A (s)", "seconds"),
        Column("Incl. B (s)", "seconds"),
        Column("Status"),
    )
    return Table("By category", columns, rows, notes=notes)


def _fold_small_pairs(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The comparison with the categories under OTHER_MIN_PCT of self time in both runs
    as one "other" row (its inclusive times unknown: they overlap), and a note naming
    them; unchanged when fewer than two are that small."""
    if frame.empty or not {"self_a", "self_b"} <= set(frame.columns):
        return frame, ()
    totals = float(frame["self_a"].sum()), float(frame["self_b"].sum())
    small = pd.Series(True, index=frame.index)
    for column, total in zip(("self_a", "self_b"), totals, strict=True):
        if total > 0:
            small &= frame[column] < total * OTHER_MIN_PCT / 100.0
    if int(small.sum()) < 2:
        return frame, ()
    folded = frame[small]
    a, b = float(folded["self_a"].sum()), float(folded["self_b"].sum())
    row: dict[str, Any] = {column: None for column in frame.columns}
    row.update(
        category=OTHER,
        self_a=a,
        self_b=b,
        self_delta_s=b - a,
        self_change_pct=(b - a) / a * 100.0 if a > 0 else None,
        inclusive_a=None,
        inclusive_b=None,
        status="",
    )
    joined = pd.concat([frame[~small], pd.DataFrame([row], columns=frame.columns)])
    names = ", ".join(str(c) for c in folded["category"])
    note = f"other: {len(folded)} categories under {OTHER_MIN_PCT:g}% of self time in both runs ({names})."
    return joined.reset_index(drop=True), (note,)


def _per_run(row: dict[str, Any]) -> str:
    change, low, high = row["round_change_s"], row["round_low_s"], row["round_high_s"]
    if not _known(change):
        return ""
    return f"{change * 1e3:+.2f} ms ({low * 1e3:+.2f} to {high * 1e3:+.2f})"


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


def compared_shares(frame: pd.DataFrame) -> Table:
    """Two differently profiled runs by category: each one's share, the difference."""
    rows = tuple(
        (r["category"], r["share_a"], r["share_b"], r["share_delta"], r["status"])
        for r in records(frame)
    )
    columns = (
        Column("Category", "name"),
        Column("% of run A", "pct"),
        Column("% of run B", "pct"),
        Column("Δ points", "signed", digits=1),
        Column("Status"),
    )
    return Table("By category: shares only (the runs were profiled differently)", columns, rows)


def compared_function_shares(frame: pd.DataFrame, limit: int) -> Table:
    """Two differently profiled runs by function: shares of self time, biggest change first."""
    rows = tuple(
        (
            str(r["name"]),
            str(r["category"]),
            r["share_a"],
            r["share_b"],
            r["share_delta"],
            str(r["status"]),
        )
        for r in records(frame.head(limit))
    )
    columns = (
        Column("Function", "code"),
        Column("Category"),
        Column("% of run A", "pct"),
        Column("% of run B", "pct"),
        Column("Δ points", "signed", digits=1),
        Column("Status"),
    )
    return Table(f"Functions whose share changed most (top {limit})", columns, rows)
