"""Sampling mode (pyinstrument) against cProfile mode on the embedded ARC demo.

Issue [profiling-depth] targets: sample mode's profiled/plain time at most 1.3 (cProfile
mode's ratio printed beside it), and its category shares within a few percentage
points of cProfile's once cProfile's instrumentation bias is taken out.

Bias correction: cProfile charges its own per-call cost to the functions it times, so
call-heavy functions look bigger. Each function's tottime loses ncalls x the per-call
cost that `workbench.capture.measure_call_cost()` measures on this interpreter (floored
at 0), and the shares are renormalised.

Plain, cProfile and sampled runs are interleaved (their order rotates each repeat) and
medians are printed. Prints its figures; asserts nothing.

    python benchmarks/bench_sampling.py [--tasks N] [--repeats R] [--interval S]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pyinstrument

from workbench.breakdown import classify_all
from workbench.capture import FuncKey, FuncStats, measure_call_cost, run_plain, run_profiled
from workbench.categories import Ruleset
from workbench.config import build_ruleset
from workbench.demo import run_demo
from workbench.sampling import run_sampled

RULES = Path(__file__).resolve().parent.parent / "data" / "demo_categories.toml"


def shares(
    stats: Mapping[FuncKey, FuncStats], ruleset: Ruleset, per_call_s: float = 0.0
) -> dict[str, float]:
    """Percent of self time per category, each function's tottime less ncalls x per_call_s."""
    category_of, _functions = classify_all(stats, ruleset)
    held: dict[str, float] = {}
    for key, (_pc, ncalls, tottime, _ct, _callers) in stats.items():
        corrected = max(tottime - ncalls * per_call_s, 0.0)
        held[category_of[key]] = held.get(category_of[key], 0.0) + corrected
    total = sum(held.values())
    return {c: 100.0 * s / total if total > 0 else 0.0 for c, s in held.items()}


def median_shares(runs: list[dict[str, float]]) -> dict[str, float]:
    names = sorted({c for run in runs for c in run})
    return {c: statistics.median(run.get(c, 0.0) for run in runs) for c in names}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.001)
    args = parser.parse_args()

    ruleset = build_ruleset(rules_file=RULES, use_pyproject=False)
    steps: list[Callable[[], object]] = [lambda: run_demo(n_tasks=args.tasks)]
    run_plain(steps)  # warm imports and caches
    per_call = measure_call_cost()

    plain: list[float] = []
    cprof: list[float] = []
    sampled: list[float] = []
    sampled_total: list[float] = []
    raw_runs: list[dict[str, float]] = []
    fixed_runs: list[dict[str, float]] = []
    sample_runs: list[dict[str, float]] = []
    samples: list[int] = []

    def do_plain() -> None:
        plain.append(run_plain(steps))

    def do_cprofile() -> None:
        raw, error = run_profiled(steps)
        if error is not None:
            raise error
        cprof.append(raw.wall_s)
        raw_runs.append(shares(raw.stats, ruleset))
        fixed_runs.append(shares(raw.stats, ruleset, per_call))

    def do_sampled() -> None:
        start = time.perf_counter()
        profile, error = run_sampled(steps, interval=args.interval)
        sampled_total.append(time.perf_counter() - start)
        if error is not None:
            raise error
        sampled.append(profile.wall_s)
        samples.append(profile.samples)
        sample_runs.append(shares(profile.stats, ruleset))

    runs = [do_plain, do_cprofile, do_sampled]
    for repeat in range(args.repeats):
        for run in runs[repeat % 3 :] + runs[: repeat % 3]:
            run()

    base = statistics.median(plain)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"pyinstrument {pyinstrument.__version__}, interval {args.interval * 1e3:g} ms")
    print(f"demo: run_demo(n_tasks={args.tasks}), medians of {args.repeats} interleaved repeats")
    print(f"plain run: {base:.3f} s")
    print(
        f"cProfile mode: {statistics.median(cprof):.3f} s, profiled/plain {statistics.median(cprof) / base:.2f}"
    )
    print(
        f"sample mode:   {statistics.median(sampled):.3f} s, profiled/plain "
        f"{statistics.median(sampled) / base:.2f} (target <= 1.3); with conversion to "
        f"pstats form {statistics.median(sampled_total) / base:.2f}; "
        f"{statistics.median(samples):.0f} samples"
    )
    print(f"cProfile per-call cost (measure_call_cost): {per_call * 1e9:.0f} ns")

    raw, fixed, samp = (
        median_shares(raw_runs),
        median_shares(fixed_runs),
        median_shares(sample_runs),
    )
    names = sorted(set(raw) | set(samp), key=lambda c: -max(raw.get(c, 0.0), samp.get(c, 0.0)))
    print()
    print(
        f"{'category':<28}{'cProfile':>10}{'bias-fixed':>12}{'sampled':>10}{'d raw':>8}{'d fixed':>9}"
    )
    for name in names:
        r, f, s = raw.get(name, 0.0), fixed.get(name, 0.0), samp.get(name, 0.0)
        if max(r, f, s) < 0.05:
            continue
        print(f"{name:<28}{r:>9.1f}%{f:>11.1f}%{s:>9.1f}%{s - r:>+8.1f}{s - f:>+9.1f}")
    worst_raw = max(abs(samp.get(c, 0.0) - raw.get(c, 0.0)) for c in names)
    worst_fixed = max(abs(samp.get(c, 0.0) - fixed.get(c, 0.0)) for c in names)
    print(
        f"largest difference, sampled vs cProfile: {worst_raw:.1f} points raw, "
        f"{worst_fixed:.1f} points after the bias correction"
    )


if __name__ == "__main__":
    main()
