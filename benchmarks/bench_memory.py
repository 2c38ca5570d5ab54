"""What ``--memory`` costs on the demo: the tracemalloc run against a plain run.

Rounds of one plain run of ``run_demo(n_tasks=N)`` and one run of the memory pass alone
(tracemalloc with one frame, the snapshot watcher, the charging to categories),
interleaved; printed: the median of each and their ratio beside the target (<= 2x), and
what the whole ``profile(memory=True)`` costs against ``profile()``. Asserts nothing.

    python benchmarks/bench_memory.py [--tasks N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import workbench
from workbench.demo import run_demo
from workbench.profiling.categories import Ruleset
from workbench.profiling.memory import run_memory

TARGET = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    def work() -> object:
        return run_demo(n_tasks=args.tasks)

    work()  # warm the imports and caches
    report = workbench.profile(work, use_pyproject=False)
    keys, category_of = list(report.stats), report.tables.category_of
    plain, traced, whole_plain, whole_memory = [], [], [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        work()
        plain.append(time.perf_counter() - start)
        passed, error, _ = run_memory([work], keys, category_of, Ruleset())
        assert error is None and passed is not None
        traced.append(passed.seconds)
        start = time.perf_counter()
        workbench.profile(work, use_pyproject=False)
        whole_plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        workbench.profile(work, memory=True, use_pyproject=False)
        whole_memory.append(time.perf_counter() - start)
    p, m = statistics.median(plain), statistics.median(traced)
    wp, wm = statistics.median(whole_plain), statistics.median(whole_memory)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"demo run_demo(n_tasks={args.tasks}), {args.rounds} rounds interleaved, medians:")
    print(f"  plain run                 {p:.3f} s")
    print(f"  memory pass (tracemalloc) {m:.3f} s   {m / p:.2f}x plain   target <= {TARGET:.1f}x")
    print(f"  profile()                 {wp:.3f} s")
    print(f"  profile(memory=True)      {wm:.3f} s   {wm / wp:.2f}x profile() (one more run)")


if __name__ == "__main__":
    main()
