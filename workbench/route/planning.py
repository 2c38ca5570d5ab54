"""How a Router makes the plans it caches: the policy's pick for one call signature and
size bucket, the direct kernel the fast path runs, and the hot path bound to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from workbench import gpu
from workbench.route import shapes as sh
from workbench.route.backends import Desc, Unsupported
from workbench.route.cost import CostModel, Workload
from workbench.route.execution import Execution
from workbench.route.features import bucket_of
from workbench.route.hot import HotCall, bucket_bounds, hot_call
from workbench.route.kinds import Backend, Location
from workbench.route.lists import container_of, idiom_for, numpy_on_lists
from workbench.route.operands import describe, is_number
from workbench.route.ops import OpSpec
from workbench.route.plans import Decision, Plan
from workbench.route.policy import Pick, exclusions_of, pick, workload_of

PLAN_CACHE_LIMIT = 4096
BUCKETS_PER_DECADE = 4  # plans are kept per dtype, rank and size bucket (a quarter decade)
_LISTS_AT, _HOST_AT = Location.PYTHON.value, Location.HOST.value
_DEVICE_AT = Location.DEVICE.value
# Where a direct kernel steps aside for the full path (which knows what to do).
_ASIDE: tuple[type[BaseException], ...] = (Unsupported, TypeError, ValueError)


class Planning(Execution):
    """The planning half of a Router: plans per signature and bucket, and the hot path
    (router.py parses calls and runs them; execution.py runs them on one backend)."""

    policy: str
    model: CostModel
    _plans: dict[tuple[Any, ...], Plan]
    _buckets: dict[int, int]
    _hot: dict[str, HotCall]  # op name -> the hot call of the plan its last call ran
    _defaults: dict[str, tuple[Any, ...]]  # op name -> the cache key of its default parameters

    def workload(
        self,
        spec: OpSpec,
        desc: Sequence[Desc],
        params: sh.Params,
        residency: Location,
        placement: Location,
    ) -> Workload:
        """The cost models' view of one call (shapes checked here, RouteError if they clash)."""
        return workload_of(spec, desc, params, residency, placement)

    def exclusions(
        self, spec: OpSpec, desc: Sequence[Desc], params: sh.Params
    ) -> dict[Backend, str]:
        """Backends that cannot run this call, each with the reason."""
        return exclusions_of(spec, desc, params, self.gpu_status)

    def _bucket(self, size: int) -> int:
        found = self._buckets.get(size)
        if found is None:
            if len(self._buckets) >= PLAN_CACHE_LIMIT:
                self._buckets.clear()
            found = self._buckets[size] = bucket_of(size, BUCKETS_PER_DECADE)
        return found

    def _plan(
        self,
        spec: OpSpec,
        arrays: Sequence[Any],
        params: sh.Params,
        pkey: tuple[Any, ...],
        to: Location | str | None,
    ) -> tuple[Plan, tuple[Desc, ...]]:
        """The cached plan for this call's signature and size bucket (made on the first
        call of its kind; shapes are checked then, and by the kernels on every call)."""
        where, desc, sig, size = describe(arrays)
        placement = where if to is None else Location.parse(to).value
        key = (spec.name, where, placement, sig, self._bucket(size), pkey)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._new_plan(spec, desc, params, key, where, placement)
        return plan, desc

    def _new_plan(
        self,
        spec: OpSpec,
        desc: tuple[Desc, ...],
        params: sh.Params,
        key: tuple[Any, ...],
        where: str,
        placement: str,
    ) -> Plan:
        residency, out = Location(where), Location(placement)
        w = self.workload(spec, desc, params, residency, out)
        choice: Pick = pick(
            self.policy,
            self.profile,
            self.model,
            w,
            self.exclusions(spec, desc, params),
            self.device_index if self.policy == "calibrated" else -1,
        )
        decision = Decision(
            spec.name, choice.backend, choice.preferred, choice.fallback, residency, out, w
        )
        if len(self._plans) >= PLAN_CACHE_LIMIT:
            self._plans.clear()
            self._hot.clear()
        like = container_of(desc)
        idiom = numpy_lists = None
        if where == placement == _LISTS_AT:
            idiom = idiom_for(spec, desc, params, like, on_lists=True)
            numpy_lists = numpy_on_lists(spec, desc, params, like)
        elif where == placement == _HOST_AT:
            idiom = idiom_for(spec, desc, params, like, on_lists=False)
        host = None
        if (
            spec.host_fn is not None
            and where == placement == _HOST_AT
            and desc
            and all(isinstance(tag, np.dtype) or is_number(tag) for _, tag in desc)
            and isinstance(desc[0][1], np.dtype)
        ):
            host = (spec.host_fn, tuple(params[name] for name, _ in spec.params))
        direct = None
        if (
            where == placement == _DEVICE_AT
            and choice.backend is Backend.CUPY
            and not choice.fallback
            and self._device is None
        ):
            direct = self._device_kernel(spec, params)
        elif (
            where == placement == _HOST_AT
            and choice.backend is Backend.NUMPY
            and host is None
            and spec.array_fn is not None
        ):
            direct = _numpy_kernel(spec.array_fn, dict(params))  # np.vdot(a, b), ...
        plan = self._plans[key] = Plan(
            decision, self._cell(spec.name, choice.backend), idiom, like, host, direct, numpy_lists
        )
        return plan

    def _device_kernel(self, spec: OpSpec, params: sh.Params) -> Callable[..., Any] | None:
        """What CuPy runs for a call on data already on the GPU, as its users write it:
        the operator (a + b, a @ b), the array method with default parameters (a.sum()),
        else the op's array function with cupy bound."""
        cp = self._cupy()
        if cp is None:
            return None
        extra = tuple(params[name] for name, _ in spec.params)
        fn = spec.host_fn
        if fn is not None and getattr(fn, "__module__", None) in ("_operator", "operator"):
            return fn
        if fn is not None and all(v is None for v in extra):
            method = getattr(cp.ndarray, getattr(fn, "__name__", ""), None)
            if callable(method):
                return method  # type: ignore[no-any-return]
        array_fn = spec.array_fn
        assert array_fn is not None
        return lambda *arrays: array_fn(cp, arrays, params)

    def _heat(
        self, spec: OpSpec, plan: Plan, arrays: Sequence[Any], pkey: tuple[Any, ...], bucket: int
    ) -> None:
        """Make `plan` the op's hot one for calls like these, if it can be: a plan with a
        direct kernel, for the op's default parameters and operands the hot path reads."""
        if not plan.heated:
            plan.heated = True
            if plan.fast is None or pkey != self._defaults.get(spec.name):
                return
            bounds = bucket_bounds(bucket, BUCKETS_PER_DECADE)
            aside = _ASIDE + self._oom if plan.decision.residency is Location.DEVICE else _ASIDE
            plan.hot = hot_call(arrays, gpu.is_device_type, bounds, plan.fast, plan.cell, aside)
        if plan.hot is not None:
            self._hot[spec.name] = plan.hot


def _numpy_kernel(array_fn: Callable[..., Any], params: sh.Params) -> Callable[..., Any]:
    """The op's NumPy function on host operands with these parameters: what the router's
    full path runs for a NumPy plan on the host without an operator or method form."""
    return lambda *arrays: array_fn(np, arrays, params)
