"""What the stack sampler costs: profiled / plain, and what the report says it cost.

For each workload (the embedded demo, recursion 800 and 3,000 frames deep, and arc-dsl with
`--arc-dsl PATH`), rounds of one plain run and one `--mode sample` run through the product
(a Session), interleaved. Printed per workload: the measured factor (profiled / plain,
median; target at most 1.3), the samples, the sampler's own time per sample as measured by
the sampler (the report's "samples x cost per sample"), the factor that stated cost
implies, and pyinstrument and cProfile beside them. `--kernel` runs the stack sampler's
rounds in a real IPython kernel too (plain cells timed in the kernel, `%%optimize -q -o r
--mode sample --no-store`), where the cell runs some 40 frames below the kernel's loop.
Shares against a ground truth are in bench_shares.py. Prints its figures; asserts nothing.

    python benchmarks/bench_sampling.py [--quick] [--repeats R] [--kernel] [--arc-dsl PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workbench.experiment.session import Session  # noqa: E402
from workbench.profiling.capture import run_plain  # noqa: E402


def specs(args: argparse.Namespace) -> dict[str, str]:
    """name -> setup code that defines `w`, the work."""
    tasks = 6 if args.quick else 20
    deep = 40 if args.quick else 150
    found = {
        "demo": f"from workbench.demo import run_demo\nw = lambda: run_demo(n_tasks={tasks})",
        "recursion 800": (
            f"import sys; sys.path.insert(0, {str(HERE)!r}); import shapes\n"
            f"w = shapes.shape('recursion', {0.2 if args.quick else 1.0}).run"
        ),
        "recursion 3000": (
            "import sys\nsys.setrecursionlimit(10_000)\n"
            "def down(d):\n    return 0 if d == 0 else down(d - 1) + 1\n"
            f"w = lambda: [down(3000) for _ in range({deep})]"
        ),
    }
    if args.arc_dsl:
        found["arc-dsl"] = (
            f"import sys; sys.path.insert(0, {args.arc_dsl!r}); import run_solvers\n"
            f"run_solvers.load_cases()\nw = lambda: run_solvers.run(tasks={40 if args.quick else 150})"
        )
    return found


def in_script(setup: str, repeats: int, session: Session) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(setup, namespace)
    work = namespace["w"]
    work()
    rows: dict[str, list[float]] = {"plain": [], "sample": [], "pyinstrument": [], "cprofile": []}
    samples, per_sample = [], []
    for _ in range(repeats):
        rows["plain"].append(run_plain([work]))
        for mode in ("sample", "pyinstrument", "cprofile"):
            options = session.options({"mode": mode}, use_pyproject=False)
            report = session.profile(work, options, record=False).report
            rows[mode].append(report.wall_s)
            if mode == "sample":
                samples.append(report.overhead.samples)
                per_sample.append(report.overhead.sample_s)
    base = statistics.median(rows["plain"])
    return {
        "plain": base,
        "factors": {
            m: statistics.median(rows[m]) / base for m in ("sample", "pyinstrument", "cprofile")
        },
        "samples": statistics.median(samples),
        "sample_s": statistics.median(per_sample),
    }


def in_kernel(found: dict[str, str], repeats: int) -> dict[str, dict[str, Any]]:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:

        def run(code: str) -> str:
            text: list[str] = []

            def output(msg: dict[str, Any]) -> None:
                if msg["msg_type"] == "stream":
                    text.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    text.append("\n".join(msg["content"]["traceback"]))

            reply = client.execute_interactive(code, timeout=900, output_hook=output)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"kernel cell failed: {code[:80]!r}: {''.join(text)}")
            return "".join(text)

        run("%load_ext workbench\nimport time as _t, json as _j, sys as _s\n_rows = {}")
        for name, setup in found.items():
            run(setup + "\nw()")
            run(
                f"_rows[{name!r}] = {{'plain': [], 'sample': [], 'samples': [], 'sample_s': [], 'depth': 0}}"
            )
            for _ in range(repeats):
                run("_s0 = _t.perf_counter(); w(); _plain = _t.perf_counter() - _s0")
                run("%%optimize -q -o _r --mode sample --no-store\nw()")
                run(
                    f"_x = _rows[{name!r}]; _x['plain'].append(_plain); "
                    "_x['sample'].append(_r.wall_s); _x['samples'].append(_r.overhead.samples); "
                    "_x['sample_s'].append(_r.overhead.sample_s)"
                )
        run(
            "_f = _s._getframe(); _d = 0\nwhile _f is not None:\n    _d += 1; _f = _f.f_back\n_rows['_depth'] = _d"
        )
        rows = json.loads(run("print(_j.dumps(_rows))").strip().splitlines()[-1])
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    depth = rows.pop("_depth")
    out = {}
    for name, row in rows.items():
        base = statistics.median(row["plain"])
        out[name] = {
            "plain": base,
            "factors": {"sample": statistics.median(row["sample"]) / base},
            "samples": statistics.median(row["samples"]),
            "sample_s": statistics.median(row["sample_s"]),
            "depth": depth,
        }
    return out


def print_rows(title: str, rows: dict[str, dict[str, Any]]) -> None:
    print()
    print(title)
    print(
        f"{'workload':<16}{'plain s':>9}{'sampler':>9}{'<=1.3':>6}{'samples':>9}{'us/sample':>11}"
        f"{'stated':>8}{'pyinstr.':>10}{'cProfile':>10}"
    )
    for name, row in rows.items():
        factors = row["factors"]
        stated = (row["plain"] + row["samples"] * row["sample_s"]) / row["plain"]
        inside = "yes" if factors["sample"] <= 1.3 else "NO"
        other = "".join(
            f"{factors[m]:>9.2f}x" if m in factors else f"{'-':>10}"
            for m in ("pyinstrument", "cprofile")
        )
        print(
            f"{name:<16}{row['plain']:>9.3f}{factors['sample']:>8.2f}x{inside:>6}"
            f"{row['samples']:>9.0f}{row['sample_s'] * 1e6:>11.1f}{stated:>7.2f}x{other}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--kernel", action="store_true")
    parser.add_argument("--arc-dsl", default=None, help="path to arc-dsl (run_solvers.py)")
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    found = specs(args)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start"
    )
    print(
        f"{repeats} interleaved rounds per workload, medians; 'stated' = (plain + samples x "
        "us/sample) / plain, the cost the report states"
    )
    session = Session({})
    print_rows("In this process", {n: in_script(s, repeats, session) for n, s in found.items()})
    if args.kernel:
        kernel = in_kernel(found, repeats)
        depth = next(iter(kernel.values()))["depth"] if kernel else 0
        print_rows(f"In a real IPython kernel (the cell runs {depth} frames deep)", kernel)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
