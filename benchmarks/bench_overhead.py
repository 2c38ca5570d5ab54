"""What %%optimize adds on top of raw cProfile, on the embedded ARC demo (call-heavy).

Target (issue [foundation]): the workbench's own time (compiling the cell, capture
bookkeeping, analysis, rendering the display bundle) is at most 5% of the cell's
profiled time. Measured directly, so workload noise does not enter it:

    added = (wall time of the whole magic) - (wall time of the profiled run inside it)

and cross-checked against raw cProfile (enable, run, disable, create_stats) with
interleaved runs. Prints its figures; asserts nothing.

    python benchmarks/bench_overhead.py [--tasks N] [--repeats R]
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import statistics
import time
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench.cli import demo_rules
from workbench.demo import run_demo


def raw_cprofile(tasks: int) -> float:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    run_demo(n_tasks=tasks)
    profiler.disable()
    profiler.create_stats()
    return time.perf_counter() - start


def magic(shell: Any, tasks: int) -> tuple[float, Any]:
    cell = f"%%optimize -o r --rules {demo_rules()}\nrun_demo(n_tasks={tasks})\n"
    start = time.perf_counter()
    with capture_output() as cap:
        shell.run_cell(cell)
    total = time.perf_counter() - start
    if not cap.outputs:
        raise RuntimeError("the magic displayed nothing")
    return total, shell.user_ns["r"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "workbench")
    shell.run_cell("from workbench.demo import run_demo")
    run_demo(n_tasks=args.tasks)  # warm the workload's imports and caches

    cold_total, cold_report = magic(shell, args.tasks)
    cold_added = cold_total - cold_report.wall_s
    raws, totals, added, shares, profiled = [], [], [], [], []
    for _ in range(args.repeats):
        raws.append(raw_cprofile(args.tasks))
        total, report = magic(shell, args.tasks)
        totals.append(total)
        profiled.append(report.profiled_s)
        added.append(total - report.wall_s)
        shares.append(100 * (total - report.wall_s) / report.profiled_s)

    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"demo: run_demo(n_tasks={args.tasks}), {cold_report.calls:,} calls profiled")
    print(f"profiled time, median: {statistics.median(profiled):.3f} s")
    print(f"raw cProfile run, median of {args.repeats}: {statistics.median(raws):.3f} s")
    print(f"%%optimize whole magic, median of {args.repeats}: {statistics.median(totals):.3f} s")
    print(
        f"workbench's own time (magic - profiled run), median: {statistics.median(added) * 1e3:.1f} ms"
        f" = {statistics.median(shares):.2f}% of profiled time (target <= 5%)"
    )
    print(
        f"first run in this process (measures the per-call cost; bench_magic.py times a "
        f"fresh kernel): "
        f"{cold_added * 1e3:.1f} ms = {100 * cold_added / cold_report.profiled_s:.2f}%"
    )


if __name__ == "__main__":
    main()
