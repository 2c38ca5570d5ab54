"""The three policies (seed table, 5x rule, end-to-end model) and the explanation builder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from workbench.gpu import GpuStatus
from workbench.route import shapes as sh
from workbench.route.cost import CostModel, Prediction, RuleVerdict, Workload, fmt_seconds
from workbench.route.explain import Explanation
from workbench.route.kinds import Backend, Complexity, Location
from workbench.route.machine_profile import MachineProfile
from workbench.route.operands import Desc, ListTag, SubTag, is_number
from workbench.route.operands import itemsize as bytes_per
from workbench.route.ops import OpSpec
from workbench.route.pyops import PYTHON_KINDS, python_limits
from workbench.route.selector import table_choice


class RouterView(Protocol):
    """What the policies read from a Router (policy.py does not import router.py)."""

    profile: MachineProfile
    model: CostModel
    policy: str

    @property
    def gpu_status(self) -> GpuStatus: ...

    @property
    def device_index(self) -> int: ...

    def machine(self) -> str: ...


def workload_of(
    spec: OpSpec,
    desc: Sequence[Desc],
    params: sh.Params,
    residency: Location,
    placement: Location,
) -> Workload:
    """The cost models' view of one call (shapes checked here, RouteError if they clash)."""
    assert spec.analyze is not None
    analysis = spec.analyze([d[0] for d in desc], params, spec.name)
    arrays = [(sh.size_of(shape), bytes_per(d)) for shape, d in desc if not is_number(d)]
    itemsize = max((i for _, i in arrays), default=8)
    n_out = sh.size_of(analysis.out_shape)
    return Workload(
        op=spec.name,
        complexity=spec.complexity,
        kind=spec.kind,
        size=max((n for n, _ in arrays), default=1),
        n_in=sum(n for n, _ in arrays),
        bytes_in=sum(n * i for n, i in arrays),
        arrays_in=len(arrays),
        n_out=n_out,
        bytes_out=n_out * itemsize,
        work=analysis.work,
        matrix_side=analysis.matrix_side,
        residency=residency,
        placement=placement,
    )


def exclusions_of(
    spec: OpSpec, desc: Sequence[Desc], params: sh.Params, status: GpuStatus
) -> dict[Backend, str]:
    """Backends that cannot run this call, each with the reason."""
    out: dict[Backend, str] = {}
    if not status.available:
        out[Backend.CUPY] = f"no GPU: {status.reason}"
    accumulates = spec.kind in ("reduce", "matmul", "convolve", "einsum")
    for _, d in desc:
        if isinstance(d, SubTag):
            name = f"{d.cls.__module__}.{d.cls.__qualname__}"
            out[Backend.PYTHON] = f"a {name} (an ndarray subclass): NumPy keeps its semantics"
            out.setdefault(Backend.CUPY, f"a {name}: CuPy would drop what makes it one")
        elif isinstance(d, ListTag) and d.leaf not in (float, int, bool):
            what = "arrays (NumPy stacks them)" if d.leaf is np.ndarray else d.leaf.__name__
            out[Backend.PYTHON] = f"the pure-Python kernels take lists of numbers, not of {what}"
        elif isinstance(d, np.dtype) and d.kind not in PYTHON_KINDS:
            out[Backend.PYTHON] = f"the pure-Python kernels do not handle dtype {d}"
        elif isinstance(d, np.dtype) and d.kind == "f" and d.itemsize < 8 and accumulates:
            out[Backend.PYTHON] = (
                f"{d} sums: Python adds in double precision, NumPy in {d} (they differ, "
                "overflow included)"
            )
        elif d is complex:
            out[Backend.PYTHON] = "the pure-Python kernels do not take complex numbers"
    if Backend.PYTHON not in out:
        limit = python_limits(spec.name, [d[0] for d in desc], params)
        if limit:
            out[Backend.PYTHON] = limit
    return out


# The next best backend when a policy's pick cannot run: NumPy runs everything.
FALLBACK_ORDER = (Backend.NUMPY, Backend.PYTHON, Backend.CUPY)


@dataclass(frozen=True)
class Pick:
    """A policy's answer: the backend used, the one it preferred, and why they differ."""

    backend: Backend
    preferred: Backend
    fallback: str | None
    reason: str


def seed_pick(profile: MachineProfile, level: Complexity, size: float) -> tuple[Backend, str]:
    """The MoE table's answer and the row that gave it."""
    tier = profile.thresholds.tier(level)
    backend = table_choice(profile.thresholds, level, size)
    simd = "never" if tier.simd_above is None else f"> {tier.simd_above:,.0f}"
    gpu = "never" if tier.gpu_above is None else f"> {tier.gpu_above:,.0f}"
    return (
        backend,
        f"{level} complexity at {size:,.0f} elements (table row: SIMD {simd}, GPU {gpu})",
    )


