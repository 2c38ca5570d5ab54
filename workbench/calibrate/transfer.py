"""Host<->device bandwidth per GPU: plain (pageable) copies, copies from pinned memory
(the link's best) and copies staged through pinned buffers (workbench.pinned)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from types import ModuleType

import numpy as np

from workbench.calibrate.result import Bandwidth
from workbench.pinned import PinnedStager

NBYTES = 256 * 2**20
_REPEATS = 5


def _rate(fn: Callable[[], object], sync: Callable[[], None], nbytes: int) -> float:
    fn()
    sync()
    samples = []
    for _ in range(_REPEATS):
        start = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - start)
    return nbytes / statistics.median(samples)


def measure(cp: ModuleType, device: int, nbytes: int = NBYTES, threads: int = 4) -> list[Bandwidth]:
    """Six rates on one GPU: h2d and d2h, each pageable, pinned and staged."""
    n = nbytes // 8
    with cp.cuda.Device(device):
        dev = cp.cuda.Device(device)
        sync = dev.synchronize
        host = np.ones(n)
        pinned = np.frombuffer(cp.cuda.alloc_pinned_memory(n * 8), np.float64, n)
        pinned[:] = 1.0
        on_gpu = cp.ones(n)
        stager = PinnedStager(cp, threads=threads)
        try:
            rates = {
                ("h2d", "pageable"): _rate(lambda: cp.asarray(host), sync, nbytes),
                ("h2d", "pinned"): _rate(lambda: on_gpu.set(pinned), sync, nbytes),
                ("h2d", "staged"): _rate(lambda: stager.to_device(host), sync, nbytes),
                ("d2h", "pageable"): _rate(lambda: cp.asnumpy(on_gpu), sync, nbytes),
                ("d2h", "pinned"): _rate(lambda: on_gpu.get(out=pinned), sync, nbytes),
                ("d2h", "staged"): _rate(lambda: stager.to_host(on_gpu), sync, nbytes),
            }
        finally:
            stager.close()
    return [Bandwidth(device, d, m, nbytes, rate) for (d, m), rate in rates.items()]


def best_method(rates: list[Bandwidth], direction: str) -> str:
    """'staged' when staging beat the plain copy by 10% or more, else 'pageable'."""
    by = {b.method: b.bytes_per_s for b in rates if b.direction == direction}
    if by.get("staged", 0.0) >= 1.1 * by.get("pageable", float("inf")):
        return "staged"
    return "pageable"
