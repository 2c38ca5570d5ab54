"""measure_profile(): a quick measurement of this machine's cost parameters (about 1-3 s).

For each backend and kernel kind it times one representative op at a small and a large
size through the router's own kernels (so per-call overhead includes the router's
conversions), and fits seconds = call + per_unit x work through the two points. It also
times list<->array conversions and, with a GPU, host<->device copies. The thresholds, the
5x factor and the matrix cutoff stay the seeds' (calibration fits those from sweeps).
"""

from __future__ import annotations

import datetime
import statistics
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from workbench import gpu
from workbench.machine import machine_id
from workbench.route import shapes as sh
from workbench.route.backends import PythonBackend, flatten_list, run_cupy
from workbench.route.kinds import Backend, Location
from workbench.route.machine_profile import (
    SEED_PROVENANCE,
    Conversion,
    KernelCost,
    MachineProfile,
    Transfer,
)
from workbench.route.ops import OpRegistry, OpSpec

# kind -> (op, args maker) ; sizes are in the kind's unit (elements, or side for matrices)
_REPRESENTATIVE = {
    "elementwise": "add",
    "math": "exp",
    "reduce": "sum",
    "matmul": "matmul",
    "convolve": "convolve",
    "einsum": "einsum",
    "view": "transpose",
}
# (small, large) operand sizes per backend: elements of the largest operand.
_SIZES = {
    Backend.PYTHON: {
        "default": (16, 20_000),
        "matmul": (4, 1_600),
        "einsum": (4, 400),
        "convolve": (16, 2_000),
    },
    Backend.NUMPY: {
        "default": (16, 1_000_000),
        "matmul": (16, 262_144),
        "einsum": (16, 16_384),
        "convolve": (16, 100_000),
    },
    Backend.CUPY: {
        "default": (16, 10_000_000),
        "matmul": (16, 4_194_304),
        "einsum": (16, 1_048_576),
        "convolve": (16, 1_000_000),
    },
}


def median_time(
    fn: Callable[[], Any],
    sync: Callable[[], None] | None = None,
    min_total_s: float = 0.02,
    max_reps: int = 200,
) -> float:
    """Median seconds of `fn()` after one warm-up, repeated until `min_total_s` has passed
    (at least 3 times); `sync` is called before each clock read (GPU work)."""
    fn()
    if sync:
        sync()
    times: list[float] = []
    total = 0.0
    while len(times) < 3 or (total < min_total_s and len(times) < max_reps):
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        total += elapsed
    return statistics.median(times)


def example_args(
    spec: OpSpec, size: int, rng: np.random.Generator, xp: ModuleType = np
) -> tuple[list[Any], sh.Params]:
    """float64 operands of op `spec` on about `size` elements (shapes.synthetic)."""
    shapes, params = sh.synthetic(spec.name, spec.kind, spec.arity, size)
    arrays = [xp.asarray(rng.standard_normal(shape)) for shape in shapes]
    return arrays, params


def _fit(small: tuple[float, float], large: tuple[float, float]) -> KernelCost:
    (u0, t0), (u1, t1) = small, large
    per_unit = max(0.0, (t1 - t0) / (u1 - u0)) if u1 > u0 else 0.0
    return KernelCost(call_s=max(0.0, t0 - per_unit * u0), per_unit_s=per_unit)


def _time_kernel(
    backend: Backend,
    spec: OpSpec,
    arrays: list[Any],
    params: sh.Params,
    cp: ModuleType | None,
    router: Any,
) -> float:
    """Median seconds of one call through `backend`'s kernel, data where it lives natively
    (the router's own kernels, as Router.kernel gives them: idiomatic pure Python on
    lists, NumPy as a user writes it)."""
    args = ([params["subscripts"]] if "subscripts" in params else []) + list(arrays)
    rest = {k: v for k, v in params.items() if k != "subscripts"}
    if backend is Backend.PYTHON:
        lists = [a.tolist() for a in arrays]
        py_args = ([params["subscripts"]] if "subscripts" in params else []) + lists
        return median_time(router.kernel("python", spec.name, *py_args, **rest))
    if backend is Backend.NUMPY:
        return median_time(router.kernel("numpy", spec.name, *args, **rest))
    assert cp is not None
    device = [cp.asarray(a) for a in arrays]
    return median_time(
        lambda: run_cupy(spec, device, params, Location.DEVICE, Location.DEVICE, cp),
        lambda: gpu.synchronize(cp),
    )


