"""Router: decide, run, count and explain.

``Router().run("add", a, b)`` reads where the operands live and their shapes, picks a
backend with its policy (the end-to-end cost model by default; the seed table or the 5x
rule on request), runs the op there with real kernels, and returns the result where the
caller expects it. Decisions are cached per call signature, so a loop pays the model once.
Every decision, execution and fallback is counted on the Router, so GPU code that never
ran shows up in :meth:`Router.counts` (seed 003).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import RouteError
from workbench.gpu import GpuStatus
from workbench.gpu.pinned import Mover
from workbench.route import shapes as sh
from workbench.route.backends import PythonBackend, Unsupported
from workbench.route.cost import CostModel
from workbench.route.counts import Tally
from workbench.route.explain import Explanation
from workbench.route.hot import MISS, HotCall
from workbench.route.kinds import Backend, Location
from workbench.route.machine_profile import MachineProfile, load_machine_profile
from workbench.route.operands import describe, quick
from workbench.route.ops import OpRegistry, OpSpec
from workbench.route.planning import BUCKETS_PER_DECADE, Planning
from workbench.route.plans import Decision, Plan
from workbench.route.policy import explain_call
from workbench.route.selector import check_size

if TYPE_CHECKING:
    import pandas as pd

POLICIES = ("calibrated", "end-to-end", "5x", "seed")
_POLICY_NAMES = {
    "calibrated": "calibrated",
    "measured": "calibrated",
    "end-to-end": "end-to-end",
    "e2e": "end-to-end",
    "end_to_end": "end-to-end",
    "cost": "end-to-end",
    "5x": "5x",
    "pcie": "5x",
    "5x-rule": "5x",
    "rule": "5x",
    "seed": "seed",
    "table": "seed",
    "moe": "seed",
}
__all__ = ["BUCKETS_PER_DECADE", "POLICIES", "Router"]
# Enum members and types as plain constants: attribute access on an Enum class is slow.
_NUMPY, _PYTHON, _CUPY = Backend.NUMPY, Backend.PYTHON, Backend.CUPY
_AT_HOST, _AT_DEVICE = Location.HOST, Location.DEVICE
_NDARRAY = np.ndarray


class Router(Planning):
    """Routes ops to pure Python, NumPy or CuPy; counts and explains every decision.

    `profile`: 'seed' (default: the seeds' table and reference-machine costs), a
    MachineProfile or a JSON path (a calibrated one from ``workbench calibrate``).
    `policy`: 'calibrated' (the default with a calibrated profile: its fitted thresholds
    per op and residency, the end-to-end model for ops it did not calibrate),
    'end-to-end' (the default otherwise), '5x' or 'seed'.
    `gpu`: None probes for CuPy and a device once, on first need; False never uses the
    GPU; True requires one (RouteError if missing). `device`: the GPU that host data is
    sent to and whose calibrated thresholds apply (default: the current one); data
    already on a GPU is computed where it lives.
    """

    def __init__(
        self,
        profile: MachineProfile | str | os.PathLike[str] | None = "seed",
        *,
        policy: str | None = None,
        gpu: bool | None = None,
        device: int | None = None,
        registry: OpRegistry | None = None,
        mover: Mover | None = None,
    ) -> None:
        self.profile = load_machine_profile(profile)
        if policy is None:
            policy = "calibrated" if self.profile.calibrated else "end-to-end"
        if policy not in _POLICY_NAMES:
            raise RouteError(f"unknown policy {policy!r}: use one of {', '.join(POLICIES)}")
        if device is not None and (
            isinstance(device, bool) or not isinstance(device, int) or device < 0
        ):
            raise RouteError(f"device must be a GPU index >= 0, got {device!r}")
        self._device = device
        self._staging: Mover | None = mover  # given: these copies; else the profile says
        self.policy = _POLICY_NAMES[policy]
        self.registry = registry if registry is not None else OpRegistry.builtin()
        self.model = CostModel(self.profile)
        self._gpu_flag = gpu
        self._gpu_status: GpuStatus | None = None
        self._cp: ModuleType | None = None
        self._oom: tuple[type[BaseException], ...] = ()
        self._python = PythonBackend()
        # name or alias -> (op, default parameters, their cache key); runnable ops only
        self._fast = {
            name: (spec, dict(spec.params), spec.param_key(dict(spec.params)))
            for name, spec in self.registry.names().items()
            if spec.runnable
        }
        self._defaults = {spec.name: key for spec, _, key in self._fast.values()}
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self._buckets: dict[int, int] = {}  # size -> its bucket
        self._hot: dict[str, HotCall] = {}  # op name -> its hot call (hot.py)
        self.tally = Tally()

    # --- analysis --------------------------------------------------------------------

    def _spec(self, op: str) -> OpSpec:
        spec = self.registry.get(op)
        if not spec.runnable:
            raise RouteError(
                f"{spec.name} is registered for recommendations only (seed 002's complexity "
                f"table: {spec.complexity}); the router runs NumPy-style ops: "
                f"{', '.join(self.registry.runnable_names())}. Use recommend({spec.name!r}, size)."
            )
        return spec

    def _call(
        self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[OpSpec, tuple[Any, ...], sh.Params, tuple[Any, ...]]:
        """The op, its array operands, its parameters and their cache key."""
        fast = self._fast.get(op)
        if fast is not None and not kwargs and len(args) == fast[0].arity:
            return fast[0], args, fast[1], fast[2]
        spec = fast[0] if fast is not None else self._spec(op)
        arrays, params = spec.parse(args, kwargs)
        return spec, arrays, params, spec.param_key(params)

    # --- public API --------------------------------------------------------------------

    def decide(
        self, op: str, *args: Any, to: Location | str | None = None, **kwargs: Any
    ) -> Decision:
        """Where `op(*args)` would run (counted as a decision; nothing runs)."""
        spec, arrays, params, pkey = self._call(op, args, kwargs)
        plan, _ = self._plan(spec, arrays, params, pkey, to)
        plan.cell[0] += 1
        decision = plan.decision
        if decision.fallback:
            self._count_fallback(spec.name, decision.preferred, decision.backend, decision.fallback)
        return decision

    def run(self, op: str, *args: Any, to: Location | str | None = None, **kwargs: Any) -> Any:
        """Run `op(*args, **kwargs)` on the backend the policy picks; the result comes back
        where the operands live (CuPy in, CuPy out; NumPy or lists with NumPy in, NumPy out;
        lists only, lists out), or where `to` says ('python', 'host', 'device')."""
        if to is None and not kwargs:
            hot = self._hot.get(op)  # the plan this op's last call ran (hot.py)
            if hot is not None:
                try:
                    result = hot(*args)
                except TypeError:  # not as many operands as the hot call takes
                    result = MISS  # (its kernel's own TypeErrors give MISS inside)
                if result is not MISS:
                    return result
        fast = self._fast.get(op)
        if fast is not None and not kwargs and len(args) == fast[0].arity:
            spec, arrays, params, pkey = fast[0], args, fast[1], fast[2]
        else:
            spec, arrays, params, pkey = self._call(op, args, kwargs)
        return self.route(
            spec, arrays, params, pkey, None if to is None else Location.parse(to).value
        )

    def route(
        self,
        spec: OpSpec,
        arrays: Sequence[Any],
        params: sh.Params,
        pkey: tuple[Any, ...],
        to: str | None = None,
    ) -> Any:
        """Run a parsed call (the op's spec, its array operands, its parameters and their
        cache key); `to` a Location value or None. What run() and namespace ops call."""
        if to is None:  # the fast path: a common signature whose plan has a direct kernel
            seen = quick(arrays)
            if seen is not None:
                where, sig, size = seen
                bucket = self._buckets.get(size)
                if bucket is not None:
                    plan = self._plans.get((spec.name, where, where, sig, bucket, pkey))
                    if plan is not None:
                        fast = plan.fast
                        if fast is not None:
                            try:
                                result = fast(*arrays)
                            except (Unsupported, TypeError, ValueError):
                                pass  # the full path below answers (and counts)
                            else:
                                cell = plan.cell
                                cell[0] += 1
                                cell[1] += 1
                                self._heat(spec, plan, arrays, pkey, bucket)
                                return result
        # The cached path: plans made on the first call of their kind.
        where, desc, sig, size = describe(arrays)
        placement = where if to is None else to
        bucket = self._buckets.get(size)
        if bucket is None:
            bucket = self._bucket(size)
        key = (spec.name, where, placement, sig, bucket, pkey)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._new_plan(spec, desc, params, key, where, placement)
        if to is None and plan.fast is not None:
            self._heat(spec, plan, arrays, pkey, bucket)  # the next call of its kind is hot
        plan.cell[0] += 1
        decision = plan.decision
        if decision.fallback:
            self._count_fallback(spec.name, decision.preferred, decision.backend, decision.fallback)
        idiom = plan.idiom
        if idiom is not None:
            try:  # idiomatic pure Python on lists: comprehensions, sum, max, min
                result = idiom(*arrays)
            except Unsupported:
                pass  # where Python and NumPy differ: the general kernels decide
            except (TypeError, ValueError) as exc:
                # another element type than the first one's, or shapes that do not fit:
                # NumPy's own answer (or its own exception) is the one to give
                return self._fall_back(spec, _PYTHON, arrays, params, decision, str(exc), plan.like)
            else:
                plan.cell[1] += 1
                return result
        host = plan.host
        if host is not None and type(arrays[0]) is _NDARRAY:
            fn, extra = host  # what a NumPy user writes: a + b, a.sum(axis), a @ b
            result = fn(*arrays, *extra) if extra else fn(*arrays)
            plan.cell[1] += 1
            return result
        if (
            plan.backend is _NUMPY
            and decision.residency is _AT_HOST
            and decision.placement is _AT_HOST
        ):
            result = spec.array_fn(np, arrays, params)  # type: ignore[misc]
            plan.cell[1] += 1
            return result
        if (
            plan.backend is _PYTHON
            and decision.residency is not _AT_DEVICE
            and decision.placement is not _AT_DEVICE
        ):
            try:  # the pure-Python path, inlined likewise
                result = self._python.run(
                    spec,
                    arrays,
                    params,
                    decision.residency,
                    decision.placement,
                    self._cp,
                    plan.like,
                )
            except Unsupported as exc:
                return self._fall_back(spec, _PYTHON, arrays, params, decision, str(exc), plan.like)
            plan.cell[1] += 1
            return result
        return self._execute(
            spec,
            plan.backend,
            arrays,
            params,
            decision,
            forced=False,
            cell=plan.cell,
            like=plan.like,
            plan=plan,
        )

    def run_on(
        self,
        backend: Backend | str,
        op: str,
        *args: Any,
        to: Location | str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run `op` on the named backend, whatever the policy says (for comparisons and
        benchmarks; counted as an execution, not a decision). RouteError when that backend
        cannot run the call."""
        chosen = Backend.parse(backend)
        spec, arrays, params, pkey = self._call(op, args, kwargs)
        plan, _ = self._plan(spec, arrays, params, pkey, to)
        if chosen is Backend.CUPY and not self.gpu_status.available:
            raise RouteError(f"cannot run on CuPy: {self.gpu_status.reason}")
        forced_plan = Plan(
            replace(plan.decision, backend=chosen),
            plan.cell,
            plan.python,
            plan.like,
            plan.host_for_numpy,
        )
        return self._execute(
            spec,
            chosen,
            arrays,
            params,
            plan.decision,
            forced=True,
            like=plan.like,
            plan=forced_plan,
        )

    def explain(
        self, op: str, *args: Any, to: Location | str | None = None, **kwargs: Any
    ) -> Explanation:
        """Why `op(*args)` runs where it does: predicted seconds per backend (with the
        moves in and out), what the seed table, the 5x rule and the end-to-end model each
        pick, where the data lives, and whether the numbers were measured here."""
        spec, arrays, params, pkey = self._call(op, args, kwargs)
        plan, desc = self._plan(spec, arrays, params, pkey, to)
        excluded = self.exclusions(spec, desc, params)
        shapes = ", ".join("scalar" if isinstance(d[1], type) else str(d[0]) for d in desc)
        w = plan.decision.workload
        return explain_call(self, spec, w, excluded, w.size if w else 0, f" on {shapes}")

    def recommend(
        self,
        op: str,
        size: int | float,
        *,
        residency: Location | str = "host",
        to: Location | str | None = None,
    ) -> Explanation:
        """The explanation for `op` on `size` elements living at `residency`, without data
        (float64 operands of typical shapes: see shapes.synthetic). Works for the
        scikit-learn and PyTorch names too, from the seed table alone."""
        spec = self.registry.get(op)
        n = check_size(size)
        res = Location.parse(residency)
        placement = res if to is None else Location.parse(to)
        if not spec.runnable:
            return explain_call(self, spec, None, {}, n, "")
        shapes, params = sh.synthetic(spec.name, spec.kind, spec.arity, round(n))
        dtype = np.dtype(np.float64)
        desc = tuple((shape, "list" if res is Location.PYTHON else dtype) for shape in shapes)
        w = self.workload(spec, desc, params, res, placement)
        return explain_call(self, spec, w, self.exclusions(spec, desc, params), n, "")

    # --- counters ----------------------------------------------------------------------

    def counts(self) -> pd.DataFrame:
        """Decisions and executions per op and backend (every backend listed, zeros included,
        so a backend that was chosen but never ran, or never chosen, shows)."""
        return self.tally.counts()

    def fallbacks(self) -> pd.DataFrame:
        """Every fallback: op, the backend that could not run it, the one that did, why, how often."""
        return self.tally.fallbacks()

    def never_ran(self) -> list[str]:
        """Sentences for backends that were chosen but never executed, or never executed at
        all while available (seed 003: 'GPU operations never executed')."""
        return self.tally.never_ran(gpu_available=self.gpu_status.available)

    def reset_counts(self) -> None:
        """Zero every counter (the decision cache stays)."""
        self.tally.reset()

    def ops(self) -> pd.DataFrame:
        """The registry: name, framework, complexity, cost kind, runnable, description."""
        rows = [
            (s.name, s.framework, str(s.complexity), s.kind or "-", s.runnable, s.description)
            for s in self.registry
        ]
        import pandas as pd

        return pd.DataFrame.from_records(
            rows, columns=["op", "framework", "complexity", "kind", "runnable", "description"]
        )

    def __repr__(self) -> str:
        return f"<Router policy={self.policy!r} profile={self.profile.name!r}>"
