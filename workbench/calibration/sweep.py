"""calibrate_ops(): sweep every op family over sizes, residencies, backends and GPUs.

The sizes run smallest first, each size for every family and residency before the next
(so a budget that runs out cuts the largest sizes of every op, not whole ops); at each
size every lane (backend x device, and the independent oracle's idiomatic-code lanes)
makes one call whose result is checked against NumPy's, then is timed with repeats that
fit its share of the budget. A lane stops early, with the reason kept
on its points, when it is far slower than the best lane at two sizes in a row
(`dominated`), when its next call is predicted to take longer than the per-call cap
(`too-slow`), or when the operands would not fit in free memory (`memory`). Running out
of memory records that size as `oom` and the sweep goes on. Ctrl-C (KeyboardInterrupt)
ends the sweep and returns what was measured so far, as does an exhausted budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np

from workbench import gpu
from workbench.calibration import result as r
from workbench.calibration import transfer
from workbench.calibration.families import (
    RESIDENCIES,
    CalibrationError,
    Family,
    families,
    log_sizes,
)
from workbench.calibration.lanes import Lane, Runner, lanes_for, mismatch
from workbench.calibration.timer import first_call, time_call
from workbench.gpu.pinned import Mover
from workbench.machine import key_for, today
from workbench.profiling.capture import describe_error
from workbench.route.backends import run_numpy
from workbench.route.kinds import Location
from workbench.route.machine_profile import Transfer

Progress = Callable[[int, int, str], None]
DOMINANCE = 20.0  # a lane this many times slower than the best...
DOMINANCE_STREAK = 2  # ...at this many sizes in a row stops
_MEMORY_SHARE = 0.5  # operands may take at most this share of the memory free


@dataclass
class _LaneState:
    """What a lane has measured so far, to predict its next size and decide to stop."""

    sizes: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    streak: int = 0
    alone: int = 0
    ratio: float | None = None  # time over the best lane's at the last size
    stopped: str | None = None  # status of every later point, once stopped
    why: str = ""

    def predict(self, size: int) -> float:
        """Seconds one call at `size` will take, from the slope of the last two points
        (0: unknown). A flat start (a GPU's launch latency) predicts a flat next step."""
        if len(self.times) < 2 or self.sizes[-1] <= self.sizes[-2]:
            return 0.0
        slope = math.log(self.times[-1] / self.times[-2]) / math.log(
            self.sizes[-1] / self.sizes[-2]
        )
        slope = min(3.0, max(0.0, slope))
        return float(self.times[-1] * (size / self.sizes[-1]) ** slope)


def _host_free_bytes() -> float:
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    return math.inf


def _gpu_free_bytes(cp: ModuleType, device: int) -> float:
    with cp.cuda.Device(device):
        free, _ = cp.cuda.runtime.memGetInfo()
    return float(free)


class Sweep:
    """One calibration run; `run()` returns the Calibration."""

    def __init__(
        self,
        fams: Sequence[Family],
        sizes: Sequence[int],
        residencies: Sequence[str],
        gpus: Sequence[int],
        cp: ModuleType | None,
        dtype: np.dtype[np.generic],
        budget_s: float,
        progress: Progress | None,
    ) -> None:
        self.fams, self.sizes, self.gpus = list(fams), list(sizes), list(gpus)
        self.residencies = [x for x in residencies if x != "device" or self.gpus]
        self.runner = Runner(cp)
        self.dtype = dtype
        self.budget_s = budget_s
        self.max_call_s = max(0.02, budget_s / 300)
        self.progress = progress
        self.calibration = r.Calibration(
            key_for(cp, tuple(self.gpus), dtype.name), today(), budget_s
        )
        self.total = sum(
            len(lanes_for(res, self.gpus)) * len(self.sizes)
            for _ in self.fams
            for res in self.residencies
        )
        self.done = 0
        self.start = 0.0

    def remaining_s(self) -> float:
        return self.budget_s - (time.perf_counter() - self.start)

    def run(self) -> r.Calibration:
        """Measure setup costs, then every family; KeyboardInterrupt keeps what was done."""
        cal = self.calibration
        self.start = time.perf_counter()
        try:
            self._setup()
            self._sizes_first()
        except KeyboardInterrupt:
            cal.interrupted = True
        finally:
            if self.runner.mover is not None:
                self.runner.mover.close()
            self.runner.free()
            cal.elapsed_s = time.perf_counter() - self.start
        return cal

    def _setup(self) -> None:
        """First GPU work per device (context, allocator), then copy bandwidths; the
        router's copies in the sweep are staged where staging measured faster."""
        cp = self.runner.cp
        if cp is None:
            return
        for device in self.gpus:
            start = time.perf_counter()
            with cp.cuda.Device(device):
                cp.zeros(1).sum()
                cp.cuda.Device(device).synchronize()
            self.calibration.setup[f"first GPU work on device {device}"] = (
                time.perf_counter() - start
            )
        if _host_free_bytes() < 8 * transfer.NBYTES:
            self.calibration.notes.append(
                "copy bandwidth not measured: too little host memory free"
            )
            return
        try:
            for device in self.gpus:
                self.calibration.bandwidth.extend(transfer.measure(cp, device))
        except self.runner.oom_errors() as exc:
            self.runner.free()
            self.calibration.notes.append(
                f"copy bandwidth not measured: {describe_error(exc)}; plain copies used"
            )
            return
        rates = [b for b in self.calibration.bandwidth if b.device == self.gpus[0]]
        h2d = transfer.best_method(rates, "h2d") == "staged"
        d2h = transfer.best_method(rates, "d2h") == "staged"
        if h2d or d2h:
            self.runner.mover = Mover(
                cp, h2d, d2h, Transfer(0, 0, 0).stage_above, transfer.staged_threads(rates)
            )

    def _sizes_first(self) -> None:
        """Every family and residency at one size, then the next size: when the budget
        runs out, every op has its small and middle sizes, not some ops everything."""
        groups = [(family, residency) for family in self.fams for residency in self.residencies]
        lanes = {g: lanes_for(g[1], self.gpus) for g in groups}
        states = {g: {lane: _LaneState() for lane in lanes[g]} for g in groups}
        for size in self.sizes:
            for family, residency in groups:
                group = (family, residency)
                actual = family.actual_size(size)
                live = [
                    lane
                    for lane in lanes[group]
                    if self._admit(family, lane, states[group][lane], actual)
                ]
                if live:
                    self._size(family, live, states[group], actual)
                self._judge(states[group], actual)

    def _skip(self, family: Family, lane: Lane, size: int, status: str, note: str) -> None:
        self.calibration.points.append(
            r.Point(family.name, lane.residency, lane.device, lane.backend, size, status, note=note)
        )
        self._tick(f"{family.name} {lane.residency} {lane.backend} {size:,}")

    def _tick(self, label: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, label)

    def _admit(self, family: Family, lane: Lane, state: _LaneState, size: int) -> bool:
        """Whether the lane runs at this size; if not, its point is recorded as skipped."""
        skip: tuple[str, str] | None = None
        if state.stopped:
            skip = (state.stopped, state.why)
        elif self.remaining_s() <= 0:
            skip = (r.BUDGET, f"the {self.budget_s:g} s budget ran out")
        elif state.predict(size) > self.max_call_s:
            skip = (
                r.TOO_SLOW,
                f"one call predicted at {state.predict(size):.3g} s, over the "
                f"{self.max_call_s:.3g} s cap for a {self.budget_s:g} s budget",
            )
        else:
            skip = self._memory(family, lane, size)
        if skip is None:
            return True
        if skip[0] in (r.TOO_SLOW, r.MEMORY):  # larger sizes only get worse
            state.stopped, state.why = skip
        self._skip(family, lane, size, *skip)
        return False

    def _memory(self, family: Family, lane: Lane, size: int) -> tuple[str, str] | None:
        itemsize = 32 if lane.residency == "python" or lane.backend.endswith("python") else 1
        need = family.nbytes(size, self.dtype.itemsize * 2) * itemsize
        free = _host_free_bytes()
        if need > free * _MEMORY_SHARE:
            return (
                r.MEMORY,
                f"needs about {need / 2**30:.2g} GiB of host memory, free {free / 2**30:.2g} GiB",
            )
        cp = self.runner.cp
        if cp is not None and lane.uses_gpu and lane.backend != "python":
            gpu_need = family.nbytes(size, self.dtype.itemsize) * 2
            gpu_free = _gpu_free_bytes(cp, lane.device)
            if gpu_need > gpu_free * _MEMORY_SHARE:
                return (
                    r.MEMORY,
                    f"needs about {gpu_need / 2**30:.2g} GiB on GPU {lane.device}, "
                    f"free {gpu_free / 2**30:.2g} GiB",
                )
        return None

    def _size(
        self, family: Family, lanes: Sequence[Lane], states: dict[Lane, _LaneState], size: int
    ) -> None:
        host = family.inputs(size, self.dtype)
        spec = family.spec
        want = np.asarray(
            run_numpy(spec, host, dict(spec.params), Location.HOST, Location.HOST, None)
        )
        share = min(0.25, max(0.002, 0.8 * self.remaining_s() / max(1, self.total - self.done)))
        for lane in lanes:
            point = self._point(family, lane, host, want, size, share)
            self.calibration.points.append(point)
            if point.ok:
                states[lane].sizes.append(size)
                states[lane].times.append(point.median_s)
            self._tick(f"{family.name} {lane.residency} {lane.backend} {size:,}")
        if size * self.dtype.itemsize > 2**26:
            self.runner.free()

    def _point(
        self,
        family: Family,
        lane: Lane,
        host: Sequence[np.ndarray],
        want: np.ndarray,
        size: int,
        share: float,
    ) -> r.Point:
        runner = self.runner
        base = (family.name, lane.residency, lane.device, lane.backend, size)
        try:
            with runner.on(lane):
                operands = runner.place(lane, host)
                call = runner.call(family, lane, operands)
                sync = runner.sync(lane)
                first_s, got = first_call(call, sync)
                wrong = mismatch(runner.to_host(got), want, self.dtype)
                if wrong:
                    return r.Point(*base, r.MISMATCH, note=wrong)
                timing = time_call(call, share, first_s, sync)
        except runner.oom_errors() as exc:
            runner.free()
            return r.Point(*base, r.OOM, note=describe_error(exc) or "")
        except Exception as exc:  # recorded on the point, with its message; the sweep goes on
            return r.Point(*base, r.FAILED, note=describe_error(exc) or "")
        if not timing.valid:
            return r.Point(*base, r.FAILED, note=f"timing not usable: {timing}")
        return r.Point(
            *base,
            r.OK,
            timing.median_s,
            timing.low_s,
            timing.high_s,
            timing.first_s,
            timing.calls,
        )

    def _judge(self, states: dict[Lane, _LaneState], size: int) -> None:
        """Stop lanes far slower than the best one at this size, twice running; stop the
        last lane standing once it has been alone for as long (nothing to choose)."""
        times = {lane: s.times[-1] for lane, s in states.items() if s.sizes and s.sizes[-1] == size}
        if not times:
            return
        best = min(times.values())
        for lane, t in times.items():
            state = states[lane]
            ratio = t / best
            # far slower and falling further behind: a lane whose time is flat while the
            # best one's is too (a GPU's launch latency at small sizes) keeps running
            behind = state.ratio is not None and ratio > 1.1 * state.ratio
            state.ratio = ratio
            state.streak = state.streak + 1 if ratio > DOMINANCE and behind else 0
            if state.streak >= DOMINANCE_STREAK and not state.stopped:
                state.stopped = r.DOMINATED
                state.why = (
                    f"over {DOMINANCE:g}x slower than the best backend and falling further "
                    f"behind, {DOMINANCE_STREAK} sizes in a row (last {ratio:.3g}x at {size:,})"
                )
        live = [lane for lane, s in states.items() if s.stopped is None]
        if len(live) == 1 and live[0] in times:
            state = states[live[0]]
            state.alone += 1
            if state.alone >= DOMINANCE_STREAK:
                state.stopped = r.SETTLED
                state.why = (
                    f"the only backend left at {size:,} and the size before: "
                    "larger sizes cannot change the choice"
                )


def calibrate_ops(
    ops: Sequence[str] | None = None,
    *,
    budget_s: float | None = None,
    sizes: Sequence[int] | None = None,
    devices: Sequence[int] | None = None,
    gpu_enabled: bool | None = None,
    residencies: Sequence[str] = RESIDENCIES,
    dtype: str = "float64",
    progress: Progress | None = None,
) -> r.Calibration:
    """Sweep `ops` (default: add, multiply, sum, mean, max, vdot, matmul, standard_scale)
    over `sizes` (default 10 to 1e8, two per decade) on every backend here.

    `devices`: GPU indices (default: all); `gpu_enabled=False` sweeps the CPU only.
    `budget_s` bounds the whole run (default 30 s CPU-only, 57 s per GPU); `progress(done,
    total, label)` is called after each point.
    """
    if budget_s is not None and not (budget_s > 0 and math.isfinite(budget_s)):
        raise CalibrationError(f"budget must be a positive number of seconds, got {budget_s!r}")
    unknown = [x for x in residencies if x not in RESIDENCIES]
    if unknown:
        raise CalibrationError(f"unknown residency {unknown[0]!r}: use {', '.join(RESIDENCIES)}")
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise CalibrationError(f"unknown dtype {dtype!r}: use float64 or float32") from None
    if kind.kind != "f":
        raise CalibrationError(f"calibrate floating dtypes (float64, float32), not {dtype}")
    fams = families(ops)
    grid = sorted(set(sizes)) if sizes is not None else log_sizes()
    if not grid or grid[0] < 1:
        raise CalibrationError("sizes must be whole numbers >= 1")
    cp, gpus = _gpus(devices, gpu_enabled)
    if budget_s is None:  # 30 s CPU-only, 57 s per GPU (the whole run: 60)
        budget_s = 30.0 if not gpus else 57.0 * len(gpus)
    return Sweep(fams, grid, residencies, gpus, cp, kind, budget_s, progress).run()


def _gpus(
    devices: Sequence[int] | None, enabled: bool | None
) -> tuple[ModuleType | None, list[int]]:
    if enabled is False or (devices is not None and not devices):
        return None, []
    status = gpu.probe()
    if not status.available:
        if enabled or devices:
            raise CalibrationError(f"a GPU was asked for, but {status.reason}")
        return None, []
    count = len(status.devices)
    chosen = list(range(count)) if devices is None else list(devices)
    bad = [d for d in chosen if not 0 <= d < count]
    if bad:
        raise CalibrationError(f"no GPU {bad[0]}: this machine has devices 0..{count - 1}")
    return gpu.cupy_or_none(), chosen
