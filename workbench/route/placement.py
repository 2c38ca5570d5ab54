"""``workbench.place(*arrays)``: should this working set live on the GPU for the work ahead?

A pipeline that keeps its data on the host and sends each op to CuPy pays two copies per
op; one that moves its data once pays one copy for all of them. The answer comes from the
data-on-GPU crossovers of the machine profile (the size above which CuPy beats the host
when the operands already live on the device, per op and GPU, from ``workbench
calibrate``), and, without those, from the end-to-end cost model with data on either
side. The one-time copy is priced with the profile's host-to-device bandwidth.

    p = workbench.place(points, centres, ops=("add", "sum", "matmul"))
    print(p)                 # where, and why
    points, centres = p.arrays   # moved once when the GPU is the place (as given otherwise)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench import gpu
from workbench.errors import RouteError
from workbench.route.cost import fmt_seconds
from workbench.route.kinds import Backend, Location
from workbench.route.machine_profile import MachineProfile
from workbench.route.router import Router

DEFAULT_OPS = ("add", "multiply", "sum", "mean", "max", "vdot", "matmul")


@dataclass(frozen=True)
class Placement:
    """Where a working set should live: 'device' or 'host', why, and the arrays there."""

    where: str
    reason: str
    size: int
    nbytes: int
    per_op: dict[str, str] = field(default_factory=dict)  # op -> what decided it
    arrays: tuple[Any, ...] = ()

    @property
    def on_gpu(self) -> bool:
        return self.where == "device"

    def lines(self) -> list[str]:
        head = "on the GPU" if self.on_gpu else "on the host"
        out = [f"keep this working set {head}: {self.reason}"]
        out.extend(f"  {op}: {why}" for op, why in self.per_op.items())
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]


def _size_and_bytes(arrays: Sequence[Any]) -> tuple[int, int]:
    size = nbytes = 0
    for a in arrays:
        n = int(
            getattr(a, "size", 0) or (np.asarray(a).size if isinstance(a, (list, tuple)) else 0)
        )
        size = max(size, n)
        nbytes += int(getattr(a, "nbytes", n * 8))
    return size, nbytes


def _device_crossover(router: Router, op: str, device: int, size: int) -> tuple[str, bool] | None:
    """(why, CuPy wins at this size) from the calibrated data-on-GPU thresholds."""
    found = router.profile.tier_for(op, "device", device)
    if found is None or found[1].endswith("|-1"):
        return None
    above = found[0].gpu_above
    if above is None:
        return "never on the GPU", False
    return f"CuPy above {above:,.0f} elements", size > above


def place(
    *arrays: Any,
    ops: Sequence[str] = DEFAULT_OPS,
    router: Router | None = None,
    profile: MachineProfile | str | os.PathLike[str] | None = None,
    move: bool = True,
) -> Placement:
    """Whether `arrays` should live on the GPU for repeated work of `ops` (see the module):
    yes when most of the ops run faster on GPU-resident data at this size. `move`: hand
    the arrays back moved there when the GPU is the place."""
    if not arrays:
        raise RouteError("place() needs the arrays of the working set: place(x, y, ...)")
    router = router if router is not None else Router(profile or "seed")
    size, nbytes = _size_and_bytes(arrays)
    status = router.gpu_status
    if not status.available:
        return Placement("host", f"no GPU here ({status.reason})", size, nbytes, {}, arrays)
    device = router.device_index
    per_op: dict[str, str] = {}
    votes = 0
    for op in ops:
        crossover = _device_crossover(router, op, device, size)
        if crossover is not None:
            why, wins = crossover
            per_op[op] = f"{size:,} elements; with the data on GPU {device}: {why} (calibrated)"
        else:
            host = router.recommend(op, size, residency=Location.HOST)
            there = router.recommend(op, size, residency=Location.DEVICE)
            t_host = min(
                (p.total_s for b, p in host.predictions.items() if p and b not in host.excluded),
                default=float("inf"),
            )
            cupy = there.predictions.get(Backend.CUPY)
            wins = cupy is not None and cupy.total_s < t_host
            per_op[op] = (
                f"{size:,} elements: CuPy on device data predicted "
                f"{fmt_seconds(cupy.total_s if cupy else None)}, the host's best {fmt_seconds(t_host)} "
                "(cost model: no calibrated data-on-GPU threshold)"
            )
        votes += bool(wins)
    t = router.profile.transfer
    copy_s = nbytes / t.h2d_bytes_per_s + t.latency_s * len(arrays) if t is not None else None
    copy = f"moving {nbytes / 2**20:,.1f} MiB once takes about {fmt_seconds(copy_s)}"
    if votes * 2 > len(ops):
        moved = tuple(_to_device(a) for a in arrays) if move else arrays
        reason = (
            f"{votes} of {len(ops)} ops run faster on GPU-resident data at this size; {copy}, "
            "once, instead of a copy each way on every op"
        )
        return Placement("device", reason, size, nbytes, per_op, moved)
    reason = f"only {votes} of {len(ops)} ops gain from the GPU at this size ({copy})"
    return Placement("host", reason, size, nbytes, per_op, arrays)


def _to_device(a: Any) -> Any:
    cp = gpu.cupy_or_none()
    if cp is None or gpu.is_device_type(type(a)):
        return a
    return cp.asarray(a)
