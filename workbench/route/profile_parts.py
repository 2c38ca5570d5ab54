"""The parts of a machine profile (the MoE table's tiers, kernel costs, copies between
host and device, list<->array conversions) and their checked readers from JSON: every
value is checked where it is read (profile_fields.py), and anything wrong is one
RouteError naming the field. machine_profile.py puts them together."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from workbench.errors import RouteError
from workbench.route import profile_fields as f
from workbench.route.kinds import Backend, Complexity


@dataclass(frozen=True)
class Tier:
    """One row of the MoE table: SIMD above `simd_above` elements, GPU above `gpu_above`
    (None: never)."""

    simd_above: float | None
    gpu_above: float | None


@dataclass(frozen=True)
class Thresholds:
    """The MoE table of seed 002, or any other one with the same shape."""

    low: Tier
    medium: Tier
    high: Tier

    def tier(self, complexity: Complexity) -> Tier:
        """The row for one complexity."""
        return {
            Complexity.LOW: self.low,
            Complexity.MEDIUM: self.medium,
            Complexity.HIGH: self.high,
        }[complexity]


SEED_THRESHOLDS = Thresholds(
    low=Tier(simd_above=1_000_000, gpu_above=None),
    medium=Tier(simd_above=10_000, gpu_above=100_000),
    high=Tier(simd_above=1_000, gpu_above=10_000),
)


@dataclass(frozen=True)
class KernelCost:
    """Seconds per call, plus seconds per unit of work (element or multiply-add)."""

    call_s: float
    per_unit_s: float

    def time(self, units: float) -> float:
        """Predicted seconds for `units` of work."""
        return self.call_s + self.per_unit_s * units


@dataclass(frozen=True)
class Transfer:
    """Host<->device copies: a fixed latency per array plus bytes over bandwidth."""

    h2d_bytes_per_s: float
    d2h_bytes_per_s: float
    latency_s: float
    # 'staged' (through pinned buffers, workbench.gpu.pinned) where calibration found it
    # faster than a plain copy, for arrays of `stage_above` bytes or more.
    h2d_method: str = "pageable"
    d2h_method: str = "pageable"
    stage_above: int = 16 * 2**20
    stage_threads: int = 4


@dataclass(frozen=True)
class Conversion:
    """Per-element costs of moving between Python lists and NumPy arrays."""

    tolist_s: float  # ndarray.tolist(), per element
    fromlist_s: float  # numpy.asarray(list), per element
    flatten_s: float  # nested lists to a flat list and shape, per element
    fromlist_call_s: float = 0.0  # numpy.asarray(list), per list
    array_call_s: float = 0.0  # the pure-Python path's extra cost per call for array operands


def _tier_key(key: str, field: str) -> None:
    parts = key.split("|")
    if len(parts) != 3 or parts[1] not in ("python", "host", "device"):
        raise RouteError(
            f"profile field {field!r} has key {key!r}: expected 'op|residency|device' "
            "with residency python, host or device"
        )
    try:
        int(parts[2])
    except ValueError:
        raise RouteError(
            f"profile field {field!r} has key {key!r}: the device must be a GPU index or -1"
        ) from None


def tier_of(key: str, value: Any) -> Tier:
    """One calibrated row, checked: 'op|residency|device' -> {simd_above, gpu_above}."""
    _tier_key(key, "calibrated")
    if not isinstance(value, dict) or set(value) != {"simd_above", "gpu_above"}:
        raise RouteError(
            f"profile field 'calibrated.{key}' must be an object with simd_above and gpu_above"
        )
    for name in ("simd_above", "gpu_above"):
        number = value[name]
        if number is not None and (
            isinstance(number, bool)
            or not isinstance(number, (int, float))
            or not math.isfinite(number)
            or number < 0
        ):
            raise RouteError(
                f"profile field 'calibrated.{key}.{name}' must be a size >= 0 or null, got {number!r}"
            )
    return Tier(simd_above=value["simd_above"], gpu_above=value["gpu_above"])


def row_of(table: dict[str, Any], name: str) -> Tier:
    row = f.mapping(f.get(table, name, f"thresholds.{name}"), f"thresholds.{name}")
    f.only(row, f"thresholds.{name}", ("simd_above", "gpu_above"))
    return Tier(
        simd_above=f.size_or_none(row.get("simd_above"), f"thresholds.{name}.simd_above"),
        gpu_above=f.size_or_none(row.get("gpu_above"), f"thresholds.{name}.gpu_above"),
    )


def kernels_of(value: Any) -> dict[str, dict[str, KernelCost]]:
    out: dict[str, dict[str, KernelCost]] = {}
    for backend, kinds in f.mapping(value, "kernels").items():
        where = f"kernels.{backend}"
        try:
            Backend.parse(backend)
        except RouteError:
            raise f.bad("kernels", "an object keyed by python, numpy or cupy", backend) from None
        out[backend] = {}
        for kind, cost in f.mapping(kinds, where).items():
            item = f.mapping(cost, f"{where}.{kind}")
            f.only(item, f"{where}.{kind}", ("call_s", "per_unit_s"))
            out[backend][kind] = KernelCost(
                call_s=f.number(
                    f.get(item, "call_s", f"{where}.{kind}.call_s"), f"{where}.{kind}.call_s"
                ),
                per_unit_s=f.number(
                    f.get(item, "per_unit_s", f"{where}.{kind}.per_unit_s"),
                    f"{where}.{kind}.per_unit_s",
                ),
            )
    return out


_CONVERSION_REQUIRED = ("tolist_s", "fromlist_s", "flatten_s")
_CONVERSION_OPTIONAL = ("fromlist_call_s", "array_call_s")


def conversion_of(value: Any) -> Conversion | None:
    if value is None:
        return None
    data = f.mapping(value, "conversion")
    f.only(data, "conversion", _CONVERSION_REQUIRED + _CONVERSION_OPTIONAL)
    numbers = {
        name: f.number(f.get(data, name, f"conversion.{name}"), f"conversion.{name}")
        for name in _CONVERSION_REQUIRED
    }
    for name in _CONVERSION_OPTIONAL:
        numbers[name] = f.number(data.get(name, 0.0), f"conversion.{name}")
    return Conversion(**numbers)


COPY_METHODS = ("pageable", "staged")


def transfer_of(value: Any) -> Transfer | None:
    if value is None:
        return None
    data = f.mapping(value, "transfer")
    names = ("h2d_bytes_per_s", "d2h_bytes_per_s", "latency_s", "h2d_method", "d2h_method")
    f.only(data, "transfer", (*names, "stage_above", "stage_threads"))
    return Transfer(
        h2d_bytes_per_s=f.number(
            f.get(data, "h2d_bytes_per_s", "transfer.h2d_bytes_per_s"),
            "transfer.h2d_bytes_per_s",
            positive=True,
        ),
        d2h_bytes_per_s=f.number(
            f.get(data, "d2h_bytes_per_s", "transfer.d2h_bytes_per_s"),
            "transfer.d2h_bytes_per_s",
            positive=True,
        ),
        latency_s=f.number(f.get(data, "latency_s", "transfer.latency_s"), "transfer.latency_s"),
        h2d_method=f.choice(
            data.get("h2d_method", "pageable"), "transfer.h2d_method", COPY_METHODS
        ),
        d2h_method=f.choice(
            data.get("d2h_method", "pageable"), "transfer.d2h_method", COPY_METHODS
        ),
        stage_above=f.whole(data.get("stage_above", 16 * 2**20), "transfer.stage_above"),
        stage_threads=f.whole(data.get("stage_threads", 4), "transfer.stage_threads", minimum=1),
    )


def plain_of(key: str, value: Any) -> float | None:
    """One host-data threshold for plain cupy.asarray copies: 'op|host|device' -> size."""
    _tier_key(key, "plain_copy")
    return f.size_or_none(value, f"plain_copy.{key}")
