"""From raw statistics to tables: functions, categories, top functions, Amdahl wins.

Self times partition the profiled time: every function's self time (cProfile's
`tottime`) is counted in exactly one category, so the category self times add up to
the profiled total. Inclusive time (time with the category anywhere on the stack)
overlaps between categories and sums past 100%.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from workbench.profiling.capture import FuncKey, FuncStats
from workbench.profiling.categories import (
    FROM_CALLER,
    GENERATED_RULE,
    Assignment,
    Ruleset,
    module_index,
    site_of,
)

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
]
TOP_COLUMNS = ["category", "rank", "name", "file", "line", "ncalls", "tottime", "cumtime", "pct"]
CUTS = (25, 50, 75, 100)
WIN_COLUMNS = ["category", "self_s", "pct", *[f"cut_{c}" for c in CUTS]]


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


def classify_all(
    stats: Mapping[FuncKey, FuncStats], ruleset: Ruleset
) -> tuple[dict[FuncKey, str], pd.DataFrame]:
    """Give every function its category; return the category map and the functions table."""
    modules = module_index()
    path_cache: dict[str, str] = {}
    sites = {key: site_of(key, modules, path_cache) for key in stats}
    verdicts = {key: ruleset.classify(site) for key, site in sites.items()}
    _resolve_from_callers(stats, verdicts)
    category_of = {key: verdict.category for key, verdict in verdicts.items()}
    rows = []
    for key, (pcalls, ncalls, tottime, cumtime, _callers) in stats.items():
        site, verdict = sites[key], verdicts[key]
        rows.append(
            (
                verdict.category,
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
                verdict.rule,
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=FUNCTION_COLUMNS)
    frame = frame.sort_values(["tottime", "name"], ascending=[False, True], kind="stable")
    return category_of, frame.reset_index(drop=True)


def _resolve_from_callers(
    stats: Mapping[FuncKey, FuncStats], verdicts: dict[FuncKey, Assignment]
) -> None:
    """Generated code takes the category of the caller that spends most time in it."""
    pending = [key for key, verdict in verdicts.items() if verdict.category == FROM_CALLER]
    for _ in range(4):  # chains of generated code are short
        still = []
        for key in pending:
            callers = stats[key][4]
            known = [
                (edge[3], verdicts[caller].category)
                for caller, edge in callers.items()
                if caller in verdicts and verdicts[caller].category != FROM_CALLER
            ]
            if known:
                category = max(known)[1]
                verdicts[key] = Assignment(category, f"{category} = {GENERATED_RULE}")
            else:
                still.append(key)
        if len(still) == len(pending):
            break
        pending = still
    for key in pending:
        verdicts[key] = Assignment("user", f"user = {GENERATED_RULE} (no caller known)")


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


def category_table(
    functions: pd.DataFrame,
    inclusive: Mapping[str, float],
    profiled_s: float,
    per_call_s: float,
) -> pd.DataFrame:
    """One row per category, sorted by self time."""
    if functions.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in CATEGORY_COLUMNS})
    grouped = functions.groupby("category", sort=False).agg(
        self_s=("tottime", "sum"),
        calls=("ncalls", "sum"),
        functions=("name", "size"),
        rule=("rule", lambda rules: "; ".join(dict.fromkeys(rules))),
    )
    table = grouped.reset_index()
    table["inclusive_s"] = [
        min(max(inclusive.get(c, 0.0), s), max(profiled_s, s))
        for c, s in zip(table["category"], table["self_s"], strict=True)
    ]
    table["pct"] = [100.0 * _safe_div(s, profiled_s) for s in table["self_s"]]
    table["est_overhead_s"] = table["calls"] * per_call_s
    table = table.sort_values(["self_s", "category"], ascending=[False, True], kind="stable")
    return table[CATEGORY_COLUMNS].reset_index(drop=True)


def top_functions(
    functions: pd.DataFrame, categories: pd.DataFrame, n: int, profiled_s: float
) -> pd.DataFrame:
    """The `n` functions with the most self time in each category, biggest category first."""
    if functions.empty or n <= 0:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in TOP_COLUMNS})
    top = functions.groupby("category", sort=False, group_keys=False).head(n).copy()
    top["rank"] = top.groupby("category").cumcount() + 1
    order = {name: i for i, name in enumerate(categories["category"])}
    top["_order"] = top["category"].map(order)
    top = top.sort_values(["_order", "rank"], kind="stable")
    top["pct"] = [100.0 * _safe_div(t, profiled_s) for t in top["tottime"]]
    return top[TOP_COLUMNS].reset_index(drop=True)


def amdahl_wins(categories: pd.DataFrame, profiled_s: float) -> pd.DataFrame:
    """Overall speedup if a category's self time were cut by 25, 50, 75 or 100%.

    Amdahl's law: with a share p of the time cut by a fraction r, the whole runs
    1 / (1 - p r) times faster. A category holding all the time and cut to zero gives inf.
    """
    wins = categories[["category", "self_s", "pct"]].copy()
    for cut in CUTS:
        wins[f"cut_{cut}"] = [_speedup(_safe_div(s, profiled_s), cut / 100) for s in wins["self_s"]]
    return wins[WIN_COLUMNS].reset_index(drop=True)


def _speedup(share: float, cut: float) -> float:
    remaining = 1.0 - share * cut
    return 1.0 / remaining if remaining > 1e-12 else float("inf")


def _dtype(column: str) -> str:
    if column in {"category", "name", "file", "module", "owner", "rule", "package", "advice"}:
        return "object"
    if column in {"line", "ncalls", "pcalls", "calls", "functions", "rank", "native_calls"}:
        return "int64"
    if column == "native":
        return "bool"
    return "float64"


def build_tables(
    stats: Mapping[FuncKey, FuncStats],
    ruleset: Ruleset,
    *,
    top: int = 5,
    per_call_s: float = 0.0,
) -> Tables:
    """Every table of a report from one set of statistics."""
    category_of, functions = classify_all(stats, ruleset)
    if functions.empty:
        functions = pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in FUNCTION_COLUMNS})
    profiled_s = float(sum(value[2] for value in stats.values()))
    calls = int(sum(value[1] for value in stats.values()))
    inclusive = inclusive_times(stats, category_of)
    categories = category_table(functions, inclusive, profiled_s, per_call_s)
    return Tables(
        functions=functions,
        categories=categories,
        top=top_functions(functions, categories, top, profiled_s),
        wins=amdahl_wins(categories, profiled_s),
        native=native_table(functions, profiled_s),
        profiled_s=profiled_s,
        calls=calls,
        category_of=category_of,
    )


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


def _package(module: str) -> str:
    top = module.split(".", 1)[0]
    if top == "builtins" or top in sys.stdlib_module_names:
        return "python (builtins, stdlib)"
    return top


def native_table(functions: pd.DataFrame, profiled_s: float) -> pd.DataFrame:
    """C-level time per owning package beside the Python time of the same package.

    cProfile records C functions such as ``<method 'sum' of 'numpy.ndarray' objects>``;
    their owner tells numpy's native time from the Python code around it.
    """
    native = functions[functions["native"]]
    if native.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in NATIVE_COLUMNS})
    packages = native["owner"].map(_package)
    grouped = native.assign(package=packages).groupby("package", sort=False)
    python = functions[~functions["native"]]
    python_by_package = python.groupby(python["module"].map(_package))["tottime"].sum()
    rows = []
    for package, group in grouped:
        native_s = float(group["tottime"].sum())
        calls = int(group["ncalls"].sum())
        per_call_us = 1e6 * _safe_div(native_s, calls)
        if calls >= 1000 and per_call_us < SHORT_NATIVE_CALL_US:
            advice = "many short native calls: optimise the call pattern (batch, vectorise), not the body"
        elif per_call_us >= SHORT_NATIVE_CALL_US:
            advice = "time is inside the package's C code: a better algorithm or backend helps here"
        else:
            advice = ""
        rows.append(
            (
                str(package),
                native_s,
                float(python_by_package.get(package, 0.0)),
                calls,
                100.0 * _safe_div(native_s, profiled_s),
                per_call_us,
                advice,
            )
        )
    table = pd.DataFrame.from_records(rows, columns=NATIVE_COLUMNS)
    return table.sort_values(["native_s", "package"], ascending=[False, True]).reset_index(
        drop=True
    )