def pcie_pick(
    profile: MachineProfile, model: CostModel, w: Workload
) -> tuple[Backend, RuleVerdict]:
    """The 5x rule decides GPU or not; below it, the table's CPU answer (GPU read as SIMD)."""
    verdict = model.pcie_rule(w)
    if verdict.use_gpu:
        return Backend.GPU, verdict
    table = table_choice(profile.thresholds, w.complexity, w.size)
    return (Backend.SIMD if table is Backend.GPU else table), verdict


def predictions(model: CostModel, w: Workload) -> dict[Backend, Prediction | None]:
    """The end-to-end model's prediction for every backend (None where it cannot say)."""
    return {backend: model.predict(w, backend) for backend in Backend}


def e2e_pick(
    model: CostModel, w: Workload, excluded: dict[Backend, str]
) -> tuple[Backend | None, str]:
    """The cheapest backend that can run the call, or None when none can be predicted."""
    preds = predictions(model, w)
    usable = {b: p for b, p in preds.items() if p is not None and b not in excluded}
    if not usable:
        return None, "no backend could be predicted: " + "; ".join(
            model.missing(w, b) or "" for b in Backend if b not in excluded
        )
    ranked = sorted(usable.values(), key=lambda p: p.total_s)
    best = ranked[0]
    text = f"cheapest predicted end to end: {fmt_seconds(best.total_s)}"
    if len(ranked) > 1:
        text += f", next {ranked[1].backend.label} {fmt_seconds(ranked[1].total_s)}"
    return best.backend, text


def calibrated_pick(
    profile: MachineProfile, w: Workload, device: int
) -> tuple[Backend, str] | None:
    """The calibrated thresholds' answer for this op, residency and GPU, or None when
    the profile has none for them."""
    found = profile.tier_for(w.op, w.residency.value, device)
    if found is None:
        return None
    tier, key = found
    backend = (
        Backend.GPU
        if tier.gpu_above is not None and w.size > tier.gpu_above
        else Backend.SIMD
        if tier.simd_above is not None and w.size > tier.simd_above
        else Backend.SCALAR
    )
    python = (
        "never"
        if tier.simd_above == 0
        else ("always" if tier.simd_above is None else f"up to {tier.simd_above:,.0f}")
    )
    gpu_text = "never" if tier.gpu_above is None else f"above {tier.gpu_above:,.0f}"
    on = "CPU only" if key.endswith("|-1") else f"GPU {key.rsplit('|', 1)[1]}"
    copies = ""
    if key in profile.plain_copy and w.residency is not Location.DEVICE:
        plain = profile.plain_copy[key]
        t = profile.transfer
        staged = t is not None and t.h2d_method == "staged"
        how = (
            f"staged through pinned buffers from {t.stage_above / 2**20:.0f} MiB"
            if staged and t is not None
            else "plain cupy.asarray"
        )
        plain_text = "never" if plain is None else f"above {plain:,.0f}"
        copies = (
            f" (this is for the router's copies, {how}; code that copies with plain "
            f"cupy.asarray gains from CuPy {plain_text})"
        )
    return backend, (
        f"{w.size:,.0f} elements; calibrated thresholds for {w.op} with inputs in "
        f"{_IN[w.residency.value]} ({on}, {profile.date or 'undated'}): pure Python {python}, "
        f"CuPy {gpu_text}{copies}"
    )


_IN = {"python": "Python lists", "host": "NumPy arrays", "device": "CuPy arrays"}


def pick(
    policy: str,
    profile: MachineProfile,
    model: CostModel,
    w: Workload,
    excluded: dict[Backend, str],
    device: int = -1,
) -> Pick:
    """What `policy` picks for `w`, moved to the next best backend if it cannot run."""
    if policy == "calibrated":
        found = calibrated_pick(profile, w, device)
        if found is not None:
            preferred, reason = found
            return _fallback_if_excluded(preferred, reason, excluded)
        policy, prefix = (
            "end-to-end",
            f"no calibration for {w.op} with inputs in {_IN[w.residency.value]}; ",
        )
    else:
        prefix = ""
    if policy == "seed":
        preferred, reason = seed_pick(profile, w.complexity, w.size)
    elif policy == "5x":
        preferred, verdict = pcie_pick(profile, model, w)
        reason = verdict.reason
    else:
        best, reason = e2e_pick(model, w, excluded)
        if best is None:
            preferred, table_reason = seed_pick(profile, w.complexity, w.size)
            reason = f"{reason}; used the seed table instead: {table_reason}"
        else:
            preferred = best
    return _fallback_if_excluded(preferred, prefix + reason, excluded)


