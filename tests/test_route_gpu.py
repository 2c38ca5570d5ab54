"""The router on a real GPU: CuPy results equal NumPy's, residency is kept, out of memory
falls back (host data) or says what to do (device data). Skipped without CuPy and a GPU;
runs on the device machine (see benchmarks/bench_route_regret.py for the sweep)."""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from route_cases import Case, assert_same, cases, numpy_reference

from workbench import gpu
from workbench.errors import RouteError
from workbench.route import Backend, Location, Router, measure_profile

STATUS = gpu.probe()
pytestmark = pytest.mark.skipif(
    not STATUS.available, reason=f"needs CuPy and a GPU: {STATUS.reason}"
)

GPU_DTYPES = ("float64", "float32", "int8", "int64", "uint8", "bool")
BY_OP: dict[str, list[Case]] = defaultdict(list)
for _case in cases(np.random.default_rng(7), GPU_DTYPES):
    BY_OP[_case[0]].append(_case)


def _cp() -> Any:
    cp = gpu.cupy_or_none()
    assert cp is not None
    return cp


@pytest.mark.parametrize("op", sorted(BY_OP))
def test_cupy_matches_numpy_from_host_and_from_device(op: str) -> None:
    cp = _cp()
    router = Router(gpu=True)
    problems = []
    for _, args, kwargs in BY_OP[op]:
        context = f"{op} {[getattr(a, 'dtype', a) for a in args]} {[getattr(a, 'shape', '') for a in args]} {kwargs}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                ref = numpy_reference(op, args, kwargs)
            except (TypeError, ValueError):
                continue
            device_args = tuple(
                cp.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args
            )
            try:
                from_host = router.run_on(Backend.CUPY, op, *args, **kwargs)
                from_device = router.run_on(Backend.CUPY, op, *device_args, **kwargs)
                assert_same(from_host, ref, context + " from host")
                assert type(from_device) is cp.ndarray, context
                on_host = cp.asnumpy(from_device)
                on_host = on_host.view(np.dtype(on_host.dtype.str))  # CuPy's int64 can be 'q'
                if on_host.ndim == 0 and not isinstance(ref, np.ndarray):
                    on_host = on_host[()]  # NumPy gave a scalar here (a reduction), not 0-d
                assert_same(on_host, ref, context + " from device")
            except Exception as exc:  # collect every mismatch of the op, then fail once
                problems.append(f"{context}: {type(exc).__name__}: {str(exc)[:200]}")
    assert not problems, "\n".join(problems)


def test_residency_decides_and_results_come_back_where_they_started() -> None:
    cp = _cp()
    profile = measure_profile("gpu-test")
    router = Router(profile)
    host = np.random.default_rng(0).standard_normal((2048, 2048))
    device = cp.asarray(host)
    on_device = router.run("matmul", device, device)
    assert type(on_device) is cp.ndarray
    assert router.decide("matmul", device, device).backend is Backend.CUPY
    small = np.ones(10)
    assert router.decide("add", small, small).backend is not Backend.CUPY
    assert type(router.run("add", small, small)) is np.ndarray
    explanation = router.explain("sum", cp.ones(10))
    assert explanation.workload is not None and explanation.workload.residency is Location.DEVICE
    assert "available" in explanation.gpu and explanation.sources["cupy"].startswith(
        "measured on this machine"
    )
    five = Router(profile, policy="5x").explain("add", cp.ones(10), cp.ones(10))
    assert five.pcie is not None and five.pcie[0] is Backend.GPU
    assert "already lives on the device" in five.pcie[1].reason
    counts = router.counts().set_index(["op", "backend"])
    assert counts.loc[("matmul", "cupy"), "executions"] == 1


def test_numpy_and_cupy_operands_mixed_in_one_call_are_refused() -> None:
    cp = _cp()
    with pytest.raises(RouteError, match="mixed in one call"):
        Router().run("add", np.ones(3), cp.ones(3))


def test_out_of_memory_on_device_data_says_what_to_do() -> None:
    """A real out-of-memory: the broadcast result needs 320 GB, more than the GPU has."""
    cp = _cp()
    column, row = cp.ones((200_000, 1)), cp.ones((1, 200_000))
    router = Router(measure_profile("oom-test"))
    assert router.decide("add", column, row).backend is Backend.CUPY
    with pytest.raises(RouteError, match="ran out of GPU memory"):
        router.run("add", column, row)
    assert router.counts().set_index(["op", "backend"]).loc[("add", "cupy"), "executions"] == 0


def test_out_of_memory_on_host_data_falls_back_to_numpy_and_is_counted() -> None:
    """A real out-of-memory: the GPU is filled but for 200 MB, then a matmul of two 128 MB
    host matrices needs 384 MB. (CuPy's pool limit cannot force this: allocations served
    from blocks the pool already holds do not count against it, seen on an H200.)"""
    cp = _cp()
    m = np.random.default_rng(3).standard_normal((4096, 4096))
    router = Router(policy="seed")  # High at 16.8 million elements: the table says GPU
    assert router.decide("matmul", m, m).backend is Backend.CUPY
    gpu.free_cached_blocks(cp)
    free, _ = cp.cuda.runtime.memGetInfo()
    filler = cp.empty(max(0, free - 200 * 2**20), dtype=cp.uint8)
    try:
        result = router.run("matmul", m, m)
    finally:
        del filler
        gpu.free_cached_blocks(cp)
    assert np.allclose(result, m @ m)
    fallbacks = router.fallbacks()
    assert list(fallbacks["from"]) == ["cupy"], fallbacks
    assert "out of GPU memory" in fallbacks.loc[0, "reason"]
    counts = router.counts().set_index(["op", "backend"])
    assert counts.loc[("matmul", "cupy"), "fallbacks_from"] == 1
    assert counts.loc[("matmul", "numpy"), "executions"] == 1
