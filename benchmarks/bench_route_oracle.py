"""The op router against an independent oracle: idiomatic code timed by a harness that
shares no code with the router's kernels (the code below, plus workbench.calibration.oracle,
which imports none of them).

A. Built-in op experts against hand-written idiomatic code for the same library, at
   every size: the router's pure-Python kernel (Router.kernel('python', ...)) against
   the comprehension / sum / max a user writes, its NumPy kernel against `a + b`,
   `a.sum()`, `a @ b`. Target: within 10% (ratio <= 1.10) at every size.
B. Routed time against the oracle: each call through workbench.namespace (xp.add(a, b))
   and through Router.run, with the profile this script calibrates first, over the
   fastest idiomatic version at that point (pure Python, NumPy with conversions, CuPy
   with plain copies). Targets: geometric mean <= 1.05, worst <= 1.5.

Ops: add, multiply, sum, mean, max, vdot, matmul (square); inputs as Python lists and as
NumPy arrays (and CuPy arrays with a GPU), float64, 10 to --max-size elements (1e6 by
default; 1e8 on a GPU machine), two sizes per decade. At each point every version's
first result is checked against NumPy's, then all are timed in interleaved rounds (7
rounds, each a batch of about 1 ms per version, the versions in another order each
round), so machine load and fresh-memory costs fall on all alike; each version's time
is its fastest round (--stat min, the default: on a loaded shared machine the load only
adds time) or the median round (--stat median). A
version whose single call takes over --cap seconds is not timed at larger sizes.
Prints every point and the summaries beside their targets; asserts nothing.

Each round runs the versions in another order (shuffled, seeded), and on a GPU each
timed batch follows one untimed call of the same version: so no version always follows a
slow pure-Python one (whose seconds of idle GPU lower its clocks for the next).

    python benchmarks/bench_route_oracle.py [--max-size 1e6] [--budget 20] [--cap 0.5]
    python benchmarks/bench_route_oracle.py --max-size 1e8 --budget 57   # on a GPU machine
    # parts of it, to fit one call of a lent machine (the summaries print at the end, or
    # when --deadline seconds have passed: the points not started are said):
    python benchmarks/bench_route_oracle.py --ops add,sum --where device --max-size 1e8 \
        --min-size 1e3 --budget 20 --deadline 500
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import workbench
from workbench import gpu
from workbench.calibration import calibrate, fit, log_sizes
from workbench.calibration import oracle as idioms
from workbench.machine import cpu_name
from workbench.route import Router

OPS = ("add", "multiply", "sum", "mean", "max", "vdot", "matmul")


def first(fn: Callable[[], Any], sync: Callable[[], None]) -> tuple[float, Any]:
    """Seconds of one call and its result (checked before anything is timed)."""
    start = time.perf_counter()
    result = fn()
    sync()
    return time.perf_counter() - start, result


def interleaved(
    fns: dict[str, Callable[[], Any]],
    sync: Callable[[], None],
    rounds: int = 7,
    warm: bool = False,
    seed: int = 0,
    stat: Callable[[list[float]], float] = statistics.median,
) -> dict[str, float]:
    """Median seconds per call of each function, timed in interleaved rounds (each round
    runs every function once, in a batch lasting about 1 ms), so the shared machine's
    load falls on all of them alike. Each round runs them in another order (shuffled
    with `seed`): no function always follows the same one (the first after the others
    have freed their results pays for fresh memory; one after a slow CPU-only function
    meets a GPU whose clocks have dropped). `warm`: one untimed call (and a sync) before
    each timed batch."""
    batches = {}
    for name, fn in fns.items():
        once, _ = first(fn, sync)
        batches[name] = max(1, int(1e-3 / max(once, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    shuffle = random.Random(seed).shuffle
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            fn = fns[name]
            n = batches[name]
            if warm:
                fn()
                sync()
            start = time.perf_counter()
            for _ in range(n):
                fn()
            sync()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: stat(v) for name, v in samples.items()}


def operands(op: str, n: int, where: str, cp: Any) -> tuple[Any, ...]:
    rng = np.random.default_rng(n)
    if op == "matmul":
        side = max(1, round(math.sqrt(n)))
        host: tuple[np.ndarray, ...] = (
            rng.random((side, side)) + 0.5,
            rng.random((side, side)) + 0.5,
        )
    elif op in ("add", "multiply", "vdot"):
        host = (rng.random(n) + 0.5, rng.random(n) + 0.5)
    else:
        host = (rng.random(n) + 0.5,)
    if where == "python":
        return tuple(a.tolist() for a in host)
    if where == "device":
        return tuple(cp.asarray(a) for a in host)
    return host


def close(got: Any, want: np.ndarray, cp: Any) -> bool:
    if cp is not None and gpu.is_device_type(type(got)):
        got = cp.asnumpy(got)
    return bool(np.allclose(np.asarray(got, dtype=float), want, rtol=1e-9))


def call(space: Any, op: str, args: tuple[Any, ...]) -> Callable[[], Any]:
    fn = getattr(space, op)
    return lambda: fn(*args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-size", type=float, default=1e6)
    parser.add_argument("--min-size", type=float, default=10)
    parser.add_argument(
        "--ops", default=",".join(OPS), help=f"comma-separated, of {', '.join(OPS)}"
    )
    parser.add_argument(
        "--where",
        default="python,host,device",
        help="comma-separated residencies: python (or lists), host, device (device needs a GPU)",
    )
    parser.add_argument(
        "--stat",
        choices=("min", "median"),
        default="min",
        help="of each version's rounds (min: the load of a shared machine only adds time)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=None,
        help="seconds: no new point starts after this; the summaries print for what ran",
    )
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of calibration first")
    parser.add_argument("--cap", type=float, default=0.5, help="seconds: slower versions stop")
    parser.add_argument(
        "--max-list-size", type=float, default=1e7, help="largest inputs made as Python lists"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    ops = tuple(o.strip() for o in args.ops.split(",") if o.strip())
    wanted = [{"lists": "python"}.get(w.strip(), w.strip()) for w in args.where.split(",")]
    unknown = [o for o in ops if o not in OPS] + [
        w for w in wanted if w not in ("python", "host", "device")
    ]
    if unknown or not ops or not wanted:
        raise SystemExit(f"unknown --ops or --where: {', '.join(unknown) or '(none given)'}")
    status = gpu.probe()
    cp = gpu.cupy_or_none() if status.available else None
    sync = (lambda: cp.cuda.Device().synchronize()) if cp is not None else (lambda: None)
    print(f"{cpu_name()}; GPU: {', '.join(status.devices) or status.reason}")
    print(
        f"Python {platform.python_version()}; NumPy {np.__version__}; CuPy {cp.__version__ if cp else '-'}"
    )
    sizes = [n for n in log_sizes(10, args.max_size) if n >= args.min_size]
    print(f"\ncalibrating {', '.join(ops)} first ({args.budget:g} s) for the routed rows...")
    cal = calibrate(list(ops), budget_s=args.budget, sizes=log_sizes(10, args.max_size))
    print(cal.summary())
    router = Router(fit(cal).profile(name="bench"))
    places = [w for w in ("python", "host", "device") if w in wanted]
    if "device" in places and cp is None:
        print(f"no device rows: {status.reason}")
        places.remove("device")
    skipped = 0
    expert_rows: list[tuple[str, str, str, int, float]] = []
    routed_rows: list[tuple[str, str, int, float, float, str]] = []
    slow: set[tuple[str, str, str]] = set()
    for op in ops:
        for where in places:
            for n in sizes:
                if where == "python" and n > args.max_list_size:
                    continue
                if args.deadline is not None and time.perf_counter() - started > args.deadline:
                    skipped += 1
                    continue
                a = operands(op, n, where, cp)
                host = operands(op, n, "host", None)
                want = np.asarray(getattr(np, op)(*host))
                lanes = idioms.calls(op, where, a, cp)
                fns: dict[str, Callable[[], Any]] = {}
                for lane, fn in lanes.items():
                    if (op, where, lane) in slow:
                        continue
                    once, got = first(fn, sync)
                    if not close(got, want, cp):
                        raise SystemExit(f"the idiomatic {lane} {op} on {where} is wrong at {n}")
                    if once > args.cap:
                        slow.add((op, where, lane))  # timed once here; not at larger sizes
                    fns[lane] = fn
                for backend, lane in (("python", "idiom-python"), ("numpy", "idiom-numpy")):
                    if lane in fns and where != "device":
                        kernel = router.kernel(backend, op, *a)
                        if not close(first(kernel, sync)[1], want, cp):
                            raise SystemExit(
                                f"the router's {backend} {op} on {where} is wrong at {n}"
                            )
                        fns[f"kernel-{backend}"] = kernel
                xp = workbench.namespace(*a, router=router)
                fns["xp"] = call(xp, op, a)
                fns["run"] = lambda op=op, a=a: router.run(op, *a)
                if not close(first(fns["xp"], sync)[1], want, cp):
                    raise SystemExit(f"xp.{op} on {where} is wrong at {n}")
                t = interleaved(
                    fns,
                    sync,
                    rounds=3 if max(first(f, sync)[0] for f in fns.values()) > 0.05 else 7,
                    warm=cp is not None,
                    seed=n,
                    stat=min if args.stat == "min" else statistics.median,
                )
                oracle = {lane: t[lane] for lane in lanes if lane in t}
                best_lane = min(oracle, key=lambda k: oracle[k])
                best = oracle[best_lane]
                for backend in ("python", "numpy"):  # A: kernels against the same library's idiom
                    if f"kernel-{backend}" in t:
                        expert_rows.append(
                            (op, where, backend, n, t[f"kernel-{backend}"] / t[f"idiom-{backend}"])
                        )
                t_ns, t_run = t["xp"], t["run"]
                chosen = router.decide(op, *a).backend.value
                routed_rows.append(
                    (op, where, n, t_ns / best, t_run / best, f"{chosen} vs {best_lane}")
                )
                print(
                    f"  {op:8s} {where:6s} {n:>11,}  oracle {best * 1e6:10.2f} us ({best_lane:12s})  "
                    f"xp {t_ns / best:6.3f}x  Router.run {t_run / best:6.3f}x  ({chosen})"
                )
    print(
        "\nA. built-in op experts / hand-written idiomatic code of the same library (target <= 1.10 at every size)"
    )
    for backend in ("python", "numpy"):
        for where in ("python", "host"):
            rows = [r for r in expert_rows if r[1] == where and r[2] == backend]
            if not rows:
                continue
            worst = max(rows, key=lambda r: r[4])
            over = [r for r in rows if r[4] > 1.10]
            print(
                f"  {backend:6s} on {where:6s}: geomean {geo([r[4] for r in rows]):.3f}, worst "
                f"{worst[4]:.3f} ({worst[0]} at {worst[3]:,}); {len(over)} of {len(rows)} points over 1.10"
            )
            for r in over:
                print(f"      over: {r[0]} at {r[3]:,}: {r[4]:.3f}")
    total_over = sum(1 for r in expert_rows if r[4] > 1.10)
    print(f"  all: {total_over} of {len(expert_rows)} points over 1.10")
    print("\nB. routed time / the independent oracle (targets: geomean <= 1.05, worst <= 1.5)")
    for where in places:
        for floor in (0, 1000):
            rows = [r for r in routed_rows if r[1] == where and r[2] >= floor]
            if not rows:
                continue
            for column, label in ((3, "workbench.namespace"), (4, "Router.run")):
                worst = max(rows, key=lambda r: r[column])
                print(
                    f"  {where:6s} {label:19s}{' >= 1,000' if floor else '          '}: geomean "
                    f"{geo([r[column] for r in rows]):.3f}, worst {worst[column]:.3f} "
                    f"({worst[0]} at {worst[2]:,}, {worst[5]})"
                )
    if routed_rows:
        for column, label in ((3, "workbench.namespace"), (4, "Router.run")):
            print(
                f"  all    {label:19s}          : geomean {geo([r[column] for r in routed_rows]):.3f}, "
                f"worst {max(r[column] for r in routed_rows):.3f}"
            )
    if skipped:
        print(f"\ncut by --deadline {args.deadline:g} s: {skipped} points not started")
    print(f"{time.perf_counter() - started:.0f} s in all")


def geo(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


if __name__ == "__main__":
    main()
