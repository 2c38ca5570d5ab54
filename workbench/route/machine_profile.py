"""MachineProfile: the numbers the router decides with, and where each came from.

A profile holds the MoE threshold table, the 5x rule's settings and the cost model's
parameters (per-call overhead and per-unit cost of every backend and kernel kind,
conversions between lists and arrays, host<->device transfers). It is a plain dataclass
that saves to and loads from JSON. `provenance` says, per group of numbers, whether they
were measured (on which machine, when) or are the seeds' defaults.

The built-in profile "seed" has the seeds' table, 5x factor and 500 matrix cutoff
(labelled seed-default) and cost parameters measured on a reference machine, labelled
with that machine: they are not this machine's until you measure it
(:func:`workbench.route.measure.measure_profile`).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.atomic import write_atomic
from workbench.errors import RouteError
from workbench.route.kinds import Backend, Complexity

SCHEMA_VERSION = 2  # 2 added key, calibrated and calibration; 1 files still load
SEED_DEFAULT = "seed-default"
MEASURED = "measured"


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


@dataclass(frozen=True)
class MachineProfile:
    """Thresholds, 5x-rule settings and cost parameters, with their provenance.

    `kernels[backend][kind]` is a KernelCost; a backend missing from it cannot be
    predicted (the end-to-end model then leaves it out and says so).
    """

    name: str
    thresholds: Thresholds = SEED_THRESHOLDS
    pcie_factor: float = 5.0
    gpu_threshold: int = 500
    kernels: dict[str, dict[str, KernelCost]] = field(default_factory=dict)
    conversion: Conversion | None = None
    transfer: Transfer | None = None
    machine: str = ""
    date: str = ""
    provenance: dict[str, str] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION
    # What a calibration ran on (cpu, gpu, driver, cuda, numpy, cupy, python, dtype).
    key: dict[str, str] = field(default_factory=dict)
    # Fitted thresholds per "op|residency|device" (device -1: CPU only), from a calibration.
    calibrated: dict[str, Tier] = field(default_factory=dict)
    # The calibration's measurements (workbench.calibrate.Calibration.to_dict), so the
    # tuner can show the curves again without re-running the sweep.
    calibration: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not (self.pcie_factor > 0 and math.isfinite(self.pcie_factor)):
            raise RouteError(f"pcie_factor must be a positive number, got {self.pcie_factor!r}")
        if (
            isinstance(self.gpu_threshold, bool)
            or not isinstance(self.gpu_threshold, int)
            or self.gpu_threshold < 0
        ):
            raise RouteError(
                f"gpu_threshold must be a whole number >= 0, got {self.gpu_threshold!r}"
            )
        for tier in (self.thresholds.low, self.thresholds.medium, self.thresholds.high):
            for value in (tier.simd_above, tier.gpu_above):
                if value is not None and not (value >= 0):
                    raise RouteError(f"thresholds must be sizes >= 0 or None, got {value!r}")

    def tier_for(self, op: str, residency: str, device: int) -> tuple[Tier, str] | None:
        """The calibrated thresholds for an op with data in `residency` on GPU `device`
        (-1: no GPU), falling back to the CPU-only fit; None when not calibrated."""
        for key in (f"{op}|{residency}|{device}", f"{op}|{residency}|-1"):
            tier = self.calibrated.get(key)
            if tier is not None:
                return tier, key
        return None

    def source_of(self, group: str) -> str:
        """Where a group of numbers came from ('thresholds', 'python', 'cupy', ...)."""
        return self.provenance.get(group, "unknown (not recorded in the profile)")

    def kernel(self, backend: Backend, kind: str) -> KernelCost | None:
        """Cost parameters of one backend's kernels of one kind, if the profile has them."""
        return self.kernels.get(backend.value, {}).get(kind)

    def with_thresholds(self, thresholds: Thresholds, source: str) -> MachineProfile:
        """A copy with another MoE table (and its provenance)."""
        return replace(
            self, thresholds=thresholds, provenance={**self.provenance, "thresholds": source}
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MachineProfile:
        """Rebuild a profile from `to_dict` data; RouteError names what is wrong."""
        try:
            schema = int(data.get("schema", SCHEMA_VERSION))
            if schema > SCHEMA_VERSION:
                raise RouteError(
                    f"profile field 'schema' is {schema}, newer than this workbench reads "
                    f"({SCHEMA_VERSION}): upgrade workbench, or calibrate again with this one"
                )
            table = data.get("thresholds") or asdict(SEED_THRESHOLDS)
            thresholds = Thresholds(**{k: Tier(**table[k]) for k in ("low", "medium", "high")})
            kernels = {
                backend: {kind: KernelCost(**cost) for kind, cost in kinds.items()}
                for backend, kinds in (data.get("kernels") or {}).items()
            }
            for backend in kernels:
                Backend.parse(backend)
            conversion = data.get("conversion")
            transfer = data.get("transfer")
            calibrated = {
                str(k): _tier(str(k), v) for k, v in (data.get("calibrated") or {}).items()
            }
            calibration = data.get("calibration")
            if calibration is not None and not isinstance(calibration, dict):
                raise RouteError("profile field 'calibration' must be an object or null")
            return cls(
                name=str(data["name"]),
                thresholds=thresholds,
                pcie_factor=float(data.get("pcie_factor", 5.0)),
                gpu_threshold=int(data.get("gpu_threshold", 500)),
                kernels=kernels,
                conversion=Conversion(**conversion) if conversion else None,
                transfer=Transfer(**transfer) if transfer else None,
                machine=str(data.get("machine", "")),
                date=str(data.get("date", "")),
                provenance={str(k): str(v) for k, v in (data.get("provenance") or {}).items()},
                schema=schema,
                key={str(k): str(v) for k, v in (data.get("key") or {}).items()},
                calibrated=calibrated,
                calibration=calibration,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, RouteError):
                raise
            field_name = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
            where = (
                f"field {field_name!r} is missing" if field_name else f"{type(exc).__name__}: {exc}"
            )
            raise RouteError(f"not a valid machine profile: {where}") from None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the profile as JSON (to a temporary file, then renamed into place)."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        return write_atomic(path, text.encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MachineProfile:
        """Read a profile saved with `save`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise RouteError(f"cannot read machine profile {str(path)!r}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise RouteError(f"machine profile {str(path)!r} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise RouteError(f"machine profile {str(path)!r} must hold a JSON object")
        return cls.from_dict(data)


def _tier(key: str, value: Any) -> Tier:
    """One calibrated row, checked: 'op|residency|device' -> {simd_above, gpu_above}."""
    parts = key.split("|")
    if len(parts) != 3 or parts[1] not in ("python", "host", "device"):
        raise RouteError(
            f"profile field 'calibrated' has key {key!r}: expected 'op|residency|device' "
            "with residency python, host or device"
        )
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


BUILTIN_PROFILES = ("seed",)
_REFERENCE_FILE = "reference_profile.json"


SEED_PROVENANCE = {
    "thresholds": "seed-default (seed 002 threshold table)",
    "pcie_factor": "seed-default (seed 000: compute > 5 x transfer)",
    "gpu_threshold": "seed-default (seed 000: --gpu-threshold 500)",
}


def seed_profile() -> MachineProfile:
    """The seeds' table, 5x factor and 500 cutoff, with reference-machine cost parameters."""
    text = resources.files("workbench.route").joinpath(_REFERENCE_FILE).read_text(encoding="utf-8")
    reference = MachineProfile.from_dict(json.loads(text))
    return replace(
        reference,
        name="seed",
        thresholds=SEED_THRESHOLDS,
        pcie_factor=5.0,
        gpu_threshold=500,
        provenance={**reference.provenance, **SEED_PROVENANCE},
    )


def load_machine_profile(profile: MachineProfile | str | os.PathLike[str] | None) -> MachineProfile:
    """A profile from itself, a built-in name ('seed') or a JSON file path."""
    if profile is None or profile == "seed":
        return seed_profile()
    if isinstance(profile, MachineProfile):
        return profile
    if isinstance(profile, (str, os.PathLike)):
        path = Path(profile)
        if path.suffix.lower() != ".json" and not path.exists():
            raise RouteError(
                f"unknown profile {str(profile)!r}: use {', '.join(BUILTIN_PROFILES)} or a JSON file path"
            )
        loaded = MachineProfile.load(path)
        warn_if_elsewhere(loaded, str(path))
        return loaded
    raise RouteError(
        f"profile must be a MachineProfile, a name or a path, got {type(profile).__name__}"
    )


class ProfileMismatchWarning(UserWarning):
    """A machine profile was measured on another machine or with other versions."""


def warn_if_elsewhere(profile: MachineProfile, where: str) -> None:
    """Warn, naming each field, when a calibrated profile's key is not this machine's."""
    if not profile.key:
        return
    from workbench.machine import differences

    diffs = differences(profile.key)
    if diffs:
        warnings.warn(
            f"machine profile {where!r} was measured elsewhere or with other versions "
            f"({'; '.join(diffs)}): its thresholds may not fit this machine; "
            "run `workbench calibrate` here for ones that do",
            ProfileMismatchWarning,
            stacklevel=3,
        )
