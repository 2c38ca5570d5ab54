"""Does the speedup test tell real speedups from noise, within 30 s, without false keeps?

Target (issue [experiments-postmortem]): a real 5% speedup is told from noise on this
machine within a 30 s budget on the demo, and a change that is not faster is never
called "keep". Prints the hit rate and the false-keep rate; asserts nothing.

Each decision is the real flow, through %%optimize in an IPython shell: record a baseline,
then run a candidate with ``--budget``. Both cells run the embedded ARC demo
(``run_demo(n_tasks=4)``, about 0.3 s; ``--tasks`` changes it) followed by a pure-Python
spin loop; the spin
lengths are calibrated so that the candidate's whole cell is planted to be s times as
fast as the baseline's (s = 1.05 means 5% faster, s = 0.95 a 5% slowdown, s = 1 the same
work). The cells' results (the DemoResult) are compared as usual.

    python benchmarks/bench_experiment.py [--budget 30] [--tasks 4]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

SPIN = """\
def spin(units):
    total = 0
    for i in range(units):
        total += i
    return total
"""
# planted speedup factors: speedups (should be kept), then same work and slowdowns (never)
PLANTED = (1.05, 1.05, 1.05, 1.05, 1.10, 1.10, 1.20, 1.00, 1.00, 1.00, 0.95, 0.95, 0.90)
BASE_SPIN_SHARE = 0.3  # the baseline's spin, as a share of the demo's time


def timed(shell: InteractiveShell, code: str, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        shell.run_cell(code, silent=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--tasks", type=int, default=4)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="bench-exp-")) / "runs.sqlite"

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "workbench")
    shell.run_cell(SPIN + "from workbench.demo import run_demo\n")
    demo_s = timed(shell, f"run_demo(n_tasks={args.tasks})")
    units = 2_000_000
    per_unit = timed(shell, f"spin({units})") / units
    base_units = int(BASE_SPIN_SHARE * demo_s / per_unit)
    base_s = demo_s + base_units * per_unit
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(
        f"workload: run_demo(n_tasks={args.tasks}) {demo_s:.3f} s + spin {base_units * per_unit:.3f} s "
        f"= baseline {base_s:.3f} s; budget {args.budget:g} s per decision"
    )
    print(f"{'planted':>8} {'measured':>9} {'99% CI':>17} {'rounds':>6} {'elapsed':>8}  verdict")
    rows = []
    for planted in PLANTED:
        cand_units = max(0, int((base_s / planted - demo_s) / per_unit))
        cell = "demo = run_demo(n_tasks={t})\nspin({u})\ndemo\n"
        with capture_output():
            shell.run_cell(
                f"%%optimize -q --store {store} --baseline b\n"
                + cell.format(t=args.tasks, u=base_units)
            )
            start = time.perf_counter()
            result = shell.run_cell(
                f"%%optimize -q --store {store} --candidate c --budget {args.budget} -o e\n"
                + cell.format(t=args.tasks, u=cand_units)
            )
            elapsed = time.perf_counter() - start
        if result.error_in_exec is not None:
            raise RuntimeError(f"planted {planted}: {result.error_in_exec}")
        exp = shell.user_ns["e"]
        s = exp.speedup
        rows.append((planted, exp.verdict))
        print(
            f"{planted:>8.2f} {s.point:>8.3f}x {s.floor:>7.3f}x-{s.ceiling:<7.3f}x "
            f"{s.rounds:>6} {elapsed:>7.1f}s  {exp.verdict} ({exp.correctness})"
        )
    faster = [v for p, v in rows if p > 1]
    not_faster = [v for p, v in rows if p <= 1]
    five = [v for p, v in rows if p == 1.05]
    print(
        f"hit rate (planted speedups kept): {faster.count('keep')}/{len(faster)}; "
        f"5% speedups kept: {five.count('keep')}/{len(five)}"
    )
    print(
        f"false-keep rate (same work or slower, kept): {not_faster.count('keep')}/{len(not_faster)}"
    )


if __name__ == "__main__":
    main()
