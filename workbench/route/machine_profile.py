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
from workbench.route import profile_fields as f
from workbench.route.kinds import Backend, Complexity

# 2 added key, calibrated and calibration; 3 added plain_copy and functions. Older files load.
SCHEMA_VERSION = 3
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
    # Host-data "CuPy above" per "op|host|device" when copies are plain cupy.asarray (the
    # `calibrated` tiers hold it for the router's own copies, staged where that is faster).
    plain_copy: dict[str, float | None] = field(default_factory=dict)
    # What gated functions learned here (workbench.experts), by qualified name: the
    # records route/learned.py writes and checks (source hash, machine key, buckets).
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        # Built in code rather than read from a file: the same checks as from_dict.
        if self.transfer is not None:
            f.number(self.transfer.h2d_bytes_per_s, "transfer.h2d_bytes_per_s", positive=True)
            f.number(self.transfer.d2h_bytes_per_s, "transfer.d2h_bytes_per_s", positive=True)
            f.number(self.transfer.latency_s, "transfer.latency_s")
        for backend, kinds in self.kernels.items():
            for kind, cost in kinds.items():
                f.number(cost.call_s, f"kernels.{backend}.{kind}.call_s")
                f.number(cost.per_unit_s, f"kernels.{backend}.{kind}.per_unit_s")

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
        """Rebuild a profile from `to_dict` data, every field checked: RouteError names
        the first field that is wrong and what it must be."""
        data = f.mapping(data, "profile")
        schema = f.whole(f.get(data, "schema", "schema", SCHEMA_VERSION), "schema", minimum=1)
        if schema > SCHEMA_VERSION:
            raise RouteError(
                f"profile field 'schema' is {schema}, newer than this workbench reads "
                f"({SCHEMA_VERSION}): upgrade workbench, or calibrate again with this one"
            )
        table = f.mapping(f.get(data, "thresholds", "thresholds", None), "thresholds")
        rows = {k: _row(table, k) for k in ("low", "medium", "high")} if table else None
        calibration = data.get("calibration")
        if calibration is not None and not isinstance(calibration, dict):
            raise RouteError("profile field 'calibration' must be an object or null")
        functions = f.mapping(data.get("functions"), "functions")
        for qualname, record in functions.items():
            f.mapping(record, f"functions.{qualname}")
        return cls(
            name=f.text(f.get(data, "name", "name"), "name"),
            thresholds=Thresholds(**rows) if rows else SEED_THRESHOLDS,
            pcie_factor=f.number(data.get("pcie_factor", 5.0), "pcie_factor", positive=True),
            gpu_threshold=f.whole(data.get("gpu_threshold", 500), "gpu_threshold"),
            kernels=_kernels(data.get("kernels")),
            conversion=_conversion(data.get("conversion")),
            transfer=_transfer(data.get("transfer")),
            machine=f.text(data.get("machine", ""), "machine"),
            date=f.text(data.get("date", ""), "date"),
            provenance=f.texts(data.get("provenance"), "provenance"),
            schema=schema,
            key=f.texts(data.get("key"), "key"),
            calibrated={
                k: _tier(k, v) for k, v in f.mapping(data.get("calibrated"), "calibrated").items()
            },
            plain_copy={
                k: _plain(k, v) for k, v in f.mapping(data.get("plain_copy"), "plain_copy").items()
            },
            calibration=calibration,
            functions={k: dict(v) for k, v in functions.items()},
        )

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
        except UnicodeDecodeError as exc:
            raise RouteError(
                f"machine profile {str(path)!r} is not UTF-8 text ({exc.reason} at byte "
                f"{exc.start}): is it a profile saved by workbench?"
            ) from None
        except json.JSONDecodeError as exc:
            raise RouteError(f"machine profile {str(path)!r} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise RouteError(f"machine profile {str(path)!r} must hold a JSON object")
        return cls.from_dict(data)


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


def _tier(key: str, value: Any) -> Tier:
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


def _row(table: dict[str, Any], name: str) -> Tier:
    row = f.mapping(f.get(table, name, f"thresholds.{name}"), f"thresholds.{name}")
    f.only(row, f"thresholds.{name}", ("simd_above", "gpu_above"))
    return Tier(
        simd_above=f.size_or_none(row.get("simd_above"), f"thresholds.{name}.simd_above"),
        gpu_above=f.size_or_none(row.get("gpu_above"), f"thresholds.{name}.gpu_above"),
    )


def _kernels(value: Any) -> dict[str, dict[str, KernelCost]]:
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


def _conversion(value: Any) -> Conversion | None:
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


def _transfer(value: Any) -> Transfer | None:
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


def _plain(key: str, value: Any) -> float | None:
    """One host-data threshold for plain cupy.asarray copies: 'op|host|device' -> size."""
    _tier_key(key, "plain_copy")
    return f.size_or_none(value, f"plain_copy.{key}")


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
