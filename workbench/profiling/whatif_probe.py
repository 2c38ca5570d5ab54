"""The what-if pass's instrument: a probe in place of each chosen function.

A probe calls the function it replaces and records, per call: the inclusive time (the
probes' own time taken out, also that of probes nested inside), whether the arguments
repeat an earlier call's (looked up in a table exactly as ``functools.lru_cache`` keys
it, and the time that lookup took, so hashing the user's own arguments is measured),
whether a repeated call returned an equal result, the exceptions leaving it, the caller's
line (for loop sites) and the input size. Nothing is interpreted here; see
:mod:`workbench.profiling.whatif_changes`.
"""

from __future__ import annotations

import sys
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.profiling.capture import Clock

MAX_ENTRIES = 200_000  # arguments kept per function; past this, new ones are not tracked
MAX_COMPARED = 2_000  # repeated calls whose result is compared with the first one
MAX_PAIRS = 4_096  # (doubled, single) pairs kept per function
DOUBLE_EVERY = 8  # every 8th call goes through a second probe: the probe's cost in situ
BUCKET_SAMPLES = 200  # per-call times kept per input-size bucket (their median is robust)
PROBATION = 1_000  # calls without a single repeat after which the probe stops looking
_SIZED = (tuple, list, str, bytes, dict, set, frozenset)
_MUTABLE = (list, dict, set, bytearray)
_SETS = (set, frozenset)
_KWD = object()  # separates positional from keyword arguments in a key, as lru_cache does
_MISSING = object()

SiteKey = tuple[str, int, str]


@dataclass(frozen=True)
class ProbeCosts:
    """What one probe costs, measured on this interpreter (see whatif_costs): `fixed_s`
    is the part of a probe's time no clock inside it sees, `bias_s` what its timing of
    the call reads beyond the call itself; `low`/`high` are the spread over repeats."""

    fixed_s: float
    bias_s: float
    fixed_low: float = 0.0
    fixed_high: float = 0.0
    bias_low: float = 0.0
    bias_high: float = 0.0
    raise_s: float = 0.0  # what an exception passing through the probe adds


@dataclass(slots=True)
class Site:
    """Calls from one line of one caller, and in how many separate runs of that caller."""

    code: Any = field(default=None, repr=False)
    calls: int = 0
    runs: int = 0
    last: object = field(default=None, repr=False)


@dataclass(slots=True)
class Log:
    """What the probe of one function saw (mutable while the pass runs)."""

    name: str
    memo: bool = True
    calls: int = 0
    seconds: float = 0.0
    hits: int = 0
    hit_s: float = 0.0
    hit_sq: float = 0.0
    hit_nested: int = 0
    shadowed: int = 0
    hit_depth: int = 0
    unhashable: int = 0
    unhashable_type: str = ""
    lookup_s: float = 0.0
    store_s: float = 0.0
    entries: int = 0
    full: bool = False
    compared: int = 0
    changed: int = 0
    reordered: int = 0  # equal set results whose iteration order differed
    uncomparable: int = 0
    mutable_result: str = ""
    raised: Counter[str] = field(default_factory=Counter)
    raised_s: float = 0.0
    raised_depth: int = 0
    sites: dict[Any, Site] = field(default_factory=dict)
    own_s: float = 0.0  # this probe's own time as its clocks and calibration account it
    inner_own: float = 0.0  # the probes' own time inside this function's calls
    hit_inner_own: float = 0.0  # ... inside its repeated calls
    doubled: int = 0  # calls made through a second, throwaway probe (its cost, in situ)
    doubled_hits: int = 0
    doubled_s: float = 0.0
    pairs: list[float] = field(default_factory=list)  # doubled minus the single call before
    last_single: float | None = None
    # per input-size bucket (with sites): [calls, sum of sizes, the first seconds seen]
    by_size: dict[int, list[Any]] = field(default_factory=dict)
    stopped: int = 0  # the call count at which the probe stopped looking for repeats
    array_calls: int = 0
    array_max: int = 0

    def site_calls(self) -> dict[SiteKey, Site]:
        """Sites by (file, line, caller name)."""
        out: dict[SiteKey, Site] = {}
        for (_, line), site in self.sites.items():
            out[(site.code.co_filename, line, site.code.co_name)] = site
        return out


