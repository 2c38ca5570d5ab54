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
from workbench.route.kinds import Backend
from workbench.route.profile_parts import (
    SEED_THRESHOLDS,
    Conversion,
    KernelCost,
    Thresholds,
    Tier,
    Transfer,
    conversion_of,
    kernels_of,
    plain_of,
    row_of,
    tier_of,
    transfer_of,
)

__all__ = [
    "MEASURED",
    "SCHEMA_VERSION",
    "SEED_DEFAULT",
    "SEED_PROVENANCE",
    "SEED_THRESHOLDS",
    "Conversion",
    "KernelCost",
    "MachineProfile",
    "ProfileMismatchWarning",
    "Thresholds",
    "Tier",
    "Transfer",
    "load_machine_profile",
    "seed_profile",
    "warn_if_elsewhere",
]

# 2 added key, calibrated and calibration; 3 added plain_copy and functions. Older files load.
SCHEMA_VERSION = 3
SEED_DEFAULT = "seed-default"
MEASURED = "measured"


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
        rows = {k: row_of(table, k) for k in ("low", "medium", "high")} if table else None
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
            kernels=kernels_of(data.get("kernels")),
            conversion=conversion_of(data.get("conversion")),
            transfer=transfer_of(data.get("transfer")),
            machine=f.text(data.get("machine", ""), "machine"),
            date=f.text(data.get("date", ""), "date"),
            provenance=f.texts(data.get("provenance"), "provenance"),
            schema=schema,
            key=f.texts(data.get("key"), "key"),
            calibrated={
                k: tier_of(k, v) for k, v in f.mapping(data.get("calibrated"), "calibrated").items()
            },
            plain_copy={
                k: plain_of(k, v)
                for k, v in f.mapping(data.get("plain_copy"), "plain_copy").items()
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
