"""How a Router runs a call on one backend once it knows which: the direct kernels,
the general ones where those step aside, fallbacks to NumPy, and out-of-memory."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from workbench import gpu
from workbench.errors import RouteError
from workbench.route import shapes as sh
from workbench.route.backends import PythonBackend, Unsupported, on_device, run_cupy, run_numpy
from workbench.route.counts import Tally
from workbench.route.gpu_side import GpuSide
from workbench.route.kinds import Backend, Location
from workbench.route.ops import OpSpec
from workbench.route.plans import Decision, Plan

_NUMPY, _PYTHON, _CUPY = Backend.NUMPY, Backend.PYTHON, Backend.CUPY
_AT_DEVICE = Location.DEVICE
_NDARRAY = np.ndarray


class Execution(GpuSide, ABC):
    """The running half of a Router (router.py decides and parses; this runs)."""

    _python: PythonBackend
    tally: Tally

    @abstractmethod
    def _call(
        self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[OpSpec, tuple[Any, ...], sh.Params, tuple[Any, ...]]:
        """The op, its operands, its parameters and their key (Router parses)."""

    @abstractmethod
    def _plan(
        self,
        spec: OpSpec,
        arrays: Sequence[Any],
        params: sh.Params,
        pkey: tuple[Any, ...],
        to: Location | str | None,
    ) -> tuple[Plan, Any]:
        """The cached plan for a call (Router makes it)."""

    def _cell(self, op: str, backend: Backend) -> list[int]:
        return self.tally.cell(op, backend)

    def _count_fallback(self, op: str, failed: Backend, to: Backend, reason: str) -> None:
        self.tally.fallback(op, failed, to, reason)

    def _execute(
        self,
        spec: OpSpec,
        backend: Backend,
        arrays: Sequence[Any],
        params: sh.Params,
        decision: Decision,
        *,
        forced: bool,
        cell: list[int] | None = None,
        like: type = list,
        plan: Plan | None = None,
    ) -> Any:
        res, out = decision.residency, decision.placement
        cp = self._cp
        if cp is None and (backend is _CUPY or res is _AT_DEVICE or out is _AT_DEVICE):
            cp = self._cupy()
        try:
            if backend is _NUMPY:
                host = plan.host if plan is not None else None
                if host is not None and type(arrays[0]) is _NDARRAY:
                    result = host[0](*arrays, *host[1])
                elif plan is not None and plan.numpy_lists is not None and res is out:
                    result = plan.numpy_lists(*arrays)
                else:
                    result = run_numpy(spec, arrays, params, res, out, cp, like)
            elif backend is _PYTHON:
                result = self._pure_python(spec, arrays, params, res, out, cp, like, plan)
            elif self._device is None:
                result = run_cupy(spec, arrays, params, res, out, cp, self._mover(), like)
            else:
                with on_device(cp, self._device, arrays, res):
                    result = run_cupy(spec, arrays, params, res, out, cp, self._mover(), like)
        except Unsupported as exc:
            if forced:
                raise RouteError(f"{spec.name} cannot run on {backend.label}: {exc}") from None
            return self._fall_back(spec, backend, arrays, params, decision, str(exc), like)
        except self._oom as exc:
            if res is _AT_DEVICE or forced:
                raise RouteError(
                    f"CuPy ran out of GPU memory in {spec.name} ({exc}). The operands already live "
                    "on the GPU: free GPU memory (del unused arrays, workbench.gpu.free_cached_blocks) "
                    "or move them to the host with cupy.asnumpy and run again"
                ) from None
            assert cp is not None
            gpu.free_cached_blocks(cp)
            return self._fall_back(
                spec, backend, arrays, params, decision, f"CuPy out of GPU memory: {exc}", like
            )
        if cell is None:
            cell = self._cell(spec.name, backend)
        cell[1] += 1
        return result

    def _pure_python(
        self,
        spec: OpSpec,
        arrays: Sequence[Any],
        params: sh.Params,
        res: Location,
        out: Location,
        cp: ModuleType | None,
        like: type,
        plan: Plan | None,
    ) -> Any:
        """The idiomatic kernel where the plan has one, else (or where it steps aside,
        Unsupported) the general pure-Python kernels."""
        kernel = plan.python if plan is not None else None
        if kernel is not None:
            try:
                return kernel(*arrays)
            except Unsupported:
                pass
        return self._python.run(spec, arrays, params, res, out, cp, like)

    def kernel(
        self,
        backend: Backend | str,
        op: str,
        *args: Any,
        to: Location | str | None = None,
        **kwargs: Any,
    ) -> Callable[[], Any]:
        """The work the router does for `op(*args)` on `backend` (conversions and copies
        included, no dispatch, no counting), as a no-argument callable: what calibration
        and the benchmarks time. For pure Python with an idiomatic kernel this is the
        kernel itself (which raises Unsupported where it would step aside for the general
        kernels: division by zero, results beyond int64). RouteError when that backend
        cannot run the call."""
        chosen = Backend.parse(backend)
        spec, arrays, params, pkey = self._call(op, args, kwargs)
        plan, _ = self._plan(spec, arrays, params, pkey, to)
        res, out = plan.decision.residency, plan.decision.placement
        if chosen is _NUMPY:
            host = plan.host_for_numpy
            if host is not None and type(arrays[0]) is _NDARRAY:
                return functools.partial(host[0], *arrays, *host[1])  # a + b, a.sum(axis)
            if plan.numpy_lists is not None:  # np.asarray(a) + np.asarray(b), then tolist()
                return functools.partial(plan.numpy_lists, *arrays)
            return functools.partial(
                run_numpy, spec, arrays, params, res, out, self._cupy(), plan.like
            )
        if chosen is _PYTHON and plan.python is not None:
            return functools.partial(plan.python, *arrays)  # the idiomatic kernel itself
        if chosen is _PYTHON:
            cp = self._cupy() if _AT_DEVICE in (res, out) else self._cp
            return functools.partial(
                self._pure_python, spec, arrays, params, res, out, cp, plan.like, plan
            )
        if not self.gpu_status.available:
            raise RouteError(f"cannot run on CuPy: {self.gpu_status.reason}")
        cp = self._cupy()
        return functools.partial(
            run_cupy, spec, arrays, params, res, out, cp, self._mover(), plan.like
        )

    def _fall_back(
        self,
        spec: OpSpec,
        failed: Backend,
        arrays: Sequence[Any],
        params: sh.Params,
        decision: Decision,
        reason: str,
        like: type = list,
    ) -> Any:
        self._count_fallback(spec.name, failed, Backend.NUMPY, reason)
        self._cell(spec.name, Backend.NUMPY)[0] += 1
        return self._execute(spec, Backend.NUMPY, arrays, params, decision, forced=True, like=like)
