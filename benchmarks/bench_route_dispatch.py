"""What routing costs: a decision, and dispatch on top of the chosen backend's own time.

Targets (issue [router]): a routing decision at most 1 us on CPython 3.11; dispatch
(``Router.run`` minus the chosen backend's own call, ``Router.kernel``) at most 2 us. Prints its
figures; asserts nothing. Each figure is the median over REPEATS rounds of NUMBER calls,
the rounds of the compared callables interleaved so machine noise hits both alike.

    python benchmarks/bench_route_dispatch.py
"""

from __future__ import annotations

import platform
import statistics
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

from workbench.machine import cpu_name
from workbench.route import Backend, BackendSelector, Complexity, Router

NUMBER = 20_000
REPEATS = 15


def per_call(fns: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Median seconds per call of each callable, rounds interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(REPEATS):
        for name, fn in fns.items():
            samples[name].append(timeit.timeit(fn, number=NUMBER) / NUMBER)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    print(f"{cpu_name()}; Python {platform.python_version()}; NumPy {np.__version__}")
    empty = per_call({"empty": lambda: None})["empty"]
    print(
        f"(a bare lambda call costs {empty * 1e9:.0f} ns; subtracted from the decision figures)\n"
    )

    selector = BackendSelector(gpu=False)
    router = Router(gpu=False)
    a, m = np.ones(10), np.ones((4, 4))

    def uncached() -> object:
        router._plans.clear()  # forget every decision: the cost model runs again
        return router.decide("add", a, a)

    decisions = per_call(
        {
            "select_with_moe(Complexity.HIGH, n)": lambda: selector.select_with_moe(
                Complexity.HIGH, 5000
            ),
            "select_with_moe('Medium', n)": lambda: selector.select_with_moe("Medium", 5000),
            "Router.decide('add', a, b), cached": lambda: router.decide("add", a, a),
            "Router.decide('add', a, b), first of its kind": uncached,
        }
    )
    print("routing decision (target <= 1 us):")
    for name, seconds in decisions.items():
        print(f"  {name:52s} {(seconds - empty) * 1e6:7.3f} us")
    print("  (cached: the same op, shapes, dtypes and residency were decided before; a loop pays")
    print("   the first-of-its-kind cost once, then the cached cost per call)")

    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    table = Router(policy="seed", gpu=False)  # the seed table runs 5 elements in pure Python
    # the backend's own call: what the router runs once it has decided (Router.kernel)
    cases = {
        "add, 10 float64 (NumPy)": (
            lambda: router.run("add", a, a),
            router.kernel("numpy", "add", a, a),
            lambda: a + a,
        ),
        "sum, 10 float64 (NumPy)": (
            lambda: router.run("sum", a),
            router.kernel("numpy", "sum", a),
            lambda: a.sum(),
        ),
        "matmul, 4x4 float64 (NumPy)": (
            lambda: router.run("matmul", m, m),
            router.kernel("numpy", "matmul", m, m),
            lambda: m @ m,
        ),
        "add, lists of 5 floats (pure Python)": (
            lambda: table.run("add", x, x),
            table.kernel("python", "add", x, x),
            lambda: [p + q for p, q in zip(x, x, strict=True)],
        ),
    }
    if table.decide("add", x, x).backend is not Backend.PYTHON:
        raise SystemExit("expected the seed table to pick pure Python for 5 elements")
    print("\ndispatch on top of the backend (target <= 2 us):")
    for name, (routed, backend, raw) in cases.items():
        t = per_call({"routed": routed, "backend": backend, "raw": raw})
        chosen = "pure Python" if "Python" in name else "NumPy"
        print(
            f"  {name:38s} Router.run {t['routed'] * 1e6:6.2f} us, {chosen} backend "
            f"{t['backend'] * 1e6:6.2f} us, plain library call {t['raw'] * 1e6:6.2f} us: "
            f"dispatch {(t['routed'] - t['backend']) * 1e6:5.2f} us over the backend, "
            f"{(t['routed'] - t['raw']) * 1e6:5.2f} us over the plain call"
        )
    e2e = router.decide("add", x, x).backend.label
    print(f"\n(for the 5-float lists, the end-to-end policy with the shipped profile picks {e2e})")


if __name__ == "__main__":
    main()
