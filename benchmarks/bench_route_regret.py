"""Regret of routing policies against the per-point oracle, over a size sweep.

For add, sum and matmul, sizes 10 .. 10^8 elements (matmul: square matrices of that many
elements each), with the data starting on the host (NumPy) and on the device (CuPy), it
times every backend end to end through ``Router.run_on`` (moving data in and the result
back to where it started), checks each against NumPy first, and asks each policy what it
would pick: the seed table, the 5x rule and the end-to-end model (both with the cost
parameters ``measure_profile()`` measures on this machine before the sweep), and
always-NumPy. Slowdown = time of the pick / time of the fastest backend at that point.

Pure Python is timed while one call takes under PY_BUDGET_S; beyond that its time is
extrapolated linearly in work from the largest measured size, and marked so.

    python benchmarks/bench_route_regret.py [--out DIR] [--max-size 1e8]

Prints the summary table; writes regret_points.csv, regret_summary.md, profile.json.
Without a GPU it sweeps the host backends only.
"""

from __future__ import annotations

import argparse
import datetime
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench import gpu
from workbench.machine import machine_id
from workbench.route import Backend, MachineProfile, Router, measure_profile

OPS = ("add", "sum", "matmul")
PY_BUDGET_S = 1.0
TIME_BUDGET_S = 0.25  # per timing: repeats until this much time has passed (at least 3)
POLICIES = ("seed table", "5x rule", "end-to-end", "always NumPy")


def timed(fn: Callable[[], Any], sync: Callable[[], None]) -> float:
    """Median seconds of fn(); one warm-up unless a single call takes over 0.5 s."""
    sync()
    start = time.perf_counter()
    fn()
    sync()
    first = time.perf_counter() - start
    if first > 0.5:
        return first
    reps = max(3, min(50, int(TIME_BUDGET_S / max(first, 1e-7))))
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def operands(op: str, size: int, rng: np.random.Generator) -> tuple[tuple[Any, ...], float]:
    """float64 host operands of about `size` elements, and the work (elements or MACs)."""
    if op == "matmul":
        side = max(1, round(math.sqrt(size)))
        a = rng.standard_normal((side, side))
        return (a, rng.standard_normal((side, side))), float(side) ** 3
    if op == "add":
        return (rng.standard_normal(size), rng.standard_normal(size)), float(size)
    return (rng.standard_normal(size),), float(size)


def check(got: Any, ref: Any, cp: Any, context: str) -> None:
    """The backend's result equals NumPy's (relative to the result's scale)."""
    value = np.asarray(cp.asnumpy(got) if cp is not None and type(got) is cp.ndarray else got)
    scale = max(1.0, float(np.abs(ref).max()))
    if not np.allclose(value, ref, rtol=1e-9, atol=1e-9 * scale * max(1, value.size)):
        raise SystemExit(f"wrong result: {context}")


COLUMNS = ["op", "size", "start", "backend", "seconds", "timing", *POLICIES]


def sweep(sizes: list[int], profile: MachineProfile, cp: Any, out: Path) -> pd.DataFrame:
    """Time every point; on KeyboardInterrupt (timeout -s INT) keep the points done so far."""
    rows: list[tuple[Any, ...]] = []
    try:
        _sweep(sizes, profile, cp, rows, out)
    except KeyboardInterrupt:
        print("interrupted: summarising the points measured so far", flush=True)
    done = len(rows) - len(rows) % (3 if cp is not None else 2)
    return pd.DataFrame.from_records(rows[:done], columns=COLUMNS)


