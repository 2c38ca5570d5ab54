"""Run code under pyinstrument's sampling profiler and turn the samples into pstats form.

The samples become the same statistics cProfile gives (``{(file, line, name): (pcalls,
ncalls, tottime, cumtime, callers)}``), so categories, tables and charts work unchanged.
Two things differ, and `SampledProfile` says so:

* times are sampled: a function's self time is the time of the samples in which it was
  the innermost frame, its cumulative time that of the samples with it anywhere on the
  stack (counted once per sample, so recursion is not counted twice);
* call counts are unknown: the count columns hold the number of *samples* with the
  function on the stack (``counts_are_samples``).

`SampledProfile` also carries the stack sampler's results (`workbench.profiling.stack_sampler`),
which see no C functions: there ``native_folded`` is true and a C function's time is
part of the self time of the Python function that called it.

pyinstrument records a C function only when a sample falls at its return; such frames
are named the way cProfile names them (``<built-in method builtins.len>``,
``<method 'sum' of 'numpy.ndarray' objects>``) so the native rules apply to both.
"""

from __future__ import annotations

import builtins
import inspect
import itertools
import os
import sys
import time
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ProfileError
from workbench.profiling.capture import (
    Clock,
    EdgeStats,
    FuncKey,
    FuncStats,
    RawProfile,
    Step,
    check_no_profiler,
    describe_error,
)

Stack = tuple[FuncKey, ...]
NATIVE_FILE = "<built-in>"  # pyinstrument's file name for a C function
# Deeper stacks make each pyinstrument sample cost about an interval (0.5 us a frame here).
MAX_SAMPLED_DEPTH = 1000


@dataclass
class SampledProfile(RawProfile):
    """A RawProfile built from samples; `stacks` keeps every distinct sampled stack."""

    stacks: list[tuple[Stack, float]] = field(default_factory=list)
    interval_s: float = 0.001
    samples: int = 0
    own_s: float = 0.0
    sample_s: float = 0.0  # the sampler's own time per sample (0: not measured)
    handover_s: float = 0.0  # the GIL's hand-over per sample, beyond the switch interval
    counts_are_samples: bool = True
    native_folded: bool = False

    @classmethod
    def from_stacks(
        cls,
        stacks: Mapping[Stack, float],
        counts: Mapping[Stack, int],
        *,
        wall_s: float,
        result: object,
        error: BaseException | None,
        interval_s: float,
        own_s: float,
        native_folded: bool = False,
    ) -> SampledProfile:
        """The profile of one sampled run, in the pstats form the tables read."""
        return cls(
            stats=stats_from_stacks(stacks, counts),
            wall_s=wall_s,
            completed=error is None,
            result=result,
            error=describe_error(error),
            stacks=list(stacks.items()),
            interval_s=interval_s,
            samples=sum(counts.values()),
            own_s=own_s,
            native_folded=native_folded,
        )

    @property
    def sampled_s(self) -> float:
        """Seconds covered by the kept samples; equals the sum of `tottime`."""
        return float(sum(seconds for _stack, seconds in self.stacks))


def run_sampled(
    steps: Sequence[Step],
    *,
    interval: float = 0.001,
    clock: Clock = time.perf_counter,
    timer: Clock | None = None,
    max_depth: int = MAX_SAMPLED_DEPTH,
) -> tuple[SampledProfile, BaseException | None]:
    """Run `steps` once under pyinstrument, sampling every `interval` seconds.

    Sampling stops (the profile says so in `truncated_by`) when the stack grows more than
    `max_depth` frames below this call: see :func:`depth_guarded`.

    The value of the last step is the result. An exception (KeyboardInterrupt
    included) stops the run: what was sampled is still returned, marked incomplete,
    together with the exception object. The profiler is always stopped. `timer`, when
    given, is the clock pyinstrument samples by (read at every call and return, as a
    fake clock in tests); `clock` times the whole run.
    """
    if not interval > 0:
        raise ProfileError(f"the sampling interval must be > 0 seconds, got {interval!r}")
    check_no_profiler()
    from pyinstrument import Profiler
    from pyinstrument.stack_sampler import get_stack_sampler

    sampler = get_stack_sampler()
    saved_timer = sampler.timer_func
    if timer is not None:
        sampler.timer_func = timer
    here = inspect.currentframe()
    profiler = depth_guarded(interval, _depth(here) + max_depth)
    result: object = None
    error: BaseException | None = None
    start = clock()
    try:
        try:
            profiler.start(caller_frame=here, target_description="workbench sampled run")
        except (RuntimeError, ValueError) as exc:
            raise ProfileError(
                f"cannot start pyinstrument: {exc}; stop the other profiler first"
            ) from None
        try:
            for step in steps:
                result = step()
        except BaseException as exc:
            error = exc
        finally:
            session = profiler.stop()
            profiler.hook = None
    finally:
        sampler.timer_func = saved_timer
    wall = clock() - start
    del here
    from pyinstrument.frame_info import frame_info_get_identifier

    prefix = [frame_info_get_identifier(info) for info in session.start_call_stack]
    records = [([frame_info_get_identifier(i) for i in s], t) for s, t in session.frame_records]
    own_dir = os.path.dirname(inspect.getfile(Profiler)) + os.sep
    stacks, counts, own = stacks_from_records(records, prefix, own_dir=own_dir)
    profile = SampledProfile.from_stacks(
        stacks, counts, wall_s=wall, result=result, error=error, interval_s=interval, own_s=own
    )
    if profiler.too_deep:
        profile.truncated_by = (
            f"pyinstrument stopped sampling when the stack grew more than {max_depth} frames "
            "below the cell: each of its samples walks the whole stack, so past that depth "
            "sampling takes longer than the code it samples; these numbers cover what ran "
            "before. Profile deep recursion with --mode cprofile or --mode sample"
        )
    return profile, error


