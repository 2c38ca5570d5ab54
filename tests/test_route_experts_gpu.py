"""Gated functions, the namespace and placement on a real GPU: CuPy experts timed with a
device synchronise, arrays moved where each expert needs them and back, out of memory
counted and answered by the next expert, one set of buckets per GPU. Skipped without CuPy
and a GPU (run on the device machine; see the report for the command)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import workbench
from workbench import gpu
from workbench.route import Router

STATUS = gpu.probe()
pytestmark = pytest.mark.skipif(
    not STATUS.available, reason=f"needs CuPy and a GPU: {STATUS.reason}"
)


def _cp() -> Any:
    cp = gpu.cupy_or_none()
    assert cp is not None
    return cp


def scaler(tmp_path: Path) -> Any:
    @workbench.experts(xp=("numpy", "cupy"), profile=tmp_path / "p.json", autosave=False)
    def scale(xp: Any, x: Any) -> Any:
        return (x - x.mean(axis=0)) / x.std(axis=0)

    return scale


def test_host_inputs_come_back_on_the_host_whichever_expert_runs(tmp_path: Path) -> None:
    scale = scaler(tmp_path)
    rng = np.random.default_rng(0)
    for n in (100, 1_000_000):
        x = rng.standard_normal((n // 8, 8))
        for _ in range(8):
            out = scale(x)
            assert type(out) is np.ndarray and np.allclose(out, (x - x.mean(0)) / x.std(0))
    table = scale.table()
    assert {"numpy", "cupy"} <= set(table["expert"])
    cupy_rows = table[(table["expert"] == "cupy") & (table["samples"] > 0)]
    assert len(cupy_rows) >= 1  # the CuPy expert was timed (with a synchronise)
    text = str(scale.explain(x))
    assert "copies" in text and "placement:" in text


def test_device_inputs_stay_on_the_device_and_numpy_experts_get_host_copies(tmp_path: Path) -> None:
    cp = _cp()
    seen: list[type] = []

    @workbench.experts(profile=tmp_path / "p.json", autosave=False)
    def double(x: Any) -> Any:
        seen.append(type(x))
        return x * 2

    @double.expert("cupy")
    def _(x: Any) -> Any:
        seen.append(type(x))
        return x * 2

    d = cp.arange(1000, dtype=cp.float64)
    for _ in range(8):
        out = double(d)
        assert type(out) is cp.ndarray and bool((out == d * 2).all())
    # the reference (kind python) got NumPy copies of the CuPy input; the CuPy expert CuPy
    assert np.ndarray in seen and cp.ndarray in seen
    host = double.to("host")(d)
    assert type(host) is np.ndarray


def test_a_cupy_expert_out_of_memory_is_counted_and_numpy_answers(tmp_path: Path) -> None:
    cp = _cp()

    @workbench.experts(name="numpy", profile=tmp_path / "p.json", autosave=False)
    def total(x: np.ndarray) -> float:
        return float(x.sum())

    @total.expert("cupy")
    def _(x: Any) -> float:
        cp.empty(2**50, dtype=cp.uint8)  # a real out-of-memory: a petabyte
        return float(x.sum())

    x = np.ones(10_000)
    for _ in range(6):
        assert total(x) == 10_000.0
    row = total.table().set_index("expert").loc["cupy"]
    assert "ran out of memory" in row["status"]


def test_each_gpu_keeps_its_own_buckets(tmp_path: Path) -> None:
    scale = scaler(tmp_path)
    x = np.random.default_rng(1).standard_normal((20_000, 8))
    devices = list(range(len(STATUS.devices)))
    sweep = workbench.calibrate(
        scale,
        inputs=lambda n: (np.ones((n // 8, 8)) + np.arange(8),),
        sizes=[800, 80_000],
        budget_s=4,
        devices=devices,
    )
    assert {p.device for p in sweep.points} == set(devices)
    assert set(scale.learners()) == set(devices)
    scale(x)


def test_the_namespace_over_device_arrays_is_cupys() -> None:
    cp = _cp()
    d = cp.arange(12.0).reshape(3, 4)
    xp = workbench.namespace(d)
    assert xp.module is cp
    assert type(xp.add(d, d)) is cp.ndarray
    assert type(xp.stack([d, d])) is cp.ndarray  # passed through to CuPy, counted
    assert xp.passed["stack"] == 1


def test_place_moves_a_large_working_set_to_the_gpu_when_the_profile_says_so() -> None:
    cp = _cp()
    from dataclasses import replace

    from workbench.route import seed_profile
    from workbench.route.machine_profile import Tier

    profile = replace(
        seed_profile(), calibrated={f"{op}|device|0": Tier(0.0, 1_000.0) for op in ("add", "sum")}
    )
    p = workbench.place(np.ones(1_000_000), ops=("add", "sum"), router=Router(profile, device=0))
    assert p.on_gpu and type(p.arrays[0]) is cp.ndarray
