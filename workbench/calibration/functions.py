"""Sweep a gated function up front: ``workbench.calibrate(f, inputs=lambda n: ..., sizes=...)``.

For each size (smallest first) `inputs(n)` makes the call's arguments; every expert of
`f` that can run here is called once apart (its first call: imports, compilation), its
result checked against the reference's (one that differs is disabled in that bucket,
with the first differing element), then timed with repeats that fit its share of the
budget (GPU experts with a device synchronise). An expert over 20x slower than the best
at two sizes in a row stops. The timings go into the gate's buckets as if learned live
(their source says 'measured by workbench.calibrate'), each bucket gets its choice, and
the gate remembers `inputs` and `sizes` so the tuner's Run benchmark can sweep again.
Ctrl-C keeps what was measured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.calibration.families import CalibrationError
from workbench.calibration.timer import first_call, time_call
from workbench.errors import WorkbenchError
from workbench.profiling.capture import describe_error
from workbench.route.buckets import MATCHED, SWEPT, Bucket
from workbench.route.compare import difference
from workbench.route.expert import CUPY
from workbench.route.experts import BoundGated, Gated
from workbench.route.features import DEVICE, HOST, on_device
from workbench.route.learner import Learner

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[int, int, str], None]
DOMINANCE = 20.0
DOMINANCE_STREAK = 2
COLUMNS = [
    "device",
    "size",
    "feature",
    "bucket",
    "expert",
    "status",
    "median_s",
    "low_s",
    "high_s",
    "first_s",
    "note",
]


@dataclass(frozen=True)
class FunctionPoint:
    """One expert at one size of a function sweep."""

    device: int
    size: int
    feature: float  # the gate's size of the call (its bucket is found from this)
    bucket: str
    expert: str
    status: str  # ok, mismatch, failed, dominated, unavailable, budget
    median_s: float = math.nan
    low_s: float = math.nan
    high_s: float = math.nan
    first_s: float = math.nan
    note: str = ""


@dataclass
class FunctionSweep:
    """What `workbench.calibrate(f, ...)` measured."""

    function: str
    points: list[FunctionPoint] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([list(p.__dict__.values()) for p in self.points], columns=COLUMNS)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for p in self.points:
            counts[p.status] = counts.get(p.status, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        tail = " (interrupted: what was measured so far)" if self.interrupted else ""
        return (
            f"{self.function}: {len(self.points)} points in {self.elapsed_s:.1f} s: {parts}{tail}"
        )


def _nothing() -> None:
    return None


def _gate(f: Any) -> Gated:
    if isinstance(f, BoundGated):
        return f.gate
    if isinstance(f, Gated):
        return f
    raise CalibrationError(
        f"calibrate(f, inputs=..., sizes=...) sweeps a function decorated with "
        f"@workbench.experts, got {type(f).__name__}"
    )


def _call_args(inputs: Callable[[int], Any], n: int) -> tuple[Any, ...]:
    try:
        args = inputs(n)
    except Exception as exc:
        raise CalibrationError(f"inputs({n}) raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(args, tuple):
        raise CalibrationError(
            f"inputs({n}) returned a {type(args).__name__}: it must return the call's "
            "arguments as a tuple, e.g. inputs=lambda n: (make_grid(n), 1, 2) or (x,) for one"
        )
    return args


class _Sweep:
    def __init__(
        self,
        gate: Gated,
        inputs: Callable[[int], Any],
        sizes: list[int],
        budget_s: float,
        progress: Progress | None,
    ) -> None:
        self.gate, self.inputs, self.sizes = gate, inputs, sizes
        self.budget_s, self.progress = budget_s, progress
        self.result = FunctionSweep(gate.qualname)
        self.done = 0
        self.total = 0
        self.start = time.perf_counter()

    def remaining(self) -> float:
        return self.budget_s - (time.perf_counter() - self.start)

    def run_target(self, learner: Learner, device: int) -> None:
        streaks = dict.fromkeys(learner.order, 0)
        stopped: dict[str, str] = {}
        for n in self.sizes:
            args = _call_args(self.inputs, n)
            feature = self.gate.size_of(*args)
            where = DEVICE if on_device(args, {}, {}) else HOST
            b = learner.bucket(where, feature)
            label = learner.label(b)
            share = max(0.002, 0.8 * self.remaining() / max(1, self.total - self.done))
            times: dict[str, float] = {}
            want: Any = None
            for name in learner.order:
                base = (device, n, feature, label, name)
                point, got = self._point(learner, b, name, args, where, share, stopped, want, base)
                if name == learner.reference and point.status == "ok":
                    want = got
                if point.status == "ok":
                    times[name] = point.median_s
                self.result.points.append(point)
                self.done += 1
                if self.progress is not None:
                    self.progress(self.done, self.total, f"{self.gate.qualname} {name} {n:,}")
            if times:
                best = min(times.values())
                for name, t in times.items():
                    streaks[name] = streaks[name] + 1 if t > DOMINANCE * best else 0
                    if streaks[name] >= DOMINANCE_STREAK and name not in stopped:
                        stopped[name] = (
                            f"over {DOMINANCE:g}x slower than the best at {DOMINANCE_STREAK} sizes in a row"
                        )
                cands = [
                    m
                    for m in learner.order
                    if learner.usable(m) and not b.stat(m).disabled and b.stat(m).samples
                ]
                if cands:
                    learner.decide(b, cands, SWEPT)

    def _point(
        self,
        learner: Learner,
        b: Bucket,
        name: str,
        args: tuple[Any, ...],
        where: str,
        share: float,
        stopped: dict[str, str],
        want: Any,
        base: tuple[int, int, float, str, str],
    ) -> tuple[FunctionPoint, Any]:
        """Time one expert at one size: (the point, its result)."""
        expert = learner.experts[name]
        if expert.unavailable:
            return FunctionPoint(*base, "unavailable", note=expert.unavailable), None
        if name in stopped:
            return FunctionPoint(*base, "dominated", note=stopped[name]), None
        if self.remaining() <= 0:
            return FunctionPoint(
                *base, "budget", note=f"the {self.budget_s:g} s budget ran out"
            ), None
        call = learner.runner(name, where, where)
        sync = learner.sync if expert.kind == CUPY or where == DEVICE else _nothing
        try:
            first_s, got = first_call(lambda: call(*args), sync)
            if name != learner.reference and want is not None:
                host = learner.placer.host_copy
                found = difference(host(got), host(want), learner.tolerance)
                if found is not None:
                    learner.disable(
                        b, name, f"its result differs from {learner.reference}'s: {found}"
                    )
                    return FunctionPoint(*base, "mismatch", note=found), None
                b.stat(
                    name
                ).checked = f"{MATCHED} {learner.reference}'s result (workbench.calibrate)"
            timing = time_call(lambda: call(*args), share, first_s, sync)
        except Exception as exc:  # recorded on the point and in the bucket; the sweep goes on
            text = describe_error(exc) or type(exc).__name__
            learner.disable(b, name, f"raised during workbench.calibrate: {text}", failure=True)
            return FunctionPoint(*base, "failed", note=text), None
        if not timing.valid:
            return FunctionPoint(*base, "failed", note=f"timing not usable: {timing}"), None
        learner.record(
            where, base[2], name, [timing.low_s, timing.median_s, timing.high_s], first_s
        )
        point = FunctionPoint(*base, "ok", timing.median_s, timing.low_s, timing.high_s, first_s)
        return point, got


def calibrate_function(
    f: Any,
    *,
    inputs: Callable[[int], Any],
    sizes: Sequence[int],
    budget_s: float = 10.0,
    devices: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> FunctionSweep:
    """Sweep gated function `f` over `sizes` (see the module); `devices`: the GPUs to
    sweep its CuPy experts on (default the gate's own); `progress(done, total, label)`
    after each point (default: a text bar on stderr)."""
    gate = _gate(f)
    if not callable(inputs):
        raise CalibrationError(f"inputs must be a function of the size, got {inputs!r}")
    grid = sorted({int(n) for n in sizes})
    if not grid or grid[0] < 0:
        raise CalibrationError(f"sizes must be whole numbers >= 0, got {list(sizes)!r}")
    if not (budget_s > 0 and math.isfinite(budget_s)):
        raise CalibrationError(f"budget must be a positive number of seconds, got {budget_s!r}")
    bar = None
    if progress is None:
        from workbench.calibration.progress import TextProgress

        progress = bar = TextProgress()
    gate.inputs, gate.sizes = inputs, grid
    learner = gate.learners()[gate.device_index]
    targets = [gate.device_index] if devices is None else list(devices)
    sweep = _Sweep(gate, inputs, grid, budget_s, progress)
    sweep.total = len(grid) * len(learner.order) * len(targets)
    home = gate.device_index
    try:
        for device in targets:
            if device != gate.device_index:
                gate.use_device(device)
            sweep.run_target(gate.learners()[gate.device_index], gate.device_index)
    except KeyboardInterrupt:
        sweep.result.interrupted = True
    except WorkbenchError:
        raise
    finally:
        if gate.device_index != home and home >= 0:
            gate.use_device(home)
        gate.forget_plans()
        sweep.result.elapsed_s = time.perf_counter() - sweep.start
        if bar is not None:
            bar.close()
    return sweep.result