def _depth(frame: types.FrameType | None) -> int:
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def depth_guarded(interval: float, max_stack: int) -> Any:
    """A pyinstrument Profiler that switches itself off at the first sample whose stack is
    longer than `max_stack` frames, and says so (`too_deep`).

    pyinstrument builds each sample's whole stack in Python and counts that time into the
    next interval, so once one sample costs more than the interval every call and return
    takes a sample: a 5,000-deep recursion then runs for minutes. Removing the hook from
    inside the sample is what pyinstrument's own C hook does on an error."""
    from pyinstrument import Profiler

    class DepthGuardedProfiler(Profiler):
        too_deep = 0
        hook: object = None  # pyinstrument's hook state, kept alive past its own callback

        def _sampler_saw_call_stack(self, call_stack: list[str], *args: Any) -> None:
            if len(call_stack) > max_stack:
                if not self.too_deep:
                    self.too_deep = len(call_stack)
                    self.hook = sys.getprofile()  # not freed while its callback still runs
                    sys.setprofile(None)
                return
            super()._sampler_saw_call_stack(call_stack, *args)

    return DepthGuardedProfiler(interval=interval, async_mode="disabled")


def stacks_from_records(
    records: Iterable[tuple[Sequence[str], float]],
    prefix: Sequence[str],
    *,
    own_dir: str | None = None,
    names: NativeNames | None = None,
) -> tuple[dict[Stack, float], dict[Stack, int], float]:
    """Distinct stacks (below `prefix`) with their seconds and sample counts.

    `records` are pyinstrument frame identifiers (``name\\0file\\0line``) root first;
    `prefix` is the stack of the frame that ran the code. Samples that stop at or
    above it, or whose next frame lies in `own_dir` (the profiler starting or
    stopping), are the profiler's own time, returned as the third value.
    """
    names = names if names is not None else NativeNames()
    depth = len(prefix)
    seconds: dict[Stack, float] = {}
    counts: dict[Stack, int] = {}
    own = 0.0
    keys: dict[str, FuncKey] = {}
    for identifiers, elapsed in records:
        if (
            len(identifiers) <= depth
            or list(identifiers[:depth]) != list(prefix)
            or (own_dir is not None and _file_of(identifiers[depth]).startswith(own_dir))
        ):
            own += elapsed
            continue
        stack = []
        for ident in identifiers[depth:]:
            key = keys.get(ident)
            if key is None:
                key = keys[ident] = _key_of(ident, names)
            stack.append(key)
        path = tuple(stack)
        seconds[path] = seconds.get(path, 0.0) + elapsed
        counts[path] = counts.get(path, 0) + 1
    return seconds, counts, own


def _file_of(identifier: str) -> str:
    return identifier.split("\x00", 2)[1] if identifier.count("\x00") >= 1 else ""


def _key_of(identifier: str, names: NativeNames) -> FuncKey:
    function, _, rest = identifier.partition("\x00")
    path, _, line = rest.partition("\x00")
    if path == NATIVE_FILE:
        return ("~", 0, names.cprofile_name(function))
    return (path, int(line) if line.isdigit() else 0, function)


