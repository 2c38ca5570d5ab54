"""Calibration and staged copies on a real GPU (skipped without CuPy and a device)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workbench import gpu
from workbench.calibration import calibrate
from workbench.calibration import result as r
from workbench.calibration.fit import fit
from workbench.gpu.pinned import Mover, PinnedStager
from workbench.route import Router

STATUS = gpu.probe()
pytestmark = pytest.mark.skipif(
    not STATUS.available, reason=f"needs CuPy and a GPU: {STATUS.reason}"
)


@pytest.fixture(scope="module")
def cp() -> Any:
    return gpu.cupy_or_none()


@pytest.fixture(scope="module")
def gpu_fit() -> Any:
    cal = calibrate(
        ["add", "matmul"], budget_s=30, sizes=[10, 1_000, 100_000, 1_000_000, 10_000_000]
    )
    print(cal.summary())
    return fit(cal)


def test_gpu_sweep_covers_device_residency_first_calls_and_copies(gpu_fit: Any) -> None:
    cal = gpu_fit.calibration
    frame = cal.frame()
    cupy = frame[(frame.backend == "cupy") & (frame.status == r.OK)]
    assert set(cupy.residency) == {"python", "host", "device"}
    assert set(cupy.device) == set(range(len(STATUS.devices)))
    first = [row for row in cal.first_calls() if row["backend"] == "cupy"]
    assert first and max(row["extra_s"] for row in first) > 0
    methods = {(b.direction, b.method) for b in cal.bandwidth}
    assert methods == {(d, m) for d in ("h2d", "d2h") for m in ("pageable", "pinned", "staged")}
    assert cal.key.gpu != "none" and cal.key.cupy != "none" and cal.key.cuda != "unknown"


def test_fitted_profile_sends_big_matmuls_to_the_gpu(gpu_fit: Any, tmp_path: Path, cp: Any) -> None:
    path = gpu_fit.profile().save(tmp_path / "gpu.json")
    router = Router(path)
    tier = router.profile.calibrated["matmul|device|0"]
    assert tier.gpu_above is not None and tier.gpu_above < 10_000_000
    a = cp.ones((3000, 3000))
    assert router.decide("matmul", a, a).backend.value == "cupy"
    small = np.ones((2, 2))
    assert router.decide("matmul", small, small).backend.value != "cupy"
    assert "calibrated thresholds for matmul" in router.explain("matmul", a, a).reason


def test_out_of_memory_records_the_size_and_the_sweep_goes_on(cp: Any) -> None:
    pool = cp.get_default_memory_pool()
    pool.free_all_blocks()
    pool.set_limit(size=64 * 2**20)  # a real limit: CuPy raises OutOfMemoryError past it
    try:
        cal = calibrate(
            ["add", "sum"],
            budget_s=10,
            sizes=[1_000, 10_000_000],
            residencies=["device"],
            devices=[0],
        )
    finally:
        pool.set_limit(size=0)
    big = [p for p in cal.points if p.size == 10_000_000 and p.backend == "cupy"]
    assert {p.status for p in big} == {r.OOM} and "OutOfMemory" in big[0].note
    assert any(p.op == "sum" and p.status == r.OK for p in cal.points)  # went on


@pytest.mark.parametrize("shape", [(0,), (5,), (3_000_001,), (1000, 999)])
def test_staged_copies_round_trip_exactly(cp: Any, shape: tuple[int, ...]) -> None:
    stager = PinnedStager(cp, threads=4, chunk_bytes=4 * 2**20)
    try:
        host = np.random.default_rng(1).standard_normal(shape)
        on_gpu = stager.to_device(host)
        assert np.array_equal(cp.asnumpy(on_gpu), host)
        assert np.array_equal(stager.to_host(on_gpu * 2), host * 2)
        strided = host[..., ::2] if host.ndim == 2 else host[::2]
        assert np.array_equal(cp.asnumpy(stager.to_device(strided)), strided)
    finally:
        stager.close()


def test_router_with_staged_copies_gives_numpy_results(cp: Any) -> None:
    router = Router(gpu=True, policy="seed")
    router._staging = Mover(cp, h2d=True, d2h=True, above=1 << 20)
    a = np.random.default_rng(2).standard_normal(2_000_000)
    got = router.run_on("cupy", "add", a, a)
    assert isinstance(got, np.ndarray) and np.allclose(got, a + a)


@pytest.mark.skipif(len(STATUS.devices) < 2, reason="needs two GPUs")
def test_router_runs_on_the_device_asked_for(cp: Any) -> None:
    router = Router(gpu=True, device=1, policy="seed")
    a = np.ones(1_000)
    out = router.run_on("cupy", "add", a, a, to="device")
    assert out.device.id == 1
    with cp.cuda.Device(1):
        b = cp.ones(10)
    assert router.run_on("cupy", "add", b, b).device.id == 1
