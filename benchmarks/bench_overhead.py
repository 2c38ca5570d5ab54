"""The overhead estimate against the measured profiled/plain factor, per workload shape.

For each workload (the five built-in shapes of `shapes.py`; arc-dsl and the method-heavy
standard-library workload with `--arc-dsl PATH` / `--stdlib PATH`), rounds of one plain
run and one profiled run (the product's path: a Session with its cost model measured
once, as a kernel does), interleaved; per round the measured factor is profiled wall /
plain and the estimate is the report's `overhead.factor`. Printed: the median of each,
the estimate's range, and the error against the measured factor (target: within 15%).

`--kernel` runs the same in a real IPython kernel (jupyter_client): plain cells timed in
the kernel, profiled cells through `%%optimize -q -o r --no-store`, estimate from `r`.
`--own` also prints what %%optimize adds on top of raw cProfile (the magic's own time).
Prints its figures; asserts nothing.

    python benchmarks/bench_overhead.py [--quick] [--repeats R] [--scale S] [--kernel]
                                        [--arc-dsl PATH] [--stdlib PATH] [--own]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import shapes  # noqa: E402

from workbench.experiment.session import Session  # noqa: E402
from workbench.profiling.capture import run_plain  # noqa: E402

Work = Callable[[], object]


def workloads(args: argparse.Namespace) -> dict[str, tuple[str, str]]:
    """name -> (setup code, the call), run in one namespace (here or in a kernel)."""
    found = {
        name: (
            f"import sys; sys.path.insert(0, {str(HERE)!r}); import shapes\n"
            f"w = shapes.shape({name!r}, {args.scale}).run",
            "w()",
        )
        for name in shapes.SHAPES
    }
    if args.arc_dsl:
        tasks = 40 if args.quick else 150
        found["arc-dsl"] = (
            f"import sys; sys.path.insert(0, {args.arc_dsl!r}); import run_solvers\n"
            "run_solvers.load_cases()\n"
            f"w = lambda: run_solvers.run(tasks={tasks})",
            "w()",
        )
    if args.stdlib:
        scale = 0.05 if args.quick else 0.2
        found["stdlib"] = (
            f"import sys; sys.path.insert(0, {args.stdlib!r}); import method_heavy\n"
            f"w = lambda: method_heavy.run(scale={scale})",
            "w()",
        )
    return found


def in_script(setup: str, call: str, repeats: int, session: Session) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(setup, namespace)
    work: Work = namespace["w"]
    work()  # warm caches and imports
    options = session.options({}, use_pyproject=False)
    measured, estimated, lows, highs = [], [], [], []
    for _ in range(repeats):
        plain = run_plain([work])
        report = session.profile(work, options, record=False).report
        measured.append(report.wall_s / plain)
        estimated.append(report.overhead.factor)
        low, high = report.overhead.factor_range
        lows.append(low)
        highs.append(high)
    return {
        "measured": measured,
        "estimated": estimated,
        "low": statistics.median(lows),
        "high": statistics.median(highs),
        "calls": report.calls,
        "sentence": report.overhead.sentence(),
    }


KERNEL_ROUND = """
import time as _t, json as _j
_s = _t.perf_counter(); w(); _plain = _t.perf_counter() - _s
"""


def in_kernel(specs: dict[str, tuple[str, str]], repeats: int) -> dict[str, dict[str, Any]]:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    results: dict[str, dict[str, Any]] = {}
    try:

        def run(code: str) -> str:
            reply_text: list[str] = []

            def output(msg: dict[str, Any]) -> None:
                if msg["msg_type"] == "stream":
                    reply_text.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    reply_text.append("\n".join(msg["content"]["traceback"]))

            reply = client.execute_interactive(code, timeout=600, output_hook=output)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"kernel cell failed: {code[:80]!r}: {''.join(reply_text)}")
            return "".join(reply_text)

        run("%load_ext workbench\nimport time as _t, json as _j\n_rows = {}")
        for name, (setup, call) in specs.items():
            run(setup + "\nw()")
            run(f"_rows[{name!r}] = {{'measured': [], 'estimated': [], 'low': [], 'high': []}}")
            for _ in range(repeats):
                run(f"_s = _t.perf_counter(); {call}; _plain = _t.perf_counter() - _s")
                run(f"%%optimize -q -o _r --no-store\n{call}")
                run(
                    f"_x = _rows[{name!r}]; _x['measured'].append(_r.wall_s / _plain); "
                    "_x['estimated'].append(_r.overhead.factor); "
                    "_x['low'].append(_r.overhead.factor_range[0]); "
                    "_x['high'].append(_r.overhead.factor_range[1]); _x['calls'] = _r.calls"
                )
        text = run("print(_j.dumps(_rows))")
        for name, row in json.loads(text.strip().splitlines()[-1]).items():
            row["low"] = statistics.median(row["low"])
            row["high"] = statistics.median(row["high"])
            results[name] = row
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return results


def print_table(title: str, rows: dict[str, dict[str, Any]]) -> None:
    print()
    print(title)
    print(
        f"{'workload':<11}{'calls':>11}{'measured':>10}{'estimate':>10}{'range':>14}"
        f"{'error':>8}  within 15%"
    )
    for name, row in rows.items():
        measured = statistics.median(row["measured"])
        estimate = statistics.median(row["estimated"])
        error = (estimate - measured) / measured
        span = f"{row['low']:.2f}-{row['high']:.2f}"
        inside = "yes" if abs(error) <= 0.15 else "NO"
        print(
            f"{name:<11}{row['calls']:>11,}{measured:>9.2f}x{estimate:>9.2f}x{span:>14}"
            f"{100 * error:>+7.0f}%  {inside}"
        )


def own_time(repeats: int) -> None:
    """What %%optimize adds on top of the profiled run (the magic's own work)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from workbench.cli import demo_rules

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "workbench")
    shell.run_cell("from workbench.demo import run_demo\nrun_demo(n_tasks=10)")
    cell = f"%%optimize -o r --no-store --rules {demo_rules()}\nrun_demo(n_tasks=10)\n"
    added = []
    for _ in range(repeats):
        start = time.perf_counter()
        with capture_output():
            shell.run_cell(cell)
        added.append(time.perf_counter() - start - shell.user_ns["r"].wall_s)
    print(
        f"\n%%optimize's own time (whole magic - profiled run), median: "
        f"{statistics.median(added) * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small workloads, 2 rounds")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--kernel", action="store_true", help="also in a real IPython kernel")
    parser.add_argument("--arc-dsl", default=None, help="path to arc-dsl (run_solvers.py)")
    parser.add_argument("--stdlib", default=None, help="path to stdlib-work (method_heavy.py)")
    parser.add_argument("--own", action="store_true", help="also the magic's own time")
    parser.add_argument(
        "--calibration-calls",
        type=int,
        default=None,
        help="iterations of each calibration loop (default: the product's)",
    )
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 7)
    if args.scale is None:
        args.scale = 0.1 if args.quick else 0.6
    specs = workloads(args)
    load = os.getloadavg()[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {load:.1f} at the start"
    )
    print(
        f"{repeats} interleaved rounds (plain, profiled) per workload, medians; scale {args.scale}"
    )
    session = Session({})
    if args.calibration_calls:
        from workbench.profiling.cost_model import measure_cost_model

        session._cost_model = measure_cost_model(calls=args.calibration_calls)
    model = session.cost_model()
    print("cost model:", model.describe() if model else "unknown (too loaded to measure)")
    rows = {name: in_script(setup, call, repeats, session) for name, (setup, call) in specs.items()}
    print_table("In this process (a script)", rows)
    if args.kernel:
        print_table(
            "In a real IPython kernel (jupyter_client, %%optimize)", in_kernel(specs, repeats)
        )
    if args.own:
        own_time(repeats)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
