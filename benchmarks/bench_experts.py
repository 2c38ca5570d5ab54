"""Gated functions (workbench.experts): what the gate costs per call, and what learning costs.

1. Gate overhead per cached call: a gated call whose bucket has chosen, against calling
   the chosen expert directly (target: at most 1 us). Medians of interleaved rounds.
2. Exploration: 200 calls across 8 size buckets in random order (25 each), a fresh gate,
   against always calling the expert that is fastest at each size (picked by hand, from
   timings taken apart), back to back, who goes first alternating, in process CPU time
   (the machine is shared). Target: at most 10% over. Repeated with several orders.
3. With a GPU, the same for an array-generic function with NumPy and CuPy experts.

Prints each figure beside its target; asserts nothing.

    python benchmarks/bench_experts.py [--orders 5]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import workbench
from workbench import gpu
from workbench.machine import cpu_name

SIZES = (3, 10, 30, 100, 1_000, 10_000, 100_000, 1_000_000)  # 8 buckets
PROFILE = Path(tempfile.mkdtemp()) / "bench-profile.json"


def make_add() -> Any:
    """add(a, b) on lists of floats: a comprehension, and NumPy with conversions."""

    @workbench.experts(size=lambda a, b: len(a), profile=PROFILE, autosave=False)
    def add(a: list[float], b: list[float]) -> list[float]:
        return [x + y for x, y in zip(a, b, strict=True)]

    @add.expert("numpy")
    def _(a: list[float], b: list[float]) -> list[float]:
        return (np.array(a) + np.array(b)).tolist()

    return add


def make_norms() -> Any:
    """Row norms of a float64 array: pure Python over tolist(), NumPy, and (xp) CuPy."""

    @workbench.experts(profile=PROFILE, autosave=False)
    def norms(x: np.ndarray) -> np.ndarray:
        return np.array([sum(v * v for v in row) ** 0.5 for row in x.tolist()])

    @norms.expert("numpy")
    def _(x: np.ndarray) -> np.ndarray:
        return np.sqrt((x * x).sum(axis=1))

    return norms


def per_call(fns: dict[str, Callable[[], Any]], number: int, repeats: int = 15) -> dict[str, float]:
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            samples[name].append(timeit.timeit(fn, number=number) / number)
    return {k: statistics.median(v) for k, v in samples.items()}


def overhead() -> None:
    print("1. gate overhead per cached call (target <= 1 us over the chosen expert):")
    add = make_add()
    for n, label in ((5, "lists of 5 floats"), (2_000, "lists of 2,000 floats")):
        a = [float(i) for i in range(n)]
        for _ in range(12):
            add(a, a)
        chosen = add.explain(a, a).chosen
        direct = add.experts[chosen]
        t = per_call(
            {"gated": lambda a=a: add(a, a), "direct": lambda a=a, d=direct: d(a, a)},
            number=2_000 if n > 100 else 50_000,
        )
        print(
            f"   add, {label:22s} chosen {chosen:6s}: gated {t['gated'] * 1e6:8.3f} us, direct "
            f"{t['direct'] * 1e6:8.3f} us -> overhead {(t['gated'] - t['direct']) * 1e6:6.3f} us"
        )
    norms = make_norms()
    x = np.random.default_rng(0).standard_normal((50, 4))
    for _ in range(12):
        norms(x)
    chosen = norms.explain(x).chosen
    direct = norms.experts[chosen]
    t = per_call({"gated": lambda: norms(x), "direct": lambda: direct(x)}, number=20_000)
    print(
        f"   norms, 50x4 float64 array  chosen {chosen:6s}: gated {t['gated'] * 1e6:8.3f} us, direct "
        f"{t['direct'] * 1e6:8.3f} us -> overhead {(t['gated'] - t['direct']) * 1e6:6.3f} us"
    )


def best_by_hand(
    experts: dict[str, Callable[..., Any]], inputs: dict[int, tuple[Any, ...]]
) -> dict[int, Callable[..., Any]]:
    """Per size, the expert that is fastest there, picked from timings taken apart."""
    best = {}
    for n, args in inputs.items():
        number = max(1, int(2e-3 / max(1e-7, _once(experts, args))))
        t = per_call(
            {name: (lambda f=fn, a=args: f(*a)) for name, fn in experts.items()}, number, repeats=5
        )
        best[n] = experts[min(t, key=lambda k: t[k])]
    return best


def _once(experts: dict[str, Callable[..., Any]], args: tuple[Any, ...]) -> float:
    start = time.perf_counter()
    for fn in experts.values():
        fn(*args)
    return (time.perf_counter() - start) / len(experts)


def exploration(
    make: Callable[[], Any], inputs: dict[int, tuple[Any, ...]], orders: int, label: str
) -> None:
    """Each order: a fresh gate's 200 calls, then the same 200 calls on the expert picked
    by hand for each size, back to back (the machine is shared: pairs, then the median)."""
    gate = make()
    for args in inputs.values():  # every expert's first call (imports, caches) done once
        for fn in gate.experts.values():
            fn(*args)
    picked = best_by_hand(gate.experts, inputs)
    ratios = []
    for seed in range(orders):
        order = [n for n in SIZES for _ in range(25)]
        random.Random(seed).shuffle(order)
        gate = make()
        times = {}
        runs = [("routed", gate), ("by hand", None)]
        for name, g in runs if seed % 2 == 0 else runs[::-1]:  # who goes first alternates
            start = time.process_time()  # CPU time: the shared machine's other jobs stay out
            for n in order:
                if g is not None:
                    g(*inputs[n])
                else:
                    picked[n](*inputs[n])
            times[name] = time.process_time() - start
        ratios.append(times["routed"] / times["by hand"])
    print(
        f"   {label}: fresh gate / best expert by hand, 200 calls: median "
        f"{statistics.median(ratios):.3f}, worst {max(ratios):.3f} of {orders} orders (target <= 1.10)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=15)
    parser.add_argument(
        "--gpu-orders", type=int, default=5, help="orders for the GPU part (each is dear)"
    )
    args = parser.parse_args()
    print(f"{cpu_name()}; Python {platform.python_version()}; NumPy {np.__version__}\n")
    overhead()
    print("\n2. exploration: 200 calls across 8 buckets, random order, a fresh gate each time:")
    lists = {n: ([float(i) for i in range(n)], [0.5] * n) for n in SIZES}
    exploration(make_add, lists, args.orders, "add on lists, python | numpy   ")
    rng = np.random.default_rng(1)
    arrays = {n: (rng.standard_normal((max(1, n // 4), 4)),) for n in SIZES}
    exploration(make_norms, arrays, args.orders, "row norms, python | numpy       ")
    status = gpu.probe()
    if not status.available:
        print(f"\n3. GPU: not measured ({status.reason})")
        return
    print(f"\n3. GPU ({', '.join(status.devices)}): the same with CuPy experts")

    def make_scale() -> Any:
        @workbench.experts(xp=("numpy", "cupy"), profile=PROFILE, autosave=False)
        def scale(xp: Any, x: Any) -> Any:
            return (x - x.mean(axis=0)) / x.std(axis=0)

        return scale

    # n * 10 elements (30 to 10^7: 80 MB at the top); at n * 100 one order took minutes
    big = {n: (rng.standard_normal((max(2, n * 10 // 8), 8)),) for n in SIZES}
    exploration(make_scale, big, args.gpu_orders, "standard scale, numpy | cupy")


if __name__ == "__main__":
    main()
