"""From raw statistics to tables: functions, categories, top functions, Amdahl wins.

Self times partition the profiled time: every function's self time (cProfile's
`tottime`) is counted in exactly one category, so the category self times add up to
the profiled total. Inclusive time (time with the category anywhere on the stack)
overlaps between categories and sums past 100%.

The rows are sorted and aggregated in plain Python, and each table becomes a DataFrame
once, at the end: a profile of a few hundred functions is analysed in a few milliseconds.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.profiling.capture import FuncKey, FuncStats
from workbench.profiling.categories import (
    FROM_CALLER,
    GENERATED_RULE,
    Assignment,
    FunctionSite,
    ModuleIndex,
    Ruleset,
    site_of,
)
from workbench.profiling.waiting import WAITING, is_waiting, is_waiting_site

FUNCTION_COLUMNS = [
    "category",
    "name",
    "file",
    "line",
    "module",
    "ncalls",
    "pcalls",
    "tottime",
    "cumtime",
    "tottime_percall",
    "cumtime_percall",
    "native",
    "owner",
    "rule",
    "corrected_self",
    "corrected_cum",
]
CATEGORY_COLUMNS = [
    "category",
    "self_s",
    "inclusive_s",
    "pct",
    "calls",
    "functions",
    "est_overhead_s",
    "rule",
    "corrected_pct",
    "corrected_native_pct",
]
TOP_COLUMNS = ["category", "rank", "name", "file", "line", "ncalls", "tottime", "cumtime", "pct"]
CUTS = (25, 50, 75, 100)
WIN_COLUMNS = ["category", "self_s", "pct", *[f"cut_{c}" for c in CUTS]]
NATIVE_COLUMNS = [
    "package",
    "native_s",
    "python_s",
    "native_calls",
    "native_pct",
    "native_us_per_call",
    "advice",
]
# Native calls shorter than this (microseconds) mean the time is in calling, not computing.
SHORT_NATIVE_CALL_US = 5.0

# Positions in a functions row.
_CATEGORY, _NAME, _FILE, _LINE, _MODULE, _NCALLS = 0, 1, 2, 3, 4, 5
_TOTTIME, _CUMTIME, _NATIVE, _OWNER, _RULE = 7, 8, 11, 12, 13
_KEY = 16  # past the table's columns: the pstats key, dropped when the table is made
_CORRECTED = 8  # position of corrected_pct in a categories row


@dataclass(frozen=True)
class Tables:
    """The four tables a report is made of, plus the total they partition."""

    functions: pd.DataFrame
    categories: pd.DataFrame
    top: pd.DataFrame
    wins: pd.DataFrame
    native: pd.DataFrame
    profiled_s: float
    calls: int
    category_of: dict[FuncKey, str]


def _safe_div(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


def _dtype(column: str) -> str:
    if column in {"category", "name", "file", "module", "owner", "rule", "package", "advice"}:
        return "object"
    if column in {"line", "ncalls", "pcalls", "calls", "functions", "rank", "native_calls"}:
        return "int64"
    if column == "native":
        return "bool"
    return "float64"


def frame(rows: Sequence[Sequence[Any]], columns: list[str]) -> pd.DataFrame:
    """A DataFrame of `rows`, with the column types even when there are none (text
    columns are left to pandas, which makes them its string type)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in columns})
    data: dict[str, Any] = {}
    for column, values in zip(columns, zip(*rows, strict=True), strict=True):
        kind = _dtype(column)
        data[column] = list(values) if kind == "object" else np.array(values, dtype=kind)
    return pd.DataFrame(data, columns=columns, copy=False)


def _classify(
    stats: Mapping[FuncKey, FuncStats], ruleset: Ruleset, modules: ModuleIndex | None
) -> tuple[dict[FuncKey, FunctionSite], dict[FuncKey, Assignment]]:
    modules = modules.refresh() if modules is not None else ModuleIndex()
    path_cache: dict[str, str] = {}
    sites = {key: site_of(key, modules, path_cache) for key in stats}
    builtin: dict[tuple[str, str, bool, str, bool], Assignment] = {}
    assigned: dict[FuncKey, Assignment] = {}
    for key, site in sites.items():
        found = ruleset.user_rule(site)
        if found is None:
            waits = is_waiting_site(site.path, site.name, site.native)
            memo = (site.path, site.module, site.native, site.owner, waits)
            found = builtin.get(memo)
            if found is None:
                found = builtin[memo] = ruleset.builtin(site)
        assigned[key] = found
    _resolve_from_callers(stats, assigned)
    return sites, assigned


