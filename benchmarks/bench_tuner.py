"""How fast the tuner answers a slider move: figure shapes, chosen points and regret.

Target (issue [calibration]): moving a threshold slider updates the chart and the regret
"at once", without re-running a benchmark. Prints the median and worst seconds of one
slider move (the widget's whole callback, no kernel or browser), first on a real CPU-only
calibration of this machine (all default ops, 10 s budget), then on a synthetic table the
size of a two-GPU machine's (8 ops x 8 groups each; its times are made up: it measures
the tuner's own cost, not any backend). Asserts nothing.

    python benchmarks/bench_tuner.py
"""

from __future__ import annotations

import platform
import statistics
import time

import numpy as np

from workbench.calibration import DEFAULT_OPS, Calibration, MachineKey, Point, calibrate, log_sizes
from workbench.calibration.fit import BACKENDS
from workbench.machine import cpu_name
from workbench.ui.tuner.widget import Tuner

MOVES = 200


def two_gpu_table() -> Calibration:
    """Every lane a two-GPU sweep of the default ops has, with made-up times."""
    points = []
    lanes = [(r, -1, b) for r in ("python", "host") for b in ("python", "numpy")]
    lanes += [(r, d, "cupy") for r in ("python", "host") for d in (0, 1)]
    lanes += [("device", d, b) for d in (0, 1) for b in BACKENDS]
    for op in DEFAULT_OPS:
        for residency, device, backend in lanes:
            for n in log_sizes():
                cost = {"python": 5e-8, "numpy": 2e-9, "cupy": 1e-11}[backend]
                t = {"python": 1e-6, "numpy": 2e-6, "cupy": 2e-5}[backend] + cost * n
                points.append(Point(op, residency, device, backend, n, "ok", t, t, t * 1.1))
    key = MachineKey(cpu="synthetic", gpu="0: GPU A, 1: GPU B")
    return Calibration(key, "2026-01-01T00:00Z", 0.0, points)


def slider_moves(tuner: Tuner, residency: str) -> list[float]:
    """Seconds of each of MOVES slider moves across the shown range."""
    tuner.residency.value = residency
    lo, hi = tuner.python_slider.min, tuner.python_slider.max
    out = []
    for value in np.logspace(lo, hi, MOVES):
        start = time.perf_counter()
        tuner.python_slider.value = float(value)
        out.append(time.perf_counter() - start)
    return out


def report(name: str, tuner: Tuner, residency: str) -> None:
    times = slider_moves(tuner, residency)
    print(
        f"{name}: {len(tuner.state.groups())} groups; one slider move "
        f"median {statistics.median(times) * 1e3:.2f} ms, worst {max(times) * 1e3:.2f} ms "
        f"({MOVES} moves)"
    )


def main() -> None:
    print(f"{cpu_name()}; Python {platform.python_version()}; NumPy {np.__version__}")
    start = time.perf_counter()
    cal = calibrate(budget_s=10, gpu_enabled=False)
    print(
        f"calibrate(budget_s=10), CPU only: {cal.summary()} ({time.perf_counter() - start:.1f} s)"
    )
    start = time.perf_counter()
    tuner = Tuner(cal)
    print(f"building the tuner (fit, widgets, figure): {time.perf_counter() - start:.2f} s")
    report("this machine's calibration", tuner, "host")
    report("synthetic two-GPU table", Tuner(two_gpu_table()), "host")


if __name__ == "__main__":
    main()
