"""What the tuner edits, without any widget: a fit's curves and the user's thresholds.

`TunerState` holds a calibration's fit (curves, fitted thresholds), the seed table's rows
and the thresholds being edited, one Tier per group (op, residency, device; device -1 is
CPU only). It scores any of them against the oracle with the fit's own `regret`, so the
numbers the widget shows are the ones `Fit.regret_table()` would give. Nothing here
imports ipywidgets or plotly, so every callback's logic is testable on its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeAlias

from workbench.calibration.families import RESIDENCIES
from workbench.calibration.fit import (
    Curves,
    Fit,
    GroupKey,
    Regret,
    fit,
    geo_mean_regret,
    regret,
    seed_tier,
)
from workbench.calibration.result import CPU, Calibration
from workbench.errors import RouteError, WorkbenchError
from workbench.route.experts import Gated
from workbench.route.machine_profile import MachineProfile, Tier, seed_profile
from workbench.ui.tuner.functions import FunctionGroup, function_groups

Source: TypeAlias = "Calibration | Fit | MachineProfile | str | os.PathLike[str]"

# How a threshold is set: switched off, at the slider's size, or at every size.
NEVER, AT, ALWAYS = "never", "at", "always"
MODES = (NEVER, AT, ALWAYS)


class TunerError(WorkbenchError):
    """The tuner was given something it cannot show: no calibration data, or bad input."""


def _no_data(what: str) -> TunerError:
    return TunerError(
        f"{what} has no calibration data to tune: run `cal = workbench.calibrate()` "
        "(or `workbench calibrate` in a terminal) and pass the Calibration, its fit, or the "
        "profile it saves to Tuner(...)"
    )


def _calibration_of(profile: MachineProfile, where: str) -> Calibration:
    if profile.calibration is None:
        raise _no_data(f"machine profile {where}")
    try:
        return Calibration.from_dict(profile.calibration)
    except (KeyError, TypeError, ValueError) as exc:
        raise TunerError(
            f"machine profile {where} holds calibration data this workbench cannot read "
            f"({type(exc).__name__}: {exc}): run calibrate again and save a new profile"
        ) from None


def _group_key(text: str) -> GroupKey:
    """'op|residency|device' as a GroupKey (the profile's `calibrated` keys)."""
    op, residency, device = text.split("|")
    try:
        return op, residency, int(device)
    except ValueError:
        raise TunerError(
            f"profile key {text!r} has device {device!r}: expected a GPU index or -1"
        ) from None


def load_source(source: Source) -> tuple[Fit, dict[GroupKey, Tier], MachineProfile | None]:
    """The fit to show, the thresholds to start from and the profile to save over.

    A Calibration is fitted; a Fit is used as it is; a MachineProfile (or the path of
    one) is refitted from the measurements it carries and starts from its own
    thresholds, so a saved profile opens with the edits it was saved with.
    """
    profile: MachineProfile | None = None
    if isinstance(source, Fit):
        result = source
    elif isinstance(source, Calibration):
        result = fit(source)
    elif isinstance(source, MachineProfile):
        profile = source
        result = fit(_calibration_of(source, repr(source.name)))
    elif isinstance(source, (str, os.PathLike)):
        profile = MachineProfile.load(source)
        result = fit(_calibration_of(profile, repr(str(source))))
    else:
        raise TunerError(
            "Tuner needs a Calibration, a Fit, a MachineProfile or the path of a profile "
            f"JSON file, got {type(source).__name__}"
        )
    if not result.curves:
        raise TunerError(
            f"the calibration has no timed points ({result.calibration.summary()}): "
            "run calibrate again with a larger budget_s"
        )
    start = dict(result.tiers)
    if profile is not None:
        saved = {_group_key(k): t for k, t in profile.calibrated.items()}
        start.update({k: t for k, t in saved.items() if k in result.curves})
    return result, start, profile


def python_mode(tier: Tier) -> tuple[str, float | None]:
    """The pure-Python threshold as (mode, size): never (0), up to a size, always (None)."""
    if tier.simd_above is None:
        return ALWAYS, None
    if tier.simd_above == 0:
        return NEVER, None
    return AT, float(tier.simd_above)


def cupy_mode(tier: Tier) -> tuple[str, float | None]:
    """The CuPy threshold as (mode, size): never (None), above a size, always (0)."""
    if tier.gpu_above is None:
        return NEVER, None
    if tier.gpu_above == 0:
        return ALWAYS, None
    return AT, float(tier.gpu_above)


def with_python(tier: Tier, mode: str, size: float) -> Tier:
    """`tier` with its pure-Python threshold set by mode (the size is used with AT)."""
    return replace(tier, simd_above=_pick(mode, {NEVER: 0.0, AT: size, ALWAYS: None}))


def with_cupy(tier: Tier, mode: str, size: float) -> Tier:
    """`tier` with its CuPy threshold set by mode (the size is used with AT)."""
    return replace(tier, gpu_above=_pick(mode, {NEVER: None, AT: size, ALWAYS: 0.0}))


def _pick(mode: str, values: dict[str, float | None]) -> float | None:
    if mode not in values:
        raise TunerError(f"unknown threshold mode {mode!r}: use one of {', '.join(MODES)}")
    return values[mode]


def _order(key: GroupKey, ops: list[str]) -> tuple[int, int, int]:
    op, residency, device = key
    rank = RESIDENCIES.index(residency) if residency in RESIDENCIES else len(RESIDENCIES)
    return ops.index(op), rank, device


@dataclass
class TunerState:
    """The groups to tune (a fit's op families and gated functions), their baselines
    (the seed table; for functions, the reference expert everywhere) and the thresholds
    being edited, per group."""

    fit: Fit | None
    tiers: dict[GroupKey, Tier]
    costs: MachineProfile | None = None
    edited: set[GroupKey] = field(default_factory=set)
    functions: dict[GroupKey, FunctionGroup] = field(default_factory=dict)
    # geo-mean regret of the fitted and seed tables: fixed until the measurements change
    _fixed: dict[str, float] = field(default_factory=dict, repr=False)
    _curves: dict[GroupKey, Curves] = field(default_factory=dict, repr=False)
    # the last size each threshold had per group ('python' or 'cupy'), for a slider whose
    # mode goes back from never/always to a size
    _last_at: dict[tuple[GroupKey, str], float] = field(default_factory=dict, repr=False)

    @classmethod
    def from_source(
        cls,
        source: Source | None,
        costs: MachineProfile | None = None,
        gates: Sequence[Gated] = (),
    ) -> TunerState:
        """A state for any source `load_source` reads (or none) and gated functions;
        `costs` overrides the profile's."""
        if source is None and not gates:
            raise TunerError("Tuner needs a calibration, a profile or a gated function to tune")
        result, start, profile = load_source(source) if source is not None else (None, {}, None)
        state = cls(result, start, costs if costs is not None else profile)
        for gate in gates:
            state.add_function(gate)
        return state

    def add_function(self, gate: Gated) -> None:
        """Tune a gated function too (its groups start from thresholds tuned before)."""
        groups = _function_groups(gate)
        if not groups:
            raise TunerError(
                f"{gate.qualname} has no timings yet: call it in your loop, or sweep it with "
                "workbench.calibrate(f, inputs=lambda n: ..., sizes=[...]), then tune it"
            )
        for key in [k for k in self.functions if k[0] == gate.qualname]:
            del self.functions[key]
        self.functions.update(groups)
        for key, group in groups.items():
            self.tiers[key] = self.tiers[key] if key in self.edited else group.start
        self._changed()

    def _changed(self) -> None:
        self._fixed.clear()
        self._curves = {**(self.fit.curves if self.fit is not None else {})}
        self._curves.update({k: g.curves for k, g in self.functions.items()})

    # --- what there is ---------------------------------------------------------------

    @property
    def curves(self) -> Mapping[GroupKey, Curves]:
        if not self._curves:
            self._changed()
        return self._curves

    def is_function(self, key: GroupKey) -> bool:
        return key in self.functions

    def groups(self) -> list[GroupKey]:
        """Every group with curves: ops in sweep order, then residency, CPU-only first;
        then the gated functions."""
        ops = list(dict.fromkeys(p.op for p in self.fit.calibration.points)) if self.fit else []
        ops += [k[0] for k in self.curves if k[0] not in ops]
        return sorted(self.curves, key=lambda k: (self.is_function(k), *_order(k, ops)))

    def ops(self) -> list[str]:
        return list(dict.fromkeys(k[0] for k in self.groups()))

    def residencies(self, op: str) -> list[str]:
        return list(dict.fromkeys(k[1] for k in self.groups() if k[0] == op))

    def devices(self, op: str, residency: str) -> list[int]:
        return [k[2] for k in self.groups() if k[0] == op and k[1] == residency]

    def gpu_names(self) -> dict[int, str]:
        """GPU index -> name, from the calibration's machine key ('0: name, 1: name')."""
        names: dict[int, str] = {}
        if self.fit is None:
            return names
        for part in self.fit.calibration.key.gpu.split(", "):
            index, sep, name = part.partition(": ")
            if sep and index.strip().isdigit():
                names[int(index)] = name.strip()
        return names

    def has_gpu(self, key: GroupKey) -> bool:
        """Whether the group has a CuPy curve (its CuPy threshold matters)."""
        return key[2] != CPU and "cupy" in self.curves[key].backends()

    # --- the tables --------------------------------------------------------------------

    def fitted(self, key: GroupKey) -> Tier:
        if key in self.functions:
            return self.functions[key].fitted
        assert self.fit is not None
        return self.fit.tiers[key]

    def fitted_tiers(self) -> dict[GroupKey, Tier]:
        return {k: self.fitted(k) for k in self.curves}

    def seed(self, key: GroupKey) -> Tier:
        """The baseline: the seed table's row, or a function's reference everywhere."""
        if key in self.functions:
            return self.functions[key].baseline
        return seed_tier(key[0])

    def baseline_name(self, key: GroupKey) -> str:
        return "reference only" if key in self.functions else "seed table"

    def seed_tiers(self) -> dict[GroupKey, Tier]:
        return {k: self.seed(k) for k in self.curves}

    def set_tier(self, key: GroupKey, tier: Tier) -> None:
        """A hand edit of one group's thresholds."""
        if key not in self.curves:
            raise TunerError(f"no measurements for {key!r}: pick one of the listed groups")
        self.tiers[key] = tier
        self.edited.add(key)
        self.remember(key, tier)

    def remember(self, key: GroupKey, tier: Tier) -> None:
        """Keep the sizes of `tier`'s thresholds that are set at a size."""
        for which, (mode, size) in (("python", python_mode(tier)), ("cupy", cupy_mode(tier))):
            if mode == AT and size is not None:
                self._last_at[key, which] = size

    def last_size(self, key: GroupKey, which: str) -> float | None:
        """The size the group's 'python' or 'cupy' threshold was last set at, if any."""
        return self._last_at.get((key, which))

    def use_fitted(self) -> None:
        """Every group back to the fitted thresholds."""
        self.tiers.update(self.fitted_tiers())
        self.edited.clear()

    def use_seed(self) -> None:
        """Every group to its baseline (the seed table's row for an op)."""
        self.tiers.update(self.seed_tiers())
        self.edited = set(self.functions)  # a function reset by hand is an edit to save

    def replace_fit(self, new: Fit) -> None:
        """New op measurements: the new fitted thresholds, except groups edited by hand."""
        kept = {k: self.tiers[k] for k in self.edited if k in new.curves or k in self.functions}
        self.fit = new
        functions = {k: self.tiers[k] for k in self.functions}
        self.tiers = {**new.tiers, **functions, **kept}
        self.edited = set(kept)
        self._changed()

    # --- scores ------------------------------------------------------------------------

    def group_regret(self, key: GroupKey, tier: Tier | None = None) -> Regret:
        """Regret of `tier` (default: the current one) on the group's curves."""
        return regret(self.curves[key], tier if tier is not None else self.tiers[key])

    def table_regret(self) -> dict[str, float]:
        """Geometric-mean regret over every group: current, fitted and baseline tables."""
        if not self._fixed:
            self._fixed["fitted"] = geo_mean_regret(self.curves, self.fitted_tiers())
            self._fixed["seed"] = geo_mean_regret(self.curves, self.seed_tiers())
        return {"current": geo_mean_regret(self.curves, self.tiers), **self._fixed}

    # --- saving ------------------------------------------------------------------------

    def apply(self) -> None:
        """Hand-edited function thresholds go to their gates now (this kernel uses them)."""
        for key in self.edited:
            group = self.functions.get(key)
            if group is not None:
                group.gate.tune(group.where, self.tiers[key], group.device)

    def profile(self, name: str = "tuned") -> MachineProfile:
        """A MachineProfile with the current thresholds, the measurements and the cost
        parameters of the source profile (the reference machine's otherwise), and what
        each gated function learned, with thresholds edited here."""
        if self.fit is not None:
            ops = {k: t for k, t in self.tiers.items() if k in self.fit.curves}
            profile = replace(self.fit, tiers=ops).profile(name, self.costs)
        else:
            profile = replace(self.costs or seed_profile(), name=name)
        self.apply()
        gates = {g.gate.qualname: g.gate for g in self.functions.values()}
        records = {qualname: gate.record() for qualname, gate in gates.items()}
        return replace(profile, functions={**profile.functions, **records})

    def save(self, path: str | os.PathLike[str], name: str | None = None) -> Path:
        """Write the profile (atomically: a temporary file renamed into place), keeping
        what other functions saved in a profile already there."""
        target = Path(path)
        if target.suffix.lower() != ".json":
            raise TunerError(f"save the profile as a .json file, got {str(path)!r}")
        if target.is_dir():
            raise TunerError(f"{str(path)!r} is a folder: give a file name ending in .json")
        profile = self.profile(name or target.stem)
        if target.exists():
            try:
                there = MachineProfile.load(target).functions
            except RouteError:
                there = {}
            profile = replace(profile, functions={**there, **profile.functions})
        return profile.save(target)


def _function_groups(gate: Gated) -> dict[GroupKey, FunctionGroup]:
    try:
        return function_groups(gate)
    except WorkbenchError as exc:
        raise TunerError(str(exc)) from None