def function_rows(
    stats: Mapping[FuncKey, FuncStats],
    ruleset: Ruleset,
    modules: ModuleIndex | None = None,
    corrected: Mapping[FuncKey, FuncStats] | None = None,
) -> tuple[dict[FuncKey, str], list[tuple[Any, ...]]]:
    """Every function's category and its row of the functions table, most self time first,
    with its self and cumulative time once cProfile's cost is out (`corrected`; as
    recorded without it). `modules` is an index of the loaded modules to reuse."""
    sites, assigned = _classify(stats, ruleset, modules)
    fixed = corrected if corrected is not None else stats
    rows = []
    for key, (pcalls, ncalls, tottime, cumtime, _callers) in stats.items():
        site, found = sites[key], assigned[key]
        own = fixed.get(key, stats[key])
        rows.append(
            (
                found.category,
                site.name,
                site.path,
                site.line,
                site.module,
                ncalls,
                pcalls,
                tottime,
                cumtime,
                _safe_div(tottime, ncalls),
                _safe_div(cumtime, pcalls),
                site.native,
                site.owner,
                found.rule,
                own[2],
                own[3],
                key,
            )
        )
    rows.sort(key=lambda r: r[_NAME])
    rows.sort(key=lambda r: r[_TOTTIME], reverse=True)
    return {key: found.category for key, found in assigned.items()}, rows


def classify_all(
    stats: Mapping[FuncKey, FuncStats], ruleset: Ruleset
) -> tuple[dict[FuncKey, str], pd.DataFrame]:
    """Give every function its category; return the category map and the functions table."""
    category_of, rows = function_rows(stats, ruleset)
    return category_of, frame([r[:_KEY] for r in rows], FUNCTION_COLUMNS)


def _resolve_from_callers(
    stats: Mapping[FuncKey, FuncStats], assigned: dict[FuncKey, Assignment]
) -> None:
    """Generated code takes the category of the caller that spends most time in it."""
    pending = [key for key, found in assigned.items() if found.category == FROM_CALLER]
    for _ in range(4):  # chains of generated code are short
        still = []
        for key in pending:
            callers = stats[key][4]
            known = [
                (edge[3], assigned[caller].category)
                for caller, edge in callers.items()
                if caller in assigned and assigned[caller].category != FROM_CALLER
            ]
            if known:
                category = max(known)[1]
                assigned[key] = Assignment(category, f"{category} = {GENERATED_RULE}")
            else:
                still.append(key)
        if len(still) == len(pending):
            break
        pending = still
    for key in pending:
        assigned[key] = Assignment("user", f"user = {GENERATED_RULE} (no caller known)")


def inclusive_times(
    stats: Mapping[FuncKey, FuncStats], category_of: Mapping[FuncKey, str]
) -> dict[str, float]:
    """Time spent inside each category, counted where it is entered from outside.

    A function's calls from a caller of another category (or from no caller) add the
    cumulative time of those calls. pstats keeps caller edges only, so re-entry
    (A calls B calls A) is counted once per entry and can overcount; callers clamp it.
    """
    inclusive: dict[str, float] = defaultdict(float)
    for key, (_pc, _nc, _tt, cumtime, callers) in stats.items():
        category = category_of[key]
        if not callers:
            inclusive[category] += cumtime
            continue
        for caller, edge in callers.items():
            if category_of.get(caller) != category:
                inclusive[category] += edge[3]
    return inclusive


def category_rows(
    functions: Iterable[Sequence[Any]],
    inclusive: Mapping[str, float],
    profiled_s: float,
    costs: Mapping[FuncKey, float],
    folded: Mapping[FuncKey, FuncStats],
) -> list[tuple[Any, ...]]:
    """One row per category, the biggest corrected share first: the categories table.

    `costs`: cProfile's own seconds in each function's self time; `folded`: the corrected
    statistics with C functions folded into their Python callers (the corrected shares)."""
    selfs: dict[str, list[float]] = {}
    calls: dict[str, int] = defaultdict(int)
    rules: dict[str, dict[str, None]] = defaultdict(dict)
    overhead: dict[str, float] = defaultdict(float)
    python: dict[str, float] = defaultdict(float)
    corrected: dict[str, float] = defaultdict(float)
    for row in functions:
        category, key = row[_CATEGORY], row[_KEY]
        selfs.setdefault(category, []).append(row[_TOTTIME])
        calls[category] += row[_NCALLS]
        rules[category][row[_RULE]] = None
        overhead[category] += costs.get(key, 0.0)
        if key in folded:
            corrected[category] += folded[key][2]
            if not row[_NATIVE]:
                python[category] += row[_KEY - 2]  # corrected_self: its own time, no C
    # Waiting is shown, but it is no share of the work: left out of the corrected shares.
    total = math.fsum(v for c, v in corrected.items() if c != WAITING)
    corrected[WAITING] = 0.0
    rows = []
    for category, times in selfs.items():
        self_s = math.fsum(times)
        rows.append(
            (
                category,
                self_s,
                min(max(inclusive.get(category, 0.0), self_s), max(profiled_s, self_s)),
                100.0 * _safe_div(self_s, profiled_s),
                calls[category],
                len(times),
                overhead[category],
                "; ".join(rules[category]),
                100.0 * _safe_div(corrected[category], total),
                100.0 * _safe_div(max(corrected[category] - python[category], 0.0), total),
            )
        )
    rows.sort(key=lambda r: r[0])
    rows.sort(key=lambda r: (r[_CORRECTED], r[1]), reverse=True)
    return rows


