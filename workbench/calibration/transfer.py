"""Host<->device bandwidth per GPU: plain (pageable) copies, copies from pinned memory
(the link's best) and copies staged through pinned buffers (workbench.gpu.pinned)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from types import ModuleType

import numpy as np

from workbench.calibration.result import Bandwidth
from workbench.gpu.pinned import PinnedStager
from workbench.route.measure import median_time

NBYTES = 256 * 2**20


def copy_rate(fn: Callable[[], object], sync: Callable[[], None], nbytes: int) -> float:
    """Bytes per second of one copy `fn` (median of at least three, after a warm-up)."""
    return nbytes / median_time(fn, sync, min_total_s=0.05, max_reps=5)


def _thread_counts() -> list[int]:
    cores = os.cpu_count() or 1
    return [n for n in (1, 2, 4, 8, 16) if n <= max(1, cores // 2)] or [1]


def measure(cp: ModuleType, device: int, nbytes: int = NBYTES) -> list[Bandwidth]:
    """Rates on one GPU, each direction: pageable, pinned, and staged with the number of
    filling threads (1, 2, 4, ... up to half the cores) that was fastest."""
    n = nbytes // 8
    out: list[Bandwidth] = []
    with cp.cuda.Device(device):
        sync = cp.cuda.Device(device).synchronize
        host = np.ones(n)
        pinned = np.frombuffer(cp.cuda.alloc_pinned_memory(n * 8), np.float64, n)
        pinned[:] = 1.0
        on_gpu = cp.ones(n)
        plain = {
            ("h2d", "pageable"): lambda: cp.asarray(host),
            ("h2d", "pinned"): lambda: on_gpu.set(pinned),
            ("d2h", "pageable"): lambda: cp.asnumpy(on_gpu),
            ("d2h", "pinned"): lambda: on_gpu.get(out=pinned),
        }
        for (direction, method), fn in plain.items():
            out.append(Bandwidth(device, direction, method, nbytes, copy_rate(fn, sync, nbytes)))
        best: dict[str, Bandwidth] = {}
        for threads in _thread_counts():
            stager = PinnedStager(cp, threads=threads)
            try:
                for direction, fn in (
                    ("h2d", partial(stager.to_device, host)),
                    ("d2h", partial(stager.to_host, on_gpu)),
                ):
                    rate = copy_rate(fn, sync, nbytes)
                    if direction not in best or rate > best[direction].bytes_per_s:
                        best[direction] = Bandwidth(
                            device, direction, "staged", nbytes, rate, threads
                        )
            finally:
                stager.close()
        out.extend(best.values())
    return out


def staged_threads(rates: list[Bandwidth]) -> int:
    """The filling threads of the fastest staged host->device copy (4 if not measured)."""
    staged = [b for b in rates if b.method == "staged" and b.direction == "h2d"]
    return max(staged, key=lambda b: b.bytes_per_s).threads if staged else 4


def best_method(rates: list[Bandwidth], direction: str) -> str:
    """'staged' when staging beat the plain copy by 10% or more, else 'pageable'."""
    by = {b.method: b.bytes_per_s for b in rates if b.direction == direction}
    if by.get("staged", 0.0) >= 1.1 * by.get("pageable", float("inf")):
        return "staged"
    return "pageable"
