"""GPU time on a real GPU (skipped where CuPy or a GPU is missing; run on a GPU machine)."""

from __future__ import annotations

import pytest

from workbench.gpu import probe

pytestmark = pytest.mark.skipif(not probe().available, reason=probe().reason)


def test_gpu_pass_counts_transfer_bytes_and_device_time() -> None:
    import cupy as cp
    import numpy as np

    import workbench

    host = np.ones((2048, 2048), dtype=np.float32)  # 16 MiB

    def work() -> float:
        device = cp.asarray(host)
        product = cp.matmul(device, device)
        back = product.get()
        return float(back[0, 0])

    report = workbench.profile(work, gpu=True)
    assert report.result == 2048.0
    devices = report.gpu.devices.set_index("device")
    row = devices.loc[int(cp.cuda.runtime.getDevice())]
    assert row["h2d_bytes"] == host.nbytes
    assert row["d2h_bytes"] == host.nbytes
    assert row["gpu_calls"] >= 3
    assert 0 < row["device_s"] <= row["span_s"] * 1.01
    calls = set(report.gpu.calls["function"])
    assert any(name.endswith(".matmul") for name in calls)
    print(report.gpu.devices.to_string())
    print(report.gpu.calls.to_string())


def test_device_time_is_charged_to_the_call_that_launched_the_work() -> None:
    import cupy as cp

    import workbench

    a = cp.random.random((4096, 4096), dtype=cp.float32)
    cp.cuda.Device().synchronize()

    def work() -> None:
        for _ in range(5):
            cp.matmul(a, a)  # asynchronous launches
        cp.sum(a)  # small; under host timing it would absorb the matmuls' wait

    report = workbench.profile(work, gpu=True)
    calls = report.gpu.calls.set_index("function")
    matmul = calls[calls.index.str.endswith(".matmul")]["device_s"].sum()
    total = calls["device_s"].sum()
    assert matmul > 0.5 * total


def test_demo_gpu_path_runs_and_the_aggressive_preset_reports_device_time() -> None:
    import workbench
    from workbench.cli import demo_rules
    from workbench.demo import run_demo

    report = workbench.profile(
        lambda: run_demo(n_tasks=8, use_gpu=True), rules=demo_rules(), preset="aggressive"
    )
    assert report.result.gpu_used
    assert report.gpu is not None and report.gpu.measured
    assert report.gpu.devices["gpu_calls"].sum() > 0
    cats = report.categories.set_index("category")
    assert cats.loc["GPU batch", "calls"] > 0
    print(report.to_text())