def _fallback_if_excluded(preferred: Backend, reason: str, excluded: dict[Backend, str]) -> Pick:
    if preferred not in excluded:
        return Pick(preferred, preferred, None, reason)
    backend = next(b for b in FALLBACK_ORDER if b not in excluded)
    fallback = f"{preferred.label} excluded: {excluded[preferred]}"
    return Pick(backend, preferred, fallback, f"{reason}; {fallback}, so {backend.label}")


def _source(router: RouterView, group: str) -> str:
    profile = router.profile
    text = profile.source_of(group)
    if not text.startswith("measured") or not profile.machine:
        return text
    here = router.machine()
    if group in ("cupy", "transfer"):
        same = profile.machine == here
    else:
        same = profile.machine.partition("; GPU:")[0] == here.partition("; GPU:")[0]
    when = f", {profile.date}" if profile.date else ""
    if same:
        return f"measured on this machine (profile {profile.name!r}{when})"
    return (
        f"measured on another machine ({profile.machine}{when}), not this one: "
        "workbench.route.measure_profile() measures this one"
    )


def _disagreements(
    seed: Backend,
    pcie: Backend | None,
    e2e: Backend | None,
    preds: dict[Backend, Prediction | None],
    w: Workload,
    excluded: dict[Backend, str],
) -> list[str]:
    notes: list[str] = []
    if e2e is None or preds.get(e2e) is None:
        return notes
    best = preds[e2e]
    assert best is not None
    for name, other in (("the seed table", seed), ("the 5x rule", pcie)):
        if other is None or other is e2e:
            continue
        theirs = preds.get(other)
        if theirs is None:
            continue
        ratio = theirs.total_s / best.total_s if best.total_s > 0 else float("inf")
        text = (
            f"{name} picks {other.seed_name} ({other.label}), predicted {fmt_seconds(theirs.total_s)}; "
            f"the end-to-end model picks {e2e.label}, {fmt_seconds(best.total_s)} ({ratio:.3g}x faster)"
        )
        moves = theirs.move_in_s + theirs.move_out_s
        if moves > theirs.compute_s and w.residency is Location.DEVICE:
            text += ": the data already lives on the GPU, and moving it costs more than the kernel"
        elif moves > theirs.compute_s:
            text += ": moving the data costs more than the kernel"
        if other in excluded:
            text += f" (and {other.label} is excluded here: {excluded[other]})"
        notes.append(text)
    return notes


def explain_call(
    router: RouterView,
    spec: OpSpec,
    w: Workload | None,
    excluded: dict[Backend, str],
    size: float,
    shapes: str,
) -> Explanation:
    """Everything the three policies think about one call."""
    profile, model = router.profile, router.model
    status = router.gpu_status
    gpu_text = (
        f"available ({', '.join(status.devices)})"
        if status.available
        else f"excluded: {status.reason}"
    )
    seed_backend, seed_reason = seed_pick(profile, spec.complexity, size)
    sources = {
        "thresholds": _source(router, "thresholds"),
        "5x rule": f"factor {profile.pcie_factor:g}: {_source(router, 'pcie_factor')}; "
        f"gpu_threshold {profile.gpu_threshold}: {_source(router, 'gpu_threshold')}",
    }
    if w is None:
        backend = seed_backend
        reason = (
            f"no kernels registered for {spec.name}: only the seed table applies ({seed_reason})"
        )
        if backend is Backend.GPU and not status.available:
            backend, reason = Backend.SIMD, reason + f"; no GPU ({status.reason}), so SIMD"
        return Explanation(
            spec.name,
            str(spec.complexity),
            None,
            size,
            "unknown",
            "unknown",
            "seed",
            backend,
            reason,
            (seed_backend, seed_reason),
            None,
            None,
            {},
            {},
            sources,
            gpu_text,
        )
    pcie_backend, verdict = pcie_pick(profile, model, w)
    e2e_backend, e2e_reason = e2e_pick(model, w, excluded)
    preds = predictions(model, w)
    for group in ("python", "numpy", "cupy", "conversion", "transfer"):
        sources[group] = _source(router, group)
    if profile.calibrated:
        sources["calibrated thresholds"] = profile.source_of("calibrated")
    chosen = pick(router.policy, profile, model, w, excluded, router.device_index)
    return Explanation(
        op=spec.name,
        complexity=str(spec.complexity),
        workload=w,
        size=size,
        residency=str(w.residency),
        placement=str(w.placement),
        policy=router.policy,
        chosen=chosen.backend,
        reason=chosen.reason,
        seed=(seed_backend, seed_reason),
        pcie=(pcie_backend, verdict),
        end_to_end=(e2e_backend, e2e_reason) if e2e_backend is not None else None,
        predictions=preds,
        excluded=excluded,
        sources=sources,
        gpu=gpu_text,
        disagreements=_disagreements(seed_backend, pcie_backend, e2e_backend, preds, w, excluded),
        shapes=shapes,
    )