def top_rows(
    functions: Iterable[Sequence[Any]], order: Sequence[str], n: int, profiled_s: float
) -> list[tuple[Any, ...]]:
    """The `n` functions with the most self time in each category, biggest category first."""
    if n <= 0:
        return []
    chosen: dict[str, list[Sequence[Any]]] = defaultdict(list)
    for row in functions:  # most self time first already
        group = chosen[row[_CATEGORY]]
        if len(group) < n:
            group.append(row)
    return [
        (
            category,
            rank,
            row[_NAME],
            row[_FILE],
            row[_LINE],
            row[_NCALLS],
            row[_TOTTIME],
            row[_CUMTIME],
            100.0 * _safe_div(row[_TOTTIME], profiled_s),
        )
        for category in order
        for rank, row in enumerate(chosen.get(category, []), 1)
    ]


def _speedup(share: float, cut: float) -> float:
    remaining = 1.0 - share * cut
    return 1.0 / remaining if remaining > 1e-12 else float("inf")


def win_rows(categories: Iterable[Sequence[Any]], profiled_s: float) -> list[tuple[Any, ...]]:
    """Overall speedup if a category's time were cut by 25, 50, 75 or 100%.

    Amdahl's law: with a share p of the time cut by a fraction r, the whole runs
    1 / (1 - p r) times faster; p is the corrected share (the profiler's cost out, the C
    work the category calls in), what a plain run spends there. A category holding all the
    time and cut to zero gives inf.
    """
    return [
        (
            row[0],
            row[1],
            row[_CORRECTED],
            *(_speedup(row[_CORRECTED] / 100.0, cut / 100) for cut in CUTS),
        )
        for row in categories
        if row[0] != WAITING
    ]


def _package(module: str) -> str:
    top = module.split(".", 1)[0]
    if top == "builtins" or top in sys.stdlib_module_names:
        return "python (builtins, stdlib)"
    return top


def native_rows(functions: Iterable[Sequence[Any]], profiled_s: float) -> list[tuple[Any, ...]]:
    """C-level time per owning package beside the Python time of the same package.

    cProfile records C functions such as ``<method 'sum' of 'numpy.ndarray' objects>``;
    their owner tells numpy's native time from the Python code around it.
    """
    native: dict[str, list[float]] = {}
    native_calls: dict[str, int] = defaultdict(int)
    python: dict[str, list[float]] = defaultdict(list)
    for row in functions:
        if row[_NATIVE]:
            package = _package(row[_OWNER])
            native.setdefault(package, []).append(row[_TOTTIME])
            native_calls[package] += row[_NCALLS]
        else:
            python[_package(row[_MODULE])].append(row[_TOTTIME])
    rows = []
    for package, times in native.items():
        native_s = math.fsum(times)
        calls = native_calls[package]
        per_call_us = 1e6 * _safe_div(native_s, calls)
        if calls >= 1000 and per_call_us < SHORT_NATIVE_CALL_US:
            advice = "many short native calls: optimise the call pattern (batch, vectorise), not the body"
        elif per_call_us >= SHORT_NATIVE_CALL_US:
            advice = "time is inside the package's C code: a better algorithm or backend helps here"
        else:
            advice = ""
        rows.append(
            (
                package,
                native_s,
                math.fsum(python.get(package, [])),
                calls,
                100.0 * _safe_div(native_s, profiled_s),
                per_call_us,
                advice,
            )
        )
    rows.sort(key=lambda r: r[0])
    rows.sort(key=lambda r: r[1], reverse=True)
    return rows


def build_tables(
    stats: Mapping[FuncKey, FuncStats],
    ruleset: Ruleset,
    *,
    top: int = 5,
    costs: Mapping[FuncKey, float] | None = None,
    modules: ModuleIndex | None = None,
) -> Tables:
    """Every table of a report from one set of statistics; `costs` are cProfile's own
    seconds in each function's self time (:func:`workbench.profiling.correction.function_costs`),
    none for a sampled profile."""
    from workbench.profiling.correction import corrected_stats
    from workbench.profiling.debias import fold_native

    costs = costs or {}
    corrected = corrected_stats(stats, costs) if costs else dict(stats)
    category_of, functions = function_rows(stats, ruleset, modules, corrected)
    profiled_s = math.fsum(value[2] for value in stats.values())
    calls = int(sum(value[1] for value in stats.values()))
    inclusive = inclusive_times(stats, category_of)
    # Blocking C calls keep their own time (waiting); the rest folds into their callers.
    waits = {key: value for key, value in corrected.items() if is_waiting(key)}
    folded = fold_native({k: v for k, v in corrected.items() if k not in waits}) | waits
    categories = category_rows(functions, inclusive, profiled_s, costs, folded)
    order = [row[0] for row in categories]
    return Tables(
        functions=frame([r[:_KEY] for r in functions], FUNCTION_COLUMNS),
        categories=frame(categories, CATEGORY_COLUMNS),
        top=frame(top_rows(functions, order, top, profiled_s), TOP_COLUMNS),
        wins=frame(win_rows(categories, profiled_s), WIN_COLUMNS),
        native=frame(native_rows(functions, profiled_s), NATIVE_COLUMNS),
        profiled_s=profiled_s,
        calls=calls,
        category_of=category_of,
    )