@dataclass(slots=True)
class ProbeState:
    """Shared by the probes of one pass: their own time so far, and the exception last
    seen leaving a probe (one exception leaving several probes counts once, innermost)."""

    costs: ProbeCosts
    own_s: float = 0.0
    clock_s: float = 0.0
    count: int = 0
    last_exc: BaseException | None = field(default=None, repr=False)


def _same(a: object, b: object) -> bool | None:
    """Whether two results are equal (None: they cannot be compared)."""
    if a is b:
        return True
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    try:
        equal = a == b
        if isinstance(equal, bool):
            return equal
        return bool(equal.all())
    except Exception:
        return None


def _depth(exc: BaseException) -> int:
    depth, tb = 0, exc.__traceback__
    while tb is not None:
        depth, tb = depth + 1, tb.tb_next
    return depth


def _size(args: tuple[Any, ...], arrays: tuple[type, ...], log: Log) -> int:
    size = 0
    for arg in args:
        kind = type(arg)
        if kind in _SIZED:
            size += len(arg)
        elif kind in arrays:
            elements = int(arg.size)
            size += elements
            log.array_calls += 1
            if elements > log.array_max:
                log.array_max = elements
    return size


def _pair(log: Log, doubled: bool, elapsed: float) -> None:
    """Book a call's time: a doubled call pairs with the single call just before it."""
    if not doubled:
        log.last_single = elapsed
        return
    log.doubled += 1
    log.doubled_s += elapsed
    if log.last_single is not None and len(log.pairs) < MAX_PAIRS:
        log.pairs.append(elapsed - log.last_single)
    log.last_single = None


