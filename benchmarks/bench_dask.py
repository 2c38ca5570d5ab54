"""What profiling a Dask cluster's workers costs and how much of their work it sees.

Starts a LocalCluster (2 worker processes, 1 thread each) unless --scheduler gives an
address, and maps the demo search (``run_demo(n_tasks=N, seed=s)``, one seed a task) over
it: plainly, then under ``workbench.profile``, interleaved. The reference is Dask's own
task stream (its "compute" start/stop times, taken by the workers without any profiler):
printed are the tasks' compute seconds plain and profiled (their ratio is the profiler's
cost on the workers) and the workers' profiled seconds against the compute seconds of
the same run (the part of the workers' work the profile sees, target ~1). The same task under cProfile in this process gives the
single-thread capture's cost beside it. Asserts nothing.

    python benchmarks/bench_dask.py [--tasks N] [--seeds S] [--rounds R] [--scheduler ADDR]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import statistics
import time
from typing import Any

import distributed

import workbench
from workbench.cli import demo_rules
from workbench.demo import run_demo


def one(seed: int, n_tasks: int) -> int:
    return run_demo(n_tasks, seed=seed, use_gpu=False).tasks_solved


def compute_s(stream: list[dict[str, Any]]) -> float:
    return sum(
        part["stop"] - part["start"]
        for task in stream
        for part in task.get("startstops", ())
        if part.get("action") == "compute"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=3, help="demo tasks per Dask task")
    parser.add_argument("--seeds", type=int, default=6, help="Dask tasks per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scheduler", default="", help="tcp://host:8786 (default: local)")
    args = parser.parse_args()
    cluster = None
    if args.scheduler:
        client = distributed.Client(args.scheduler)
    else:
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = distributed.Client(cluster)

    def cell() -> list[int]:
        seeds = list(range(args.seeds))
        return list(client.gather(client.map(one, seeds, n_tasks=args.tasks, pure=False)))

    try:
        cell()  # warm the workers' imports
        plain_c, prof_c, seen, walls = [], [], [], []
        shares: dict[str, float] = {}
        for _ in range(args.rounds):
            with distributed.get_task_stream(client) as stream:
                start = time.perf_counter()
                cell()
                walls.append(time.perf_counter() - start)
            plain_c.append(compute_s(stream.data))
            with distributed.get_task_stream(client) as stream:
                report = workbench.profile(cell, rules=demo_rules(), use_pyproject=False)
            prof_c.append(compute_s(stream.data))
            procs = report.processes
            seen.append(0.0 if procs is None else float(procs["profiled_s"].sum()))
            shares = dict(zip(report.categories["category"], report.categories["pct"], strict=True))
        local_plain, local_prof = [], []
        for _ in range(args.rounds):  # the single-thread capture's cost, in this process
            start = time.perf_counter()
            one(0, args.tasks)
            local_plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            cProfile.Profile().runcall(one, 0, args.tasks)
            local_prof.append(time.perf_counter() - start)
        lp, lq = statistics.median(local_plain), statistics.median(local_prof)
        p, q, s = (statistics.median(x) for x in (plain_c, prof_c, seen))
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, distributed {distributed.__version__}"
        )
        print(
            f"{args.seeds} Dask tasks of run_demo(n_tasks={args.tasks}) on "
            f"{len(client.scheduler_info()['workers'])} worker(s), {args.rounds} rounds, medians:"
        )
        print(f"  plain cell wall             {statistics.median(walls):.3f} s")
        print(f"  tasks' compute, plain       {p:.3f} s   (Dask's task stream)")
        print(f"  tasks' compute, profiled    {q:.3f} s   {q / p:.2f}x plain")
        print(f"  one task here, cProfile     {lq / lp:.2f}x plain (the single-thread capture)")
        print(f"  workers' profiled seconds   {s:.3f} s   {s / q:.2f} of that compute, target ~1")
        top = sorted(shares.items(), key=lambda kv: -kv[1])[:4]
        print(
            "  last round's categories (% of profiled time): "
            + ", ".join(f"{name} {pct:.1f}" for name, pct in top)
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
