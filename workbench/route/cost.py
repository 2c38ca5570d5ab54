"""Two cost models over one MachineProfile.

* The seeds' 5x rule (seed 000, after Gregg & Hazelwood 2011, as batuta writes it): GPU
  only when the GPU's compute time (work over its throughput) exceeds `pcie_factor` times
  the time to move the data over the host<->device link; for matrix ops the matrix must
  also reach `gpu_threshold` on a side. Data already on the device moves nothing.
* The end-to-end model: what the caller pays on each backend, as per-call overhead plus
  moving the inputs to the backend (list<->array conversion, host<->device copies), the
  kernel, and moving the result to where the caller expects it. The cheapest wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.route.kinds import Backend, Complexity, Location
from workbench.route.machine_profile import MachineProfile


@dataclass(frozen=True)
class Workload:
    """One call, as the cost models see it."""

    op: str
    complexity: Complexity
    kind: str
    size: int  # elements of the largest operand (the seeds' data_size)
    n_in: int  # elements of all array operands
    bytes_in: int
    arrays_in: int
    n_out: int
    bytes_out: int
    work: int  # kernel units: elements, or multiply-adds for matrix kinds
    matrix_side: int
    residency: Location
    placement: Location


@dataclass(frozen=True)
class Prediction:
    """Predicted seconds on one backend: moving in, the kernel, moving out."""

    backend: Backend
    move_in_s: float
    compute_s: float
    move_out_s: float

    @property
    def total_s(self) -> float:
        """All three together: what the caller waits."""
        return self.move_in_s + self.compute_s + self.move_out_s


@dataclass(frozen=True)
class RuleVerdict:
    """The 5x rule's answer with its two numbers (None where the profile lacks them)."""

    use_gpu: bool
    compute_s: float | None
    transfer_s: float | None
    reason: str


class CostModel:
    """Predictions from a MachineProfile's parameters."""

    def __init__(self, profile: MachineProfile) -> None:
        self.profile = profile

    def missing(self, w: Workload, backend: Backend) -> str | None:
        """What the profile lacks to predict `backend` for `w`, or None."""
        p = self.profile
        if p.kernel(backend, w.kind) is None:
            return f"the profile has no {backend.label} cost for {w.kind} kernels"
        needs_transfer = backend is Backend.CUPY and (
            w.residency is not Location.DEVICE or w.placement is not Location.DEVICE
        )
        needs_transfer |= backend is not Backend.CUPY and Location.DEVICE in (
            w.residency,
            w.placement,
        )
        if needs_transfer and p.transfer is None:
            return "the profile has no host<->device transfer measurement"
        if p.conversion is None:
            return "the profile has no list<->array conversion costs"
        return None

    def _h2d(self, nbytes: int, arrays: int) -> float:
        t = self.profile.transfer
        assert t is not None  # checked by missing()
        return arrays * t.latency_s + nbytes / t.h2d_bytes_per_s

    def _d2h(self, nbytes: int, arrays: int) -> float:
        t = self.profile.transfer
        assert t is not None  # checked by missing()
        return arrays * t.latency_s + nbytes / t.d2h_bytes_per_s

    def predict(self, w: Workload, backend: Backend) -> Prediction | None:
        """End-to-end seconds on `backend`, or None when the profile cannot say."""
        if self.missing(w, backend) is not None:
            return None
        conv = self.profile.conversion
        kernel = self.profile.kernel(backend, w.kind)
        assert conv is not None and kernel is not None  # checked by missing()
        res, out = w.residency, w.placement
        compute = kernel.time(w.work)
        # Moving in: lists and arrays convert; data on the wrong side of the link is copied.
        if backend is Backend.PYTHON:
            # lists are read as they are (the idiomatic kernels); arrays go through tolist
            move_in = 0.0 if res is Location.PYTHON else conv.tolist_s * w.n_in
            move_out = 0.0 if out is Location.PYTHON else conv.fromlist_s * w.n_out
        elif backend is Backend.NUMPY:
            move_in = conv.fromlist_s * w.n_in if res is Location.PYTHON else 0.0
            move_out = conv.tolist_s * w.n_out if out is Location.PYTHON else 0.0
        else:
            move_in = conv.fromlist_s * w.n_in if res is Location.PYTHON else 0.0
            move_out = conv.tolist_s * w.n_out if out is Location.PYTHON else 0.0
        if backend is Backend.PYTHON:
            if res is not Location.PYTHON or out is not Location.PYTHON:
                move_in += conv.array_call_s
        elif res is Location.PYTHON:
            move_in += conv.fromlist_call_s * w.arrays_in
        on_device = backend is Backend.CUPY
        if (res is Location.DEVICE) != on_device:
            move_in += (
                self._d2h(w.bytes_in, w.arrays_in)
                if on_device is False
                else self._h2d(w.bytes_in, w.arrays_in)
            )
        if (out is Location.DEVICE) != on_device:
            move_out += (
                self._h2d(w.bytes_out, 1) if on_device is False else self._d2h(w.bytes_out, 1)
            )
        return Prediction(backend, move_in, compute, move_out)

    def pcie_rule(self, w: Workload) -> RuleVerdict:
        """Seed 000's rule: GPU when GPU compute time > pcie_factor x transfer time."""
        p = self.profile
        kernel = p.kernel(Backend.CUPY, w.kind)
        if kernel is None:
            return RuleVerdict(
                False, None, None, f"the profile has no GPU throughput for {w.kind} kernels"
            )
        compute = kernel.per_unit_s * w.work
        moved_in = w.bytes_in if w.residency is not Location.DEVICE else 0
        moved_out = w.bytes_out if w.placement is not Location.DEVICE else 0
        if moved_in or moved_out:
            if p.transfer is None:
                return RuleVerdict(
                    False, compute, None, "the profile has no host<->device bandwidth"
                )
            transfer = (
                moved_in / p.transfer.h2d_bytes_per_s + moved_out / p.transfer.d2h_bytes_per_s
            )
        else:
            transfer = 0.0
        if w.matrix_side and w.matrix_side < p.gpu_threshold:
            return RuleVerdict(
                False,
                compute,
                transfer,
                f"matrix side {w.matrix_side} is under gpu_threshold {p.gpu_threshold}",
            )
        factor = p.pcie_factor
        verdict = compute > factor * transfer
        relation = ">" if verdict else "<="
        where = "" if transfer else " (nothing to move: the data already lives on the device)"
        return RuleVerdict(
            verdict,
            compute,
            transfer,
            f"GPU compute {_fmt(compute)} {relation} {factor:g} x transfer {_fmt(transfer)}{where}",
        )


def _fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.3g} us"
    return f"{seconds * 1e9:.3g} ns"


def fmt_seconds(seconds: float | None) -> str:
    """Seconds in the unit that reads best ('-' for unknown)."""
    return "-" if seconds is None else _fmt(seconds)
