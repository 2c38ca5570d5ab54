"""The line pass against line_profiler alone on the same functions, and against plain runs.

The cell is profiled once (cProfile, as `%%optimize` does first); then, in interleaved
rounds: a plain run; `--lines N` on the same cell, which reuses that profile to pick its N
functions and runs the code once under line_profiler only (the whole session call is
timed: picking, the run, the tables); and line_profiler by hand (``LineProfiler``,
``add_function``, ``enable_by_count``, as ``%lprun -f`` does) on the same functions.
Target: the line pass at most 1.2x line_profiler alone. `-f NAME` is timed the same way.
Prints its figures; asserts nothing.

    python benchmarks/bench_lines.py [--quick] [--tasks N] [--lines N] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

from line_profiler import LineProfiler

from workbench.cli import demo_rules
from workbench.demo import run_demo
from workbench.experiment.session import Session


def by_hand(functions: list[Any], namespace: dict[str, Any], code: str) -> float:
    profiler = LineProfiler()
    for function in functions:
        profiler.add_function(function)
    compiled = compile(code, "<bench>", "exec")
    start = time.perf_counter()
    profiler.enable_by_count()
    try:
        exec(compiled, namespace)
    finally:
        profiler.disable_by_count()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tasks", type=int, default=None)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    tasks = args.tasks or (6 if args.quick else 30)
    repeats = args.repeats or (2 if args.quick else 5)
    code = f"run_demo(n_tasks={tasks})\n"
    namespace: dict[str, Any] = {"run_demo": run_demo}
    session = Session(namespace)
    profile_options = session.options({"rules": str(demo_rules())}, use_pyproject=False)
    lines_options = session.options(
        {"rules": str(demo_rules()), "lines": args.lines}, use_pyproject=False
    )
    run_demo(n_tasks=tasks)  # warm
    first = session.profile(code, profile_options, record=False).report
    probe = session.profile(code, lines_options, record=False).report
    assert probe.lines is not None
    names = probe.lines.functions
    functions = []
    dotted = []
    import workbench.demo.dsl as dsl
    import workbench.demo.search as search

    namespace.update(search=search, dsl=dsl)
    for name in names:
        owner: Any = search if hasattr(search, name.split(".")[0]) else dsl
        value = owner
        for part in name.split("."):
            value = getattr(value, part)
        functions.append(value)
        dotted.append(f"{owner.__name__.rsplit('.', 1)[-1]}.{name}")
    plain, ours, ours_pass, hand, dash_f = [], [], [], [], []
    f_options = session.options(
        {"rules": str(demo_rules()), "functions": dotted}, use_pyproject=False
    )
    for _ in range(repeats):
        start = time.perf_counter()
        run_demo(n_tasks=tasks)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = session.profile(code, lines_options, record=False).report
        ours.append(time.perf_counter() - start)
        assert report.lines is not None
        ours_pass.append(report.lines.seconds)
        hand.append(by_hand(functions, dict(namespace), code))
        start = time.perf_counter()
        session.profile(code, f_options, record=False)
        dash_f.append(time.perf_counter() - start)
    base = statistics.median(plain)
    mine = statistics.median(ours)
    alone = statistics.median(hand)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"demo run_demo(n_tasks={tasks}), {repeats} interleaved rounds, medians")
    print(
        f"plain run: {base:.3f} s; the first profile (cProfile, picks the functions): "
        f"{first.wall_s:.3f} s = {first.wall_s / base:.2f}x plain, run once"
    )
    print(f"functions: {', '.join(names)}")
    print(f"line_profiler alone on them (as %lprun): {alone:.3f} s = {alone / base:.2f}x plain")
    print(
        f"--lines {args.lines} (reusing the profile): {mine:.3f} s whole call "
        f"({statistics.median(ours_pass):.3f} s the run) = {mine / base:.2f}x plain, "
        f"{mine / alone:.2f}x line_profiler alone (target <= 1.2)"
    )
    f_med = statistics.median(dash_f)
    print(
        f"-f {' -f '.join(names)}: {f_med:.3f} s whole call = {f_med / alone:.2f}x line_profiler alone"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
