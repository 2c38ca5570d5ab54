"""The hot path on data already on a GPU: after its first calls, a namespace op (and
Router.run) on CuPy arrays runs CuPy's own operator or method, reads no signature,
copies nothing to the host and waits for nothing. Skipped without CuPy and a GPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import workbench
from workbench import gpu
from workbench.route import Backend, Router
from workbench.route import backends as backends_module
from workbench.route import planning as planning_module
from workbench.route import router as router_module

STATUS = gpu.probe()
pytestmark = pytest.mark.skipif(
    not STATUS.available, reason=f"needs CuPy and a GPU: {STATUS.reason}"
)


def _counted(calls: dict[str, int], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[name] = calls.get(name, 0) + 1
        return fn(*args, **kwargs)

    return wrapper


def _watch(monkeypatch: pytest.MonkeyPatch, cp: Any) -> dict[str, int]:
    """Count signature reads, the router's CuPy runs, host copies and synchronisations."""
    calls: dict[str, int] = {}
    for module, name in (
        (router_module, "describe"),
        (router_module, "quick"),
        (planning_module, "describe"),
        (backends_module, "gpu_to_host"),
        (gpu, "synchronize"),
        (cp, "asnumpy"),
        (cp, "asarray"),
        (cp.cuda.runtime, "deviceSynchronize"),
    ):
        monkeypatch.setattr(module, name, _counted(calls, name, getattr(module, name)))
    from workbench.route import execution

    monkeypatch.setattr(execution, "run_cupy", _counted(calls, "run_cupy", execution.run_cupy))
    return calls


def _executions(router: Router, op: str) -> int:
    frame = router.counts()
    return int(frame[(frame.op == op) & (frame.backend == "cupy")].executions.sum())


@pytest.mark.parametrize("size", [200_000, 2_000_000])
def test_namespace_ops_on_device_data_run_cupy_directly(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    cp = gpu.cupy_or_none()
    assert cp is not None
    router = Router(gpu=True)
    a = cp.arange(size, dtype=cp.float64)
    b = cp.asarray(np.ones(size))  # made another way: an equal dtype, maybe another object
    xp = workbench.namespace(a, b, router=router)
    for op, args in (("add", (a, b)), ("sum", (a,)), ("multiply", (a, b))):
        assert router.decide(op, *args).backend is Backend.CUPY, (op, size)
    for _ in range(2):  # the first call plans, the second makes the plan hot
        xp.add(a, b)
        xp.sum(a)
        router.run("multiply", a, b)
        router.run("multiply", a, b)
    before = {op: _executions(router, op) for op in ("add", "sum", "multiply")}
    assert {"add", "sum", "multiply"} <= set(router._hot)
    calls = _watch(monkeypatch, cp)
    for _ in range(10):
        added = xp.add(a, b)
        total = xp.sum(a)
        product = router.run("multiply", a, b)
    assert calls == {}, calls  # no signature read, no general kernel, no copy, no wait
    assert {op: _executions(router, op) - n for op, n in before.items()} == {
        "add": 10,
        "sum": 10,
        "multiply": 10,
    }
    assert type(added) is cp.ndarray and type(product) is cp.ndarray
    assert type(total) is cp.ndarray and total.ndim == 0  # CuPy's a.sum(): 0-d, on the GPU
    host_a = np.arange(size, dtype=np.float64)
    assert np.array_equal(cp.asnumpy(added), host_a + 1.0)
    assert np.array_equal(cp.asnumpy(product), host_a)
    assert float(total) == float(host_a.sum())


def test_a_device_call_of_another_kind_leaves_the_hot_path() -> None:
    cp = gpu.cupy_or_none()
    assert cp is not None
    router = Router(gpu=True)
    a = cp.arange(1000, dtype=cp.float64)
    xp = workbench.namespace(a, router=router)
    xp.add(a, a)
    xp.add(a, a)
    ints = cp.arange(1000)
    assert cp.asnumpy(xp.add(ints, ints)).dtype == np.arange(1000).dtype  # another dtype
    assert np.array_equal(cp.asnumpy(xp.add(a, 1.5)), np.arange(1000.0) + 1.5)
    host = xp.add(a.get(), a.get())  # host data through a device namespace: NumPy's result
    assert isinstance(host, np.ndarray) and np.array_equal(host, np.arange(1000.0) * 2)
