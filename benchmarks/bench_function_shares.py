"""Inclusive shares of the hottest functions: the truth without a profiler, beside the
corrected shares (`r.functions.corrected_cum` over the corrected total) and the shares as
profiled (`cumtime` over the profiled total).

The truth: each of the top N functions (by profiled inclusive time, lambdas and generator
expressions left out) is replaced, in every module namespace that names it, by a stand-in
with its own parameters (:func:`workbench.profiling.signature.same_signature`: arc-dsl's
``rbind`` reads ``co_argcount``) that adds the time of its outermost calls to a clock. No
profiler runs. One function is timed per run, so only its own stand-in's cost lands in its
clock; that cost (measured on an empty function, outer and nested calls apart) comes out of
the clock and out of the run's total. Plain runs and timed runs interleave; medians.

    python benchmarks/bench_function_shares.py [--arc-dsl PATH] [--top N] [--repeats R]
                                               [--profiles P] [--functions a,b,c]

Built in (no path): a small grid DSL whose `mapply` recurses through `apply` and lambdas,
as arc-dsl's does. Prints its figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

from workbench.profiling.signature import same_signature  # noqa: E402

clock = time.process_time_ns


@dataclass
class Timer:
    ns: int = 0
    outer: int = 0
    nested: int = 0
    depth: int = 0


def stand_in(func: types.FunctionType, timer: Timer) -> types.FunctionType:
    """`func` with its own signature, timing its outermost calls into `timer`."""

    def call(*args: Any, **kwargs: Any) -> Any:
        if timer.depth:
            timer.nested += 1
            return func(*args, **kwargs)
        timer.depth = 1
        start = clock()
        try:
            return func(*args, **kwargs)
        finally:
            timer.ns += clock() - start
            timer.outer += 1
            timer.depth = 0

    return same_signature(func, call)


@contextmanager
def replaced(
    spaces: list[dict[str, Any]], func: types.FunctionType, timer: Timer
) -> Iterator[None]:
    shim = stand_in(func, timer)
    saved = [(space, name) for space in spaces for name, v in space.items() if v is func]
    for space, name in saved:
        space[name] = shim
    try:
        yield
    finally:
        for space, name in saved:
            space[name] = func


def stand_in_cost() -> tuple[float, float, float]:
    """Nanoseconds a stand-in adds to an outer call: inside its clock, and in all; and to a
    nested call. Medians of interleaved loops."""

    def empty(a: object, b: object = None) -> None:
        return None

    n = 50_000
    outer, full, nested = [], [], []
    for _ in range(7):
        timer = Timer()
        shim = stand_in(empty, timer)  # type: ignore[arg-type]
        start = clock()
        for i in range(n):
            empty(i)
        bare = clock() - start
        start = clock()
        for i in range(n):
            shim(i)
        full.append(max(clock() - start - bare, 0) / n)
        outer.append(max(timer.ns - bare, 0) / n)
        timer.depth = 1
        start = clock()
        for i in range(n):
            shim(i)
        nested.append(max(clock() - start - bare, 0) / n)
    return statistics.median(outer), statistics.median(full), statistics.median(nested)


# --- the built-in workload: a grid DSL whose mapply recurses through apply and lambdas ---


def b_objects(grid: tuple[tuple[int, ...], ...]) -> frozenset[Any]:
    seen: set[tuple[int, int]] = set()
    found = []
    h, w = len(grid), len(grid[0])
    for i in range(h):
        for j in range(w):
            if (i, j) in seen or grid[i][j] == 0:
                continue
            part, todo = set(), [(i, j)]
            while todo:
                a, b = todo.pop()
                if (a, b) in seen or not (0 <= a < h and 0 <= b < w) or grid[a][b] == 0:
                    continue
                seen.add((a, b))
                part.add((grid[a][b], (a, b)))
                todo.extend(((a + 1, b), (a - 1, b), (a, b + 1), (a, b - 1)))
            found.append(frozenset(part))
    return frozenset(found)


def b_shift(patch: frozenset[Any], d: tuple[int, int]) -> frozenset[Any]:
    return frozenset((v, (i + d[0], j + d[1])) for v, (i, j) in patch)


def b_merge(containers: frozenset[Any]) -> frozenset[Any]:
    return frozenset(e for c in containers for e in c)


def b_apply(function: Callable[[Any], Any], container: frozenset[Any]) -> frozenset[Any]:
    return frozenset(function(e) for e in container)


def b_mapply(function: Callable[[Any], Any], container: frozenset[Any]) -> frozenset[Any]:
    return b_merge(b_apply(function, container))


def b_rbind(function: Callable[..., Any], fixed: Any) -> Callable[[Any], Any]:
    if function.__code__.co_argcount == 2:
        return lambda x: function(x, fixed)
    raise ValueError("two parameters expected")


def b_neighbours(cell: Any) -> frozenset[Any]:
    v, (i, j) = cell
    return frozenset({(v, (i + 1, j)), (v, (i, j + 1))})


def b_grow(patch: frozenset[Any]) -> frozenset[Any]:
    return b_mapply(lambda cell: b_mapply(b_neighbours, frozenset({cell})), patch)


def b_solve(grid: tuple[tuple[int, ...], ...]) -> int:
    parts = b_objects(grid)
    moved = b_apply(b_rbind(b_shift, (1, 1)), parts)
    grown = b_mapply(b_grow, moved)
    return len(grown)


def built_in_run(grids: int = 400) -> int:
    total = 0
    for k in range(grids):
        grid = tuple(
            tuple((i * 7 + j * 3 + k) % 5 if (i + j + k) % 4 else 0 for j in range(12))
            for i in range(12)
        )
        total += b_solve(grid)
    return total


# --- measuring ---


def plain_ns(run: Callable[[], object]) -> int:
    start = clock()
    run()
    return clock() - start


def profiled(
    run: Callable[[], object], names: set[str], files: set[str], top: int, prefix: str
) -> Any:
    """One profile through the product (with a plain run, so the correction is scaled to
    what profiling really added); the top functions' rows."""
    import workbench

    report = workbench.profile(run, overhead=True, top=top)
    fns = report.functions
    mine = fns[fns["file"].isin(files) & fns["name"].str.startswith(prefix)]
    mine = mine[~mine["name"].str.startswith("<")]
    if names:
        mine = mine[mine["name"].isin(names)]
    return report, mine.sort_values("cumtime", ascending=False).head(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arc-dsl", type=Path, default=None)
    parser.add_argument("--top", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profiles", type=int, default=3)
    parser.add_argument(
        "--functions", default="", help="comma-separated names to time (default: the top N)"
    )
    args = parser.parse_args()

    if args.arc_dsl is not None:
        sys.path.insert(0, str(args.arc_dsl))
        import run_solvers  # type: ignore[import-not-found]

        dsl = sys.modules["dsl"]
        spaces = [vars(dsl), vars(sys.modules["solvers"])]
        files = {dsl.__file__}

        def run() -> object:
            return run_solvers.run(repeat=1, exclude=("a64e4611",))

        run_solvers.load_cases()
        label = f"arc-dsl ({args.arc_dsl})"
        prefix = ""
        module = dsl
    else:
        module = sys.modules[__name__]
        spaces = [vars(module)]
        files = {str(Path(__file__).resolve()), __file__}
        run = built_in_run
        prefix = "b_"
        label = "built-in (b_mapply recurses through b_apply and lambdas)"
    run()  # warm up

    shares: dict[str, list[tuple[float, float]]] = {}
    rows = None
    for _ in range(args.profiles):
        chosen = set(shares) or {n for n in args.functions.split(",") if n}
        report, rows = profiled(run, chosen, files, args.top, prefix)
        fns = report.functions
        raw_total = float(fns["tottime"].sum())
        fixed_total = float(fns["corrected_self"].sum())
        for _i, row in rows.iterrows():
            shares.setdefault(row["name"], []).append(
                (row["corrected_cum"] / fixed_total, row["cumtime"] / raw_total)
            )
    assert rows is not None
    names = list(rows["name"])
    outer_ns, full_ns, nested_ns = stand_in_cost()
    plain: list[int] = []
    truth: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.repeats):
        plain.append(plain_ns(run))
        for name in names:
            func = getattr(module, name)
            timer = Timer()
            with replaced(spaces, func, timer):
                total = plain_ns(run)
            inside = timer.ns - timer.outer * outer_ns - timer.nested * nested_ns
            whole = total - timer.outer * full_ns - timer.nested * nested_ns
            truth[name].append(inside / whole)
    load = os.getloadavg()
    print(f"{label}; {platform.python_implementation()} {platform.python_version()}, ")
    print(
        f"{os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f}; plain run "
        f"{statistics.median(plain) / 1e9:.3f} s CPU (median of {len(plain)}); stand-in "
        f"{outer_ns:.0f}/{full_ns:.0f} ns outer (clock/all), {nested_ns:.0f} ns nested; medians of {args.repeats} "
        f"timed runs and {args.profiles} profiles"
    )
    print(f"{'function':<16}{'truth':>8}{'corrected':>11}{'profiled':>10}{'err c':>8}{'err p':>8}")
    worst_c = worst_p = 0.0
    for name in names:
        t = 100 * statistics.median(truth[name])
        c = 100 * statistics.median(s[0] for s in shares[name])
        p = 100 * statistics.median(s[1] for s in shares[name])
        worst_c, worst_p = max(worst_c, abs(c - t)), max(worst_p, abs(p - t))
        print(f"{name:<16}{t:>7.1f}%{c:>10.1f}%{p:>9.1f}%{c - t:>+8.1f}{p - t:>+8.1f}")
    print(f"largest error: corrected {worst_c:.1f} points, as profiled {worst_p:.1f} points")


if __name__ == "__main__":
    main()
