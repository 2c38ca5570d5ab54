"""Host<->device copies staged through pinned (page-locked) buffers.

A copy from ordinary (pageable) host memory is copied by the driver into its own pinned
staging area first. Staging here splits a large array into chunks, copies each chunk into
one of two reused pinned buffers with several threads (NumPy releases the GIL for the
copy), and sends it with an asynchronous copy on a stream while the next chunk is being
filled, so the host copy and the DMA overlap. Calibration measures whether this beats the
plain copy on a machine (`workbench.calibration.transfer`); the router uses it only then.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import numpy as np

CHUNK_BYTES = 32 * 2**20
DEPTH = 2  # buffers in flight: one filling while the other is being sent


class PinnedStager:
    """Reusable pinned buffers, a stream and copy threads for one GPU."""

    def __init__(
        self, cp: ModuleType, threads: int = 4, chunk_bytes: int = CHUNK_BYTES, depth: int = DEPTH
    ) -> None:
        self.cp = cp
        self.chunk_bytes = chunk_bytes
        self.threads = max(1, threads)
        self.stream = cp.cuda.Stream(non_blocking=True)
        self._buffers = [
            np.frombuffer(cp.cuda.alloc_pinned_memory(chunk_bytes), np.uint8, chunk_bytes)
            for _ in range(depth)
        ]
        self._events = [cp.cuda.Event() for _ in range(depth)]
        self.depth = depth
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def close(self) -> None:
        """Stop the copy threads (buffers go back when the stager is collected)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _fill(self, dst: np.ndarray, src: np.ndarray) -> None:
        n = len(src)
        if self._pool is None or n < 2**20:
            np.copyto(dst[:n], src)
            return
        step = math.ceil(n / self.threads)
        parts = [
            self._pool.submit(np.copyto, dst[i : i + step], src[i : i + step])
            for i in range(0, n, step)
        ]
        for part in parts:
            part.result()

    def to_device(self, host: Any) -> Any:
        """A CuPy copy of a NumPy array, on the current device."""
        cp = self.cp
        src = np.ascontiguousarray(host)
        out = cp.empty(src.shape, src.dtype)
        if src.nbytes == 0:
            return out
        flat_src = src.reshape(-1).view(np.uint8)
        flat_dst = out.reshape(-1).view(cp.uint8)
        for i, lo in enumerate(range(0, src.nbytes, self.chunk_bytes)):
            hi = min(lo + self.chunk_bytes, src.nbytes)
            buf, done = self._buffers[i % self.depth], self._events[i % self.depth]
            done.synchronize()  # the DMA that last read this buffer has finished
            self._fill(buf, flat_src[lo:hi])
            flat_dst[lo:hi].set(buf[: hi - lo], stream=self.stream)
            done.record(self.stream)
        self.stream.synchronize()
        return out

    def to_host(self, device_array: Any) -> np.ndarray:
        """A NumPy copy of a CuPy array: DMA into a pinned buffer, then out of it, the
        next chunk's DMA overlapping this chunk's host copy."""
        cp = self.cp
        src = cp.ascontiguousarray(device_array)
        out = np.empty(src.shape, np.dtype(src.dtype.str))
        if out.nbytes == 0:
            return out
        flat_src = src.reshape(-1).view(cp.uint8)
        flat_out = out.reshape(-1).view(np.uint8)
        chunks = list(range(0, out.nbytes, self.chunk_bytes))
        cp.cuda.get_current_stream().synchronize()  # the work that made `src` is done

        def start(i: int) -> None:
            lo = chunks[i]
            hi = min(lo + self.chunk_bytes, out.nbytes)
            flat_src[lo:hi].get(stream=self.stream, out=self._buffers[i % self.depth][: hi - lo])
            self._events[i % self.depth].record(self.stream)

        start(0)
        for i, lo in enumerate(chunks):
            if i + 1 < len(chunks):
                start(i + 1)
            hi = min(lo + self.chunk_bytes, out.nbytes)
            self._events[i % self.depth].synchronize()
            self._fill(flat_out[lo:hi], self._buffers[i % self.depth][: hi - lo])
        return out


class Mover:
    """The router's host<->device copies: staged for large arrays where calibration found
    staging faster (`h2d`, `d2h`), plain CuPy copies otherwise."""

    def __init__(self, cp: ModuleType, h2d: bool, d2h: bool, above: int, threads: int = 4) -> None:
        self.cp = cp
        self.h2d, self.d2h, self.above = h2d, d2h, above
        self.threads = threads
        self._stagers: dict[int, PinnedStager] = {}

    def _stager(self) -> PinnedStager:
        device = int(self.cp.cuda.runtime.getDevice())
        stager = self._stagers.get(device)
        if stager is None:
            stager = self._stagers[device] = PinnedStager(self.cp, self.threads)
        return stager

    def to_device(self, a: Any) -> Any:
        if self.h2d and type(a) is np.ndarray and a.nbytes >= self.above:
            return self._stager().to_device(a)
        return self.cp.asarray(a)

    def to_host(self, a: Any) -> np.ndarray:
        if self.d2h and a.nbytes >= self.above:
            return self._stager().to_host(a)
        return np.asarray(self.cp.asnumpy(a))

    def close(self) -> None:
        for stager in self._stagers.values():
            stager.close()
        self._stagers.clear()