def stats_from_stacks(
    seconds: Mapping[Stack, float], counts: Mapping[Stack, int] | None = None
) -> dict[FuncKey, FuncStats]:
    """pstats-form statistics from sampled stacks.

    tottime: seconds of the stacks a function ends; cumtime: of the stacks it is on,
    once per stack however often it recurs. Caller edges get the callee's times under
    that caller, again once per stack. Counts are sample counts (1 per stack if None).
    """
    tottime: dict[FuncKey, float] = {}
    cumtime: dict[FuncKey, float] = {}
    hits: dict[FuncKey, int] = {}
    edges: dict[FuncKey, dict[FuncKey, list[float]]] = {}
    for stack, elapsed in seconds.items():
        if not stack:
            continue
        n = counts[stack] if counts is not None else 1
        leaf = stack[-1]
        tottime[leaf] = tottime.get(leaf, 0.0) + elapsed
        for key in set(stack):
            cumtime[key] = cumtime.get(key, 0.0) + elapsed
            hits[key] = hits.get(key, 0) + n
        for caller, callee in set(itertools.pairwise(stack)):
            edge = edges.setdefault(callee, {}).setdefault(caller, [0.0, 0.0, 0.0])
            edge[0] += n
            edge[2] += elapsed
        if len(stack) > 1:
            edges[leaf][stack[-2]][1] += elapsed
    stats: dict[FuncKey, FuncStats] = {}
    for key, cum in cumtime.items():
        callers: dict[FuncKey, EdgeStats] = {
            caller: (int(c), int(c), tt, ct) for caller, (c, tt, ct) in edges.get(key, {}).items()
        }
        stats[key] = (hits[key], hits[key], tottime.get(key, 0.0), cum, callers)
    return stats


class NativeNames:
    """Turn pyinstrument's name for a C function into the name cProfile gives it.

    pyinstrument keeps only ``__qualname__`` (``len``, ``ndarray.sum``); cProfile writes
    ``<built-in method builtins.len>`` and ``<method 'sum' of 'numpy.ndarray' objects>``.
    The owning module or type is looked up among the loaded modules; a name that cannot
    be found keeps a cProfile-shaped name without a module.
    """

    def __init__(self, modules: Mapping[str, types.ModuleType] | None = None) -> None:
        self._modules = modules
        self._cache: dict[str, str] = {}
        self._namespaces: list[dict[str, object]] | None = None

    def cprofile_name(self, qualname: str) -> str:
        """The cProfile key name for the C function pyinstrument calls `qualname`."""
        name = self._cache.get(qualname)
        if name is None:
            name = self._cache[qualname] = self._resolve(qualname)
        return name

    def _module_dicts(self) -> list[dict[str, object]]:
        """The namespaces of the loaded modules, in name order; read once, when first needed."""
        if self._namespaces is None:
            source = self._modules if self._modules is not None else dict(sys.modules)
            self._namespaces = [
                namespace
                for _name, module in sorted(source.items())
                if isinstance(namespace := getattr(module, "__dict__", None), dict)
            ]
        return self._namespaces

    def _find(self, attr: str, kind: type | tuple[type, ...]) -> list[object]:
        builtin = getattr(builtins, attr, None)
        if isinstance(builtin, kind):
            return [builtin]
        seen: dict[int, object] = {}
        for namespace in self._module_dicts():
            value = namespace.get(attr)
            if isinstance(value, kind):
                seen.setdefault(id(value), value)
        return list(seen.values())

    def _resolve(self, qualname: str) -> str:
        if "." not in qualname:
            functions = self._find(qualname, types.BuiltinFunctionType)
            modules = sorted({str(getattr(f, "__module__", None) or "") for f in functions})
            module = modules[0] if modules else ""
            return (
                f"<built-in method {module}.{qualname}>"
                if module
                else f"<built-in method {qualname}>"
            )
        owner, _, method = qualname.rpartition(".")
        outer, _, inner = owner.partition(".")
        for candidate in self._find(outer, type):
            cls: object = candidate
            for part in inner.split(".") if inner else ():
                cls = getattr(cls, part, None)
            if not isinstance(cls, type):
                continue
            for base in cls.__mro__:
                attr = base.__dict__.get(method)
                if attr is None:
                    continue
                if isinstance(attr, (classmethod, staticmethod, types.ClassMethodDescriptorType)):
                    return f"<built-in method {method}>"
                return f"<method '{method}' of '{_type_name(base)}' objects>"
        return f"<method '{method}' of '{owner}' objects>"


def _type_name(cls: type) -> str:
    """A type's name as C code spells it (``tp_name``): builtins unqualified."""
    module = getattr(cls, "__module__", "builtins")
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
