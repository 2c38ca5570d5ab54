"""GPU time on a real GPU (skipped where CuPy or a GPU is missing; run on a GPU machine)."""

from __future__ import annotations

import inspect

import pytest

from workbench.gpu import probe

pytestmark = pytest.mark.skipif(not probe().available, reason=probe().reason)


def _line_of(func: object, text: str) -> int:
    lines, first = inspect.getsourcelines(func)  # type: ignore[arg-type]
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_gpu_pass_counts_transfer_bytes_and_device_time() -> None:
    import cupy as cp
    import numpy as np

    import workbench

    host = np.ones((2048, 2048), dtype=np.float32)  # 16 MiB

    def work() -> float:
        device = cp.asarray(host)
        product = cp.matmul(device, device)
        back = cp.asnumpy(product)
        return float(back[0, 0])

    report = workbench.profile(work, gpu=True)
    assert report.result == 2048.0
    devices = report.gpu.devices.set_index("device")
    row = devices.loc[int(cp.cuda.runtime.getDevice())]
    assert (row["h2d_calls"], row["h2d_bytes"]) == (1, host.nbytes)
    assert (row["d2h_calls"], row["d2h_bytes"]) == (1, host.nbytes)
    assert row["h2d_s"] > 0 and row["d2h_s"] > 0
    assert 0 < row["device_s"] <= row["span_s"] * 1.01
    print(report.gpu.devices.to_string())
    print(report.gpu.lines.to_string())


def test_device_time_is_charged_to_the_line_that_launched_the_work() -> None:
    import cupy as cp

    import workbench

    a = cp.random.random((4096, 4096), dtype=cp.float32)
    cp.cuda.Device().synchronize()

    def work() -> None:
        for _ in range(5):
            cp.matmul(a, a)  # asynchronous launches: a gufunc call cProfile does not see
        cp.sum(a)  # small; under host timing it would absorb the matmuls' wait

    report = workbench.profile(work, gpu=True)
    lines = report.gpu.lines.groupby("line")["device_s"].sum()
    matmul = lines.get(_line_of(work, "cp.matmul(a, a)"), 0.0)
    total = lines.sum()
    assert matmul > 0.8 * total
    print(report.gpu.lines.to_string())


def test_operators_on_device_arrays_passed_in_are_timed() -> None:
    import cupy as cp

    import workbench

    def scale(x: object) -> object:
        return x * 2.0 + 1.0  # operators only: no call into CuPy that cProfile records

    x = cp.ones((8192, 8192), dtype=cp.float32)
    report = workbench.profile(lambda: [scale(x) for _ in range(3)], gpu=True)
    timed = report.gpu.lines[report.gpu.lines["function"] == "scale"]
    assert timed["runs"].sum() >= 3
    assert timed["device_s"].sum() > 0


def test_demo_gpu_path_runs_and_the_aggressive_depth_reports_device_time() -> None:
    import workbench
    from workbench.cli import demo_rules
    from workbench.demo import run_demo

    report = workbench.profile(
        lambda: run_demo(n_tasks=8, use_gpu=True), rules=demo_rules(), depth="aggressive"
    )
    assert report.result.gpu_used
    assert report.gpu is not None and report.gpu.measured
    assert report.gpu.devices["device_s"].sum() > 0
    assert report.gpu.devices["h2d_bytes"].sum() > 0
    cats = report.categories.set_index("category")
    assert cats.loc["GPU batch", "calls"] > 0
    print(report.to_text())
    print(report.gpu.devices.to_string())
    print(report.gpu.lines.head(10).to_string())