def _sweep(
    sizes: list[int], profile: MachineProfile, cp: Any, rows: list[tuple[Any, ...]], out: Path
) -> None:
    rng = np.random.default_rng(0)
    routers = {
        "seed table": Router(profile, policy="seed"),
        "5x rule": Router(profile, policy="5x"),
        "end-to-end": Router(profile),
    }
    runner = routers["end-to-end"]
    sync: Callable[[], None] = (lambda: gpu.synchronize(cp)) if cp is not None else (lambda: None)
    backends = [Backend.PYTHON, Backend.NUMPY] + ([Backend.CUPY] if cp is not None else [])
    starts = ["host"] + (["device"] if cp is not None else [])
    for op in OPS:
        if cp is not None:  # compile the kernels and create handles outside the timings
            warm, _ = operands(op, 64, rng)
            runner.run_on(Backend.CUPY, op, *[cp.asarray(a) for a in warm])
        python_last: dict[str, tuple[float, float]] = {}
        for size in sizes:
            host_args, work = operands(op, size, rng)
            ref = getattr(np, op)(*host_args)
            for start in starts:
                args = host_args if start == "host" else tuple(cp.asarray(a) for a in host_args)
                picks = {name: r.decide(op, *args).backend.value for name, r in routers.items()}
                picks["always NumPy"] = "numpy"
                for backend in backends:
                    kind = "measured"
                    last = python_last.get(start)
                    if (
                        backend is Backend.PYTHON
                        and last
                        and last[1] * work / last[0] > PY_BUDGET_S
                    ):
                        seconds, kind = last[1] * work / last[0], "extrapolated"
                    else:
                        check(
                            runner.run_on(backend, op, *args),
                            ref,
                            cp,
                            f"{op} {size} {start} {backend.value}",
                        )
                        seconds = timed(
                            lambda b=backend, o=op, g=args: runner.run_on(b, o, *g), sync
                        )
                        if backend is Backend.PYTHON:
                            python_last[start] = (work, seconds)
                    rows.append(
                        (
                            op,
                            size,
                            start,
                            backend.value,
                            seconds,
                            kind,
                            *[picks[p] for p in POLICIES],
                        )
                    )
                print(
                    f"{op:6s} {size:>11,d} {start:6s} "
                    + "  ".join(
                        f"{r[3]}={r[4]:.3g}s{'*' if r[5] == 'extrapolated' else ''}"
                        for r in rows[-len(backends) :]
                    ),
                    flush=True,
                )
            if cp is not None:
                gpu.free_cached_blocks(cp)
            pd.DataFrame.from_records(rows, columns=COLUMNS).to_csv(
                out / "regret_points.csv", index=False
            )


def summarize(points: pd.DataFrame) -> pd.DataFrame:
    """Per policy: total time over the oracle's, and geometric-mean slowdowns."""
    times = points.pivot_table(index=["op", "size", "start"], columns="backend", values="seconds")
    picks = points.drop_duplicates(["op", "size", "start"]).set_index(["op", "size", "start"])
    oracle = times.min(axis=1)
    rows = []
    for policy in POLICIES:
        chosen = pd.Series(
            [times.loc[key, picks.loc[key, policy]] for key in times.index], index=times.index
        )
        slow = chosen / oracle
        worst = slow.idxmax()
        row = {
            "policy": policy,
            "total_vs_oracle": chosen.sum() / oracle.sum(),
            "geomean_slowdown": float(np.exp(np.log(slow).mean())),
        }
        for start in sorted(set(points["start"])):
            part = slow[slow.index.get_level_values("start") == start]
            row[f"geomean_{start}_start"] = float(np.exp(np.log(part).mean()))
        row["worst"] = f"{slow.max():.3g}x ({worst[0]}, {worst[1]:.0e}, {worst[2]})"
        row["oracle_picks"] = f"{(slow <= 1.0 + 1e-12).mean():.0%}"
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default="reports/route", help="folder for the CSV, markdown and profile"
    )
    parser.add_argument("--max-size", type=float, default=1e8)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    status = gpu.probe()
    cp = gpu.cupy_or_none() if status.available else None
    machine = machine_id(status.devices if status.available else ())
    print(
        f"machine: {machine}\nPython {sys.version.split()[0]}, NumPy {np.__version__}"
        + (f", CuPy {cp.__version__}" if cp is not None else ", no GPU: host backends only")
    )
    began = time.perf_counter()
    profile = measure_profile("sweep-machine")
    profile.save(out / "profile.json")
    print(f"measure_profile: {time.perf_counter() - began:.1f} s")
    sizes = [10**k for k in range(1, 9) if 10**k <= args.max_size]
    points = sweep(sizes, profile, cp, out)
    points.to_csv(out / "regret_points.csv", index=False)
    summary = summarize(points)
    date = datetime.date.today().isoformat()
    table = (
        summary.to_markdown(index=False, floatfmt=".3g")
        if _has_tabulate()
        else summary.to_string(index=False)
    )
    expected = len(OPS) * len(sizes) * (2 if cp is not None else 1) * (3 if cp is not None else 2)
    partial = (
        "" if len(points) == expected else f"INCOMPLETE: {len(points)} of {expected} timings. "
    )
    text = (
        f"{partial}Machine: {machine}; {date}. Sizes {sizes[0]:.0e}..{sizes[-1]:.0e} elements, ops {', '.join(OPS)}, "
        f"float64, data starting on {' and '.join(sorted(set(points['start'])))}. "
        f"Pure Python extrapolated at {int((points['timing'] == 'extrapolated').sum())} point(s).\n\n{table}\n"
    )
    (out / "regret_summary.md").write_text(text)
    print(f"\nsweep: {time.perf_counter() - began:.0f} s\n{text}")
    return 0


def _has_tabulate() -> bool:
    import importlib.util

    return importlib.util.find_spec("tabulate") is not None


if __name__ == "__main__":
    raise SystemExit(main())
