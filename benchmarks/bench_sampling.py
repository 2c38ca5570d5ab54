"""Sampling modes against cProfile mode on the embedded ARC demo (call-heavy).

Issue [profiling-depth] targets: sample mode's profiled/plain time at most 1.3, and its
category shares within a few percentage points of cProfile's once cProfile's
instrumentation bias is taken out. Two samplers are measured:

* the stack sampler (`workbench.profiling.stack_sampler`): a thread reads the running stack; no C
  frames, so C time is the calling Python function's. It is compared with cProfile
  statistics that are bias-corrected, then folded (`fold_native`: each C function's
  self time moved to its Python callers), so both sides have no native category;
* pyinstrument (`workbench.profiling.sampling`): a C hook on every call; it sees C functions, so
  it is compared with the bias-corrected cProfile shares, native category kept.

Bias correction: cProfile charges its own per-call cost to the functions it times, so
call-heavy functions look bigger. Three corrections are printed (`workbench.profiling.debias`):

* callee-only: each function's tottime loses ncalls x `measure_call_cost()` (the
  issue's "ncalls x measured per-call cost");
* split: `measure_call_split()` finds that most of the cost lands on the *caller*;
  each function loses its calls x the callee part and its calls made x the caller part;
* split, fitted: the split scaled so that the run's calls account for what cProfile
  really added to this run (cProfile wall time less the plain median): on a real
  workload a call costs cProfile about twice what it costs on the empty calls measured.

Plain, cProfile and both sampled runs are interleaved (their order rotates each repeat)
and medians are printed. Prints its figures; asserts nothing.

    python benchmarks/bench_sampling.py [--tasks N] [--repeats R] [--interval S]
                                        [--switch-interval S]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pyinstrument

from workbench.demo import run_demo
from workbench.profiling.breakdown import classify_all
from workbench.profiling.capture import (
    FuncKey,
    FuncStats,
    measure_call_cost,
    run_plain,
    run_profiled,
)
from workbench.profiling.categories import Ruleset
from workbench.profiling.config import build_ruleset
from workbench.profiling.debias import CallCost, fold_native, measure_call_split, remove_call_cost
from workbench.profiling.sampling import run_sampled
from workbench.profiling.stack_sampler import run_stack_sampled

RULES = Path(__file__).resolve().parent.parent / "data" / "demo_categories.toml"


def shares(stats: Mapping[FuncKey, FuncStats], ruleset: Ruleset) -> dict[str, float]:
    """Percent of self time per category."""
    category_of, _functions = classify_all(stats, ruleset)
    held: dict[str, float] = {}
    for key, (_pc, _nc, tottime, _ct, _callers) in stats.items():
        held[category_of[key]] = held.get(category_of[key], 0.0) + tottime
    total = sum(held.values())
    return {c: 100.0 * s / total if total > 0 else 0.0 for c, s in held.items()}


def median_shares(runs: list[dict[str, float]]) -> dict[str, float]:
    names = sorted({c for run in runs for c in run})
    return {c: statistics.median(run.get(c, 0.0) for run in runs) for c in names}


def print_table(
    title: str, columns: list[tuple[str, dict[str, float]]], sampled: str
) -> dict[str, float]:
    """Print the shares side by side and the sampler's difference to each other column;
    returns the largest absolute difference per column."""
    print()
    print(title)
    table = dict(columns)
    mine = table[sampled]
    others = [name for name, _ in columns if name != sampled]
    names = sorted(
        {c for _, col in columns for c in col},
        key=lambda c: -max(col.get(c, 0.0) for _, col in columns),
    )
    header = f"{'category':<14}" + "".join(f"{name:>16}" for name, _ in columns)
    header += "".join(f"{'d ' + name:>18}" for name in others)
    print(header)
    for cat in names:
        values = [col.get(cat, 0.0) for _, col in columns]
        if max(values) < 0.05:
            continue
        row = f"{cat:<14}" + "".join(f"{v:>15.1f}%" for v in values)
        row += "".join(f"{mine.get(cat, 0.0) - table[o].get(cat, 0.0):>+18.1f}" for o in others)
        print(row)
    return {o: max(abs(mine.get(c, 0.0) - table[o].get(c, 0.0)) for c in names) for o in others}


def corrections(
    stats: Mapping[FuncKey, FuncStats], per_call: float, split: CallCost, added_s: float
) -> dict[str, dict[FuncKey, FuncStats]]:
    """The run's statistics as measured and under the three bias corrections."""
    return {
        "as measured": dict(stats),
        "callee-only": remove_call_cost(stats, CallCost.callee_only(per_call)),
        "split": remove_call_cost(stats, split),
        "split, fitted": remove_call_cost(stats, split.scaled_to(stats, added_s)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.001)
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="sys.setswitchinterval for the stack sampler's runs (default: run_stack_sampled's)",
    )
    args = parser.parse_args()

    ruleset = build_ruleset(rules_file=RULES)
    steps: list[Callable[[], object]] = [lambda: run_demo(n_tasks=args.tasks)]
    run_plain(steps)  # warm imports and caches
    per_call = measure_call_cost()
    split = measure_call_split()

    times: dict[str, list[float]] = {"plain": [], "cprofile": [], "pyinstrument": [], "stack": []}
    samples: dict[str, list[int]] = {"pyinstrument": [], "stack": []}
    traced: list[dict[FuncKey, FuncStats]] = []
    sampled: dict[str, list[dict[str, float]]] = {"pyinstrument": [], "stack": []}

    def do_plain() -> None:
        times["plain"].append(run_plain(steps))

    def do_cprofile() -> None:
        raw, error = run_profiled(steps)
        if error is not None:
            raise error
        times["cprofile"].append(raw.wall_s)
        traced.append(raw.stats)

    def do_pyinstrument() -> None:
        profile, error = run_sampled(steps, interval=args.interval)
        if error is not None:
            raise error
        times["pyinstrument"].append(profile.wall_s)
        samples["pyinstrument"].append(profile.samples)
        sampled["pyinstrument"].append(shares(profile.stats, ruleset))

    def do_stack() -> None:
        profile, error = run_stack_sampled(
            steps, interval=args.interval, switch_interval=args.switch_interval
        )
        if error is not None:
            raise error
        times["stack"].append(profile.wall_s)
        samples["stack"].append(profile.samples)
        sampled["stack"].append(shares(profile.stats, ruleset))

    order = [do_plain, do_cprofile, do_pyinstrument, do_stack]
    for repeat in range(args.repeats):
        shift = repeat % len(order)
        for run in order[shift:] + order[:shift]:
            run()

    base = statistics.median(times["plain"])
    switch = "default" if args.switch_interval is None else f"{args.switch_interval * 1e3:g} ms"
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"pyinstrument {pyinstrument.__version__}; sampling interval {args.interval * 1e3:g} ms")
    print(f"stack sampler switch interval: {switch} (interpreter's: {sys.getswitchinterval()} s)")
    print(f"demo: run_demo(n_tasks={args.tasks}), medians of {args.repeats} interleaved repeats")
    print(f"plain run: {base:.3f} s (min {min(times['plain']):.3f}, max {max(times['plain']):.3f})")
    for name, label in [
        ("cprofile", "cProfile"),
        ("pyinstrument", "pyinstrument"),
        ("stack", "stack sampler"),
    ]:
        median = statistics.median(times[name])
        line = f"{label + ':':<15}{median:.3f} s, profiled/plain {median / base:.2f}"
        if name in samples:
            count = statistics.median(samples[name])
            line += f" (target <= 1.3); {count:.0f} samples, {1e3 * median / count:.2f} ms apart"
        print(line)
    print(
        f"cProfile's cost per call: {per_call * 1e9:.0f} ns (measure_call_cost); split "
        f"(measure_call_split): Python calls {split.callee_s * 1e9:.0f} ns to the callee + "
        f"{split.caller_s * 1e9:.0f} ns to the caller, C calls {split.native_callee_s * 1e9:.0f}"
        f" + {split.native_caller_s * 1e9:.0f} ns"
    )
    fitted = [
        split.scaled_to(stats, wall - base).callee_s + split.scaled_to(stats, wall - base).caller_s
        for stats, wall in zip(traced, times["cprofile"], strict=True)
    ]
    print(
        f"on the demo cProfile added {statistics.median(times['cprofile']) - base:.3f} s over "
        f"{statistics.median(sum(v[1] for v in s.values()) for s in traced):,.0f} calls: the "
        f"fitted split costs {statistics.median(fitted) * 1e9:.0f} ns per Python call"
    )

    fixed = [
        corrections(stats, per_call, split, wall - base)
        for stats, wall in zip(traced, times["cprofile"], strict=True)
    ]
    names = list(fixed[0])
    for label, stats in [(n, [run[n] for run in fixed]) for n in names]:
        total = statistics.median(sum(v[2] for v in s.values()) for s in stats)
        print(f"  cProfile self time {label}: {total:.3f} s (plain run {base:.3f} s)")
    folded = {
        n: median_shares([shares(fold_native(run[n]), ruleset) for run in fixed]) for n in names
    }
    kept = {n: median_shares([shares(run[n], ruleset) for run in fixed]) for n in names}
    stack, pyinst = median_shares(sampled["stack"]), median_shares(sampled["pyinstrument"])
    gaps = print_table(
        "Stack sampler vs cProfile with C time folded into Python callers (no native category)",
        [*folded.items(), ("stack sampler", stack)],
        "stack sampler",
    )
    print(
        "largest difference, stack sampler vs cProfile folded: "
        + ", ".join(f"{gaps[n]:.1f} points {n}" for n in names)
    )
    gaps = print_table(
        "pyinstrument vs cProfile (native category kept)",
        [*kept.items(), ("pyinstrument", pyinst)],
        "pyinstrument",
    )
    print(
        "largest difference, pyinstrument vs cProfile: "
        + ", ".join(f"{gaps[n]:.1f} points {n}" for n in names)
    )


if __name__ == "__main__":
    main()