def _kernel_costs(
    backend: Backend, registry: OpRegistry, cp: ModuleType | None, rng: np.random.Generator
) -> dict[str, KernelCost]:
    from workbench.route.router import Router

    router = Router("seed", gpu=False)  # its own kernels are what is timed
    costs = {}
    for kind, op in _REPRESENTATIVE.items():
        spec = registry.get(op)
        sizes = _SIZES[backend].get(kind, _SIZES[backend]["default"])
        points = []
        for size in sizes:
            arrays, params = example_args(spec, size, rng)
            assert spec.analyze is not None
            work = spec.analyze([a.shape for a in arrays], params, spec.name).work
            points.append((float(work), _time_kernel(backend, spec, arrays, params, cp, router)))
        costs[kind] = _fit(points[0], points[1])
    return costs


def _conversion(rng: np.random.Generator) -> Conversion:
    n, small = 100_000, 16
    array = rng.standard_normal(n)
    values = array.tolist()
    few = values[:small]
    nested = rng.standard_normal((316, 316)).tolist()
    tolist_s = median_time(array.tolist) / n
    fromlist_s = median_time(lambda: np.asarray(values)) / n
    # The pure-Python path with array operands (dtype probe, cast back) against lists.
    python, spec = PythonBackend(), OpRegistry.builtin().get("add")
    host = np.asarray(few)
    with_arrays = median_time(
        lambda: python.run(spec, [host, host], {}, Location.HOST, Location.HOST, None)
    )
    with_lists = median_time(
        lambda: python.run(spec, [few, few], {}, Location.PYTHON, Location.PYTHON, None)
    )
    return Conversion(
        tolist_s=tolist_s,
        fromlist_s=fromlist_s,
        flatten_s=median_time(lambda: flatten_list(nested)) / (316 * 316),
        fromlist_call_s=max(0.0, median_time(lambda: np.asarray(few)) - small * fromlist_s),
        array_call_s=max(0.0, with_arrays - with_lists - 3 * small * tolist_s),
    )


def _transfer(cp: ModuleType, rng: np.random.Generator) -> Transfer:
    small = rng.standard_normal(1)
    large = rng.standard_normal(8_000_000)  # 64 MB, pageable host memory as users have it
    sync = lambda: gpu.synchronize(cp)  # noqa: E731
    h2d_small = median_time(lambda: cp.asarray(small), sync)
    h2d_large = median_time(lambda: cp.asarray(large), sync)
    on_device_small, on_device_large = cp.asarray(small), cp.asarray(large)
    d2h_small = median_time(lambda: cp.asnumpy(on_device_small), sync)
    d2h_large = median_time(lambda: cp.asnumpy(on_device_large), sync)
    latency = (h2d_small + d2h_small) / 2
    return Transfer(
        h2d_bytes_per_s=large.nbytes / max(h2d_large - h2d_small, 1e-9),
        d2h_bytes_per_s=large.nbytes / max(d2h_large - d2h_small, 1e-9),
        latency_s=latency,
    )


def measure_profile(
    name: str = "measured", *, gpu_on: bool | None = None, seed: int = 0
) -> MachineProfile:
    """Measure this machine's cost parameters (about 1-3 s) into a MachineProfile.

    `gpu_on`: None measures the GPU when one is usable, False skips it. The thresholds,
    5x factor and matrix cutoff are the seeds' (labelled so); save with ``.save(path)``.
    """
    rng = np.random.default_rng(seed)
    registry = OpRegistry.builtin()
    status = gpu.probe() if gpu_on is not False else gpu.GpuStatus(False, "skipped")
    cp = gpu.cupy_or_none() if status.available else None
    kernels = {
        Backend.PYTHON.value: _kernel_costs(Backend.PYTHON, registry, None, rng),
        Backend.NUMPY.value: _kernel_costs(Backend.NUMPY, registry, None, rng),
    }
    transfer = None
    if cp is not None:
        kernels[Backend.CUPY.value] = _kernel_costs(Backend.CUPY, registry, cp, rng)
        transfer = _transfer(cp, rng)
    groups = ["python", "numpy", "conversion"] + (["cupy", "transfer"] if cp is not None else [])
    provenance = dict(SEED_PROVENANCE)
    provenance.update({group: "measured (workbench.route.measure_profile)" for group in groups})
    return MachineProfile(
        name=name,
        kernels=kernels,
        conversion=_conversion(rng),
        transfer=transfer,
        machine=machine_id(status.devices if status.available else ()),
        date=datetime.date.today().isoformat(),
        provenance=provenance,
    )
