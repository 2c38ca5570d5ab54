"""Gated: a function with experts, and the gate that picks one per call (see
workbench.route.experts for the decorator and how to use it)."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from workbench import gpu
from workbench.route.buckets import Plan
from workbench.route.compare import Tolerance
from workbench.route.expert import CUPY, Expert, kind_of
from workbench.route.features import (
    DEVICE,
    HOST,
    ExpertError,
    check_arguments,
    checked_size,
    default_size,
    on_device,
)
from workbench.route.gate_store import GateStore
from workbench.route.learner import CHECK_SHARE, Clock, Learner
from workbench.route.machine_profile import Tier

if TYPE_CHECKING:
    import pandas as pd

    from workbench.route.expert_report import Crossovers, ExpertExplanation

F = TypeVar("F", bound=Callable[..., Any])
_PLAN_LIMIT = 4096
_WHERE = {
    "host": HOST,
    "numpy": HOST,
    "python": HOST,
    "device": DEVICE,
    "cupy": DEVICE,
    "gpu": DEVICE,
}


def _function_name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


class Gated(GateStore):
    """A function with experts, and the gate that picks one per call (see the module)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        size: Callable[..., Any] | None = None,
        xp: Sequence[str] | None = None,
        name: str | None = None,
        kind: str | None = None,
        rtol: float = 1e-7,
        atol: float = 1e-9,
        profile: str | Path | None = None,
        samples: int = 2,
        per_decade: int = 4,
        device: int | None = None,
        check: str = "amortized",
        autosave: bool = True,
        save_every_s: float = 5.0,
        clock: Clock = time.perf_counter,
    ) -> None:
        if not callable(fn):
            raise ExpertError(f"experts() decorates a function, got {type(fn).__name__}")
        if size is not None and not callable(size):
            raise ExpertError(f"size must be a function of the call's arguments, got {size!r}")
        if isinstance(per_decade, bool) or not isinstance(per_decade, int) or per_decade < 1:
            raise ExpertError(f"per_decade must be a whole number >= 1, got {per_decade!r}")
        if check not in ("amortized", "always"):
            raise ExpertError(f"check must be 'amortized' or 'always', got {check!r}")
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ExpertError(f"samples must be a whole number >= 1, got {samples!r}")
        functools.update_wrapper(self, fn)
        self.qualname = _function_name(fn)
        self._specs: list[Expert] = []
        if xp:
            if isinstance(xp, str):
                xp = (xp,)
            for module in xp:
                if kind_of(str(module), None) not in ("numpy", "cupy"):
                    raise ExpertError(f"xp= takes 'numpy' and 'cupy', got {module!r}")
                self._add(str(module), fn, kind_of(str(module), None), xp=True)
        else:
            label = name or "python"
            self._add(label, fn, kind_of(label, kind))
        self._size = size if size is not None else default_size
        self._size_name = (
            "default (elements of the array arguments)"
            if size is None
            else getattr(size, "__qualname__", repr(size))
        )
        self._tolerance = Tolerance(rtol, atol)
        self._check_share = CHECK_SHARE if check == "amortized" else None
        self._profile_arg = Path(profile) if profile is not None else None
        self._samples, self._per_decade = samples, per_decade
        self._device_wanted = device
        self._autosave, self._save_every_s = autosave, save_every_s
        self._clock = clock
        self._host: dict[Any, Plan] = {}
        self._dev: dict[Any, Plan] = {}
        self._types: dict[type, bool] = {}
        self._modules = sys.modules
        self._learners: dict[int, Learner] = {}
        self._learner: Learner | None = None
        self.device_index = -1
        self.status: list[str] = []  # what happened to saved thresholds, GPU, saving
        self.profile_path: Path | None = None
        self._saved_at = 0.0
        self._exit_hook = False
        self.inputs: Callable[[int], Any] | None = None  # from workbench.calibrate(f, inputs=...)
        self.sizes: list[int] = []

    # --- building --------------------------------------------------------------------

    def _add(self, name: str, fn: Callable[..., Any], kind: str, *, xp: bool = False) -> None:
        if any(e.name == name for e in self._specs):
            raise ExpertError(f"{self.qualname} already has an expert named {name!r}")
        self._specs.append(Expert(name, fn, kind, reference=not self._specs, xp=xp))

    def expert(self, name: str, *, kind: str | None = None) -> Callable[[F], F]:
        """Register another implementation: ``@f.expert("numpy")``. Its kind (where its
        arrays must live) is read from the name (python, numpy, cupy; np, gpu...) or
        given with `kind`. Returns the implementation unchanged, to call by hand."""
        if not isinstance(name, str) or not name:
            raise ExpertError(f"an expert needs a name such as 'numpy' or 'cupy', got {name!r}")
        resolved = kind_of(name, kind)

        def register(fn: F) -> F:
            if not callable(fn):
                raise ExpertError(f"expert {name!r} must be a function, got {type(fn).__name__}")
            self._add(name, fn, resolved)
            self._forget_learning()
            return fn

        return register

    def _forget_learning(self) -> None:
        """New experts: what was learned with the old set no longer applies."""
        self._learners.clear()
        self._learner = None
        self._host.clear()
        self._dev.clear()

    @property
    def experts(self) -> dict[str, Callable[..., Any]]:
        """Each expert's implementation by name (the reference first), to call by hand."""
        out: dict[str, Callable[..., Any]] = {}
        for e in self._specs:
            out[e.name] = (
                e.callable(gpu.cupy_module()) if e.xp and e.kind == CUPY else e.callable(None)
            )
        return out

    @property
    def reference(self) -> str:
        return self._specs[0].name

    # --- calling ---------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            n = self._size(*args, **kwargs)
        except ExpertError:
            raise
        except Exception as exc:
            raise self._size_failed(exc) from exc
        if "cupy" in self._modules and on_device(args, kwargs, self._types):
            plans, where = self._dev, DEVICE
        else:
            plans, where = self._host, HOST
        try:
            plan = plans.get(n)
        except TypeError:  # an unhashable size: the slow path says what is wrong
            plan = None
        if plan is not None:
            left = plan.left
            if left:
                plan.left = left - 1
                try:
                    return plan.run(*args, **kwargs)
                except Exception as exc:
                    return self._failed(plan, where, n, exc, args, kwargs)
        return self._slow(n, where, args, kwargs, where)

    def to(self, where: str) -> Callable[..., Any]:
        """This function with its result delivered to `where` ('host' or 'device')."""
        out = _WHERE.get(str(where).lower())
        if out is None:
            raise ExpertError(f"to() takes 'host' or 'device', got {where!r}")

        def placed(*args: Any, **kwargs: Any) -> Any:
            n = self._size(*args, **kwargs)
            lives = DEVICE if on_device(args, kwargs, self._types) else HOST
            return self._slow(n, lives, args, kwargs, out)

        return placed

    def size_of(self, *args: Any, **kwargs: Any) -> float:
        """The gate's size of a call with these arguments (what its bucket is found from)."""
        try:
            n = self._size(*args, **kwargs)
        except ExpertError:
            raise
        except Exception as exc:
            raise self._size_failed(exc) from exc
        return checked_size(n, self._size_name)

    def forget_plans(self) -> None:
        """Drop the fast path's size -> plan map (after buckets were re-decided)."""
        self._host.clear()
        self._dev.clear()

    def _size_failed(self, exc: Exception) -> ExpertError:
        return ExpertError(
            f"{self.qualname}: the size function {self._size_name} raised "
            f"{type(exc).__name__}: {exc}. It is called with the function's own arguments "
            "and must return a number (elements, rows, cells)"
        )

    def _slow(
        self, n: Any, where: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: str
    ) -> Any:
        size = checked_size(n, self._size_name)
        check_arguments(args, kwargs)
        learner = self._ready()
        b = learner.bucket(where, size)
        try:
            return learner.call(b, size, args, kwargs, out)
        finally:
            plan = b.plan
            if plan is not None and plan.left > 0 and out == where:
                plans = self._dev if where == DEVICE else self._host
                if len(plans) >= _PLAN_LIMIT:
                    plans.clear()
                plans[n] = plan
            self._maybe_save()

    def _failed(
        self,
        plan: Plan,
        where: str,
        n: Any,
        exc: Exception,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        learner = self._ready()
        b = learner.bucket(where, checked_size(n, self._size_name))
        plan.left += 1  # the call is answered below, not by the plan
        return learner.failed(b, plan.expert, exc, args, kwargs, where)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        """On a class: the gate bound to the instance (methods work)."""
        if obj is None:
            return self
        return BoundGated(self, obj)

    # --- targets and tuning ------------------------------------------------------------

    def use_device(self, device: int) -> None:
        """Send the CuPy experts to GPU `device`, with what was learned there (each GPU
        keeps its own buckets)."""
        self._device_wanted = device
        found = self._learners.get(device)
        self._host.clear()
        self._dev.clear()
        if found is not None:
            self._learner, self.device_index = found, device
            return
        self._learner = None
        self._ready()

    def learners(self) -> dict[int, Learner]:
        """What was learned per GPU target (-1: CPU only); for the tuner and reports."""
        self._ready()
        return dict(self._learners)

    def tune(self, where: str, tier: Tier, device: int | None = None) -> None:
        """Use hand-set thresholds (pure Python up to, CuPy above) for inputs in `where`."""
        learner = (
            self._learners.get(self.device_index if device is None else device) or self._ready()
        )
        learner.tune(_WHERE.get(where, where), tier)
        self._host.clear()
        self._dev.clear()

    # --- reports ---------------------------------------------------------------------

    def explain(self, *args: Any, **kwargs: Any) -> ExpertExplanation:
        """Which expert a call with these arguments runs, and why (nothing is run)."""
        from workbench.route.expert_report import explain

        size = self.size_of(*args, **kwargs)
        where = DEVICE if on_device(args, kwargs, self._types) else HOST
        return explain(self.qualname, self.status, self._ready(), size, where)

    def table(self) -> pd.DataFrame:
        """Expert x bucket: calls, samples, median and quartiles, chosen, status."""
        from workbench.route.expert_report import table

        return table(self._ready())

    @property
    def thresholds(self) -> Crossovers:
        """Where the chosen expert changes, per place the inputs live ('either' for ties)."""
        from workbench.route.expert_report import crossovers

        return crossovers(self._ready())

    def __repr__(self) -> str:
        names = ", ".join(e.name for e in self._specs)
        return f"<gated function {self.qualname} (experts: {names})>"


class BoundGated:
    """A gated method bound to its instance: calls, explain() and to() pass it first."""

    __slots__ = ("gate", "obj")

    def __init__(self, gate: Gated, obj: Any) -> None:
        self.gate, self.obj = gate, obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.gate(self.obj, *args, **kwargs)

    def explain(self, *args: Any, **kwargs: Any) -> ExpertExplanation:
        return self.gate.explain(self.obj, *args, **kwargs)

    def to(self, where: str) -> Callable[..., Any]:
        return functools.partial(self.gate.to(where), self.obj)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.gate, name)

    def __repr__(self) -> str:
        return f"<bound {self.gate!r} of {self.obj!r}>"
