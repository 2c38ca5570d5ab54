"""Staged host->device copies: chunk size, buffers in flight and filling threads against
the pinned rate (the link's best) and a plain copy from pageable memory. GPU only.

    python benchmarks/bench_staging.py
"""

from __future__ import annotations

import os

import numpy as np

from workbench import gpu
from workbench.calibration.transfer import copy_rate
from workbench.gpu.pinned import PinnedStager

NBYTES = 256 * 2**20


def main() -> None:
    cp = gpu.cupy_or_none()
    if cp is None:
        print(f"no GPU: {gpu.probe().reason}")
        return
    n = NBYTES // 8
    host = np.ones(n)
    pinned = np.frombuffer(cp.cuda.alloc_pinned_memory(NBYTES), np.float64, n)
    on_gpu = cp.ones(n)
    sync = cp.cuda.Device().synchronize
    peak = copy_rate(lambda: on_gpu.set(pinned), sync, NBYTES)
    plain = copy_rate(lambda: cp.asarray(host), sync, NBYTES)
    print(
        f"{os.cpu_count()} CPUs; pinned h2d {peak / 1e9:.1f} GB/s, pageable {plain / 1e9:.1f} GB/s"
    )
    for chunk_mib in (8, 32, 64):
        for depth in (2, 3, 4):
            for threads in (4, 8, 16):
                stager = PinnedStager(cp, threads, chunk_mib * 2**20, depth)
                try:
                    rate = copy_rate(lambda s=stager: s.to_device(host), sync, NBYTES)
                finally:
                    stager.close()
                print(
                    f"chunk {chunk_mib:>2} MiB depth {depth} threads {threads:>2}: "
                    f"{rate / 1e9:5.1f} GB/s = {rate / peak:4.0%} of pinned"
                )


if __name__ == "__main__":
    main()