def make_probe(
    func: types.FunctionType,
    log: Log,
    state: ProbeState,
    *,
    clock: Clock,
    sites: bool = False,
    arrays: tuple[type, ...] = (),
    costs: ProbeCosts | None = None,
    double: bool = True,
) -> Callable[..., Any]:
    """A function that calls `func` and records into `log` (see the module docstring).

    With `sites`, it also records the caller's line and the input size of every call
    (for batching); `arrays` are the array types whose sizes it records; `costs` are its
    own measured costs (default: the state's). With `double`, every DOUBLE_EVERY-th call
    goes through a second probe of its own (a throwaway log): the difference between
    those calls' times and the others' is what a probe costs here, in this code.
    """
    table: dict[Any, list[Any]] = {}
    costs = costs or state.costs
    second: Callable[..., Any] | None = None
    if double:
        throwaway = ProbeState(costs, clock_s=state.clock_s)
        second = make_probe(
            func,
            Log(log.name),
            throwaway,
            clock=clock,
            sites=sites,
            arrays=arrays,
            costs=costs,
            double=False,
        )
    every = DOUBLE_EVERY - 1
    getframe = sys._getframe
    fixed = costs.fixed_s + costs.bias_s
    bias = costs.bias_s
    by_site = log.sites
    by_size = log.by_size

    def probe(*args: Any, **kwargs: Any) -> Any:
        t0 = clock()
        own_before = state.own_s
        count_before = state.count
        if sites:
            frame = getframe(1)
            key_site = (id(frame.f_code), frame.f_lineno)
            site = by_site.get(key_site)
            if site is None:
                site = by_site[key_site] = Site(frame.f_code)
            site.calls += 1
            if site.last is not frame:
                site.runs += 1
                site.last = frame
            ta = clock()
        else:
            ta = t0
        entry: list[Any] | None = None
        shadowed = log.hit_depth > 0
        if log.memo and not shadowed:
            key = (*args, _KWD, *kwargs.items()) if kwargs else args
            try:
                entry = table.get(key) if log.full else table.setdefault(key, [_MISSING])
            except TypeError as exc:  # unhashable
                log.unhashable += 1
                if not log.unhashable_type:
                    log.unhashable_type = str(exc)
                elif log.unhashable >= PROBATION // 10 and log.unhashable > log.calls:
                    log.memo = False  # never hashable so far: trying costs, and cannot pay
                    log.stopped = log.calls
        doubled = second is not None and (log.calls & every) == every
        t1 = clock()
        hit = entry is not None and entry[0] is not _MISSING
        if hit:
            log.hit_depth += 1
        try:
            result = second(*args, **kwargs) if doubled else func(*args, **kwargs)  # type: ignore[misc]
        except BaseException as exc:
            t2 = clock()
            if hit:
                log.hit_depth -= 1
            inner = state.own_s - own_before
            elapsed = t2 - t1 - bias - inner
            log.inner_own += inner
            if state.last_exc is not exc:
                state.last_exc = exc
                log.raised[type(exc).__name__] += 1
                log.raised_s += elapsed
                log.raised_depth += _depth(exc)
            log.calls += 1
            log.seconds += elapsed
            if shadowed:
                log.shadowed += 1
            else:
                log.lookup_s += t1 - ta - state.clock_s
            _pair(log, doubled, elapsed)
            own = (t1 - t0) + (clock() - t2) + fixed + costs.raise_s
            log.own_s += own
            state.count += 1
            state.own_s += own
            raise
        t2 = clock()
        inner = state.own_s - own_before
        elapsed = t2 - t1 - bias - inner
        log.calls += 1
        log.seconds += elapsed
        log.inner_own += inner
        _pair(log, doubled, elapsed)
        if doubled:
            log.doubled_hits += hit
        if shadowed:
            log.shadowed += 1
        else:
            log.lookup_s += t1 - ta - state.clock_s
        if hit:
            log.hit_depth -= 1
            log.hits += 1
            log.hit_s += elapsed
            log.hit_sq += elapsed * elapsed
            log.hit_nested += state.count - count_before
            log.hit_inner_own += inner
            if log.compared < MAX_COMPARED:
                log.compared += 1
                same = _same(result, entry[0])  # type: ignore[index]
                if same is None:
                    log.uncomparable += 1
                elif not same:
                    log.changed += 1
                elif (
                    type(result) in _SETS
                    and result is not entry[0]  # type: ignore[index]
                    and list(result) != list(entry[0])  # type: ignore[index]
                ):
                    log.reordered += 1
        elif entry is not None:
            entry[0] = result
            if log.hits == 0 and log.calls >= PROBATION:
                log.memo = False  # no repeat so far: looking costs, and cannot pay
                log.stopped = log.calls
                table.clear()
            elif not log.full:
                log.entries += 1
                log.full = log.entries >= MAX_ENTRIES
            if not log.mutable_result and isinstance(result, _MUTABLE):
                log.mutable_result = type(result).__name__
        if arrays and not sites and not doubled:
            _size(args, arrays, log)  # the array sizes only
        if sites and not doubled:
            size = _size(args, arrays, log) if args else 0
            bucket = by_size.get(size if size < 64 else 64 + size.bit_length())
            if bucket is None:
                bucket = by_size[size if size < 64 else 64 + size.bit_length()] = [0, 0, []]
            bucket[0] += 1
            bucket[1] += size
            if len(bucket[2]) < BUCKET_SAMPLES:
                bucket[2].append(elapsed)
        own = (t1 - t0) + (clock() - t2) + fixed
        log.own_s += own
        state.count += 1
        state.own_s += own
        return result

    probe.__wrapped__ = func  # type: ignore[attr-defined]
    probe.__name__ = func.__name__
    probe.__qualname__ = func.__qualname__
    probe.__doc__ = func.__doc__
    return probe
