"""workbench.place(*arrays): should a working set live on the GPU for the work ahead?"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import workbench
from workbench import gpu
from workbench.errors import RouteError
from workbench.gpu import GpuStatus
from workbench.route import Router, seed_profile
from workbench.route.machine_profile import Tier

STATUS = gpu.probe()


def test_without_a_gpu_the_host_is_the_place_and_it_says_why() -> None:
    x = np.ones(1000)
    p = workbench.place(x, router=Router(gpu=False))
    assert p.where == "host" and not p.on_gpu and "no GPU here" in p.reason
    assert p.arrays[0] is x
    with pytest.raises(RouteError, match="needs the arrays"):
        workbench.place()


class _GpuRouter(Router):
    """A router told a GPU is there, with calibrated data-on-GPU thresholds (the decision
    logic only: nothing runs on a device)."""

    @property
    def gpu_status(self) -> GpuStatus:
        return GpuStatus(True, "1 CUDA device(s)", ("Test GPU",))

    @property
    def device_index(self) -> int:
        return 0


def _profile(device_above: float | None) -> Any:
    calibrated = {f"{op}|device|0": Tier(0.0, device_above) for op in ("add", "sum", "matmul")}
    return replace(seed_profile(), calibrated=calibrated)


def test_the_data_on_gpu_crossovers_decide_and_the_copy_is_priced() -> None:
    router = _GpuRouter(_profile(20_000), policy="end-to-end")
    big = workbench.place(np.ones(100_000), ops=("add", "sum", "matmul"), router=router, move=False)
    assert big.where == "device" and "3 of 3 ops run faster on GPU-resident data" in big.reason
    assert "moving 0.8 MiB once takes about" in big.reason
    assert "CuPy above 20,000 elements (calibrated)" in big.per_op["add"]
    small = workbench.place(np.ones(1_000), ops=("add", "sum", "matmul"), router=router, move=False)
    assert small.where == "host" and "only 0 of 3 ops" in small.reason


@pytest.mark.skipif(not STATUS.available, reason=f"needs a GPU: {STATUS.reason}")
def test_on_a_gpu_the_arrays_come_back_moved() -> None:
    cp = gpu.cupy_or_none()
    router = _GpuRouter(_profile(10))
    p = workbench.place(np.ones(100_000), router=router)
    assert p.on_gpu and type(p.arrays[0]) is cp.ndarray
