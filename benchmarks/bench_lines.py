"""Cost of the line pass on the demo: it instruments only the chosen functions.

Prints the plain run time, the cProfile pass, and the line_profiler pass over the top N
user functions, each as a ratio to the plain run. Asserts nothing.

    python benchmarks/bench_lines.py [--tasks N] [--lines N]
"""

from __future__ import annotations

import argparse
import platform
import time

import workbench
from workbench.cli import demo_rules
from workbench.demo import run_demo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--lines", type=int, default=5)
    args = parser.parse_args()
    run_demo(n_tasks=args.tasks)  # warm imports and file caches
    start = time.perf_counter()
    run_demo(n_tasks=args.tasks)
    plain = time.perf_counter() - start
    report = workbench.profile(
        lambda: run_demo(n_tasks=args.tasks), rules=demo_rules(), lines=args.lines, chart="none"
    )
    assert report.lines is not None
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"demo run_demo(n_tasks={args.tasks}), plain: {plain:.3f} s")
    print(
        f"cProfile pass (every call instrumented): {report.wall_s:.3f} s = {report.wall_s / plain:.2f}x plain"
    )
    print(
        f"line pass over {len(report.lines.functions)} functions ({', '.join(report.lines.functions)}): "
        f"{report.lines.seconds:.3f} s = {report.lines.seconds / plain:.2f}x plain"
    )


if __name__ == "__main__":
    main()
