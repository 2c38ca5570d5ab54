"""What cProfile costs on this interpreter, per kind of event, and what it added to a run.

cProfile's cost is not one number per call. Two parts add up:

* **events**: its hook runs at every call and return of a Python function (a generator's
  resume and yield count as a call and a return), and of a C function;
* **instructions** (Python 3.11 and older): while a profile hook is set, the interpreter
  runs every bytecode instruction through its tracing path, unspecialised, so code runs
  slower between the events too: on 3.11 here about 5-10 ns more per instruction, several
  times what a specialised instruction costs. From 3.12 cProfile uses ``sys.monitoring``,
  which instruments only the calls, and this part is near zero (it is measured all the
  same).

:func:`measure_cost_model` times small loops plainly and under cProfile, at a realistic
stack depth, once per session (about 20 ms). :func:`estimate_added` weighs the costs by the
profile's own events, and its instructions by the code objects it ran (found by
:func:`code_index`): per call, the instructions of loop-free code; for code with loops,
what its calls made imply, bounded by the time the profile recorded for it. The estimate is
a range: branches skip part of a function's code (low: half of it runs) and C work inside
an instruction is not slowed down (the bound uses the cost of a traced instruction).

Under load a plain loop can be slower than the profiled one; every cost is the difference
of separate minima over several repeats, measured again when it comes out at zero or
below, and ``None`` (unknown) when it still does.
"""

from __future__ import annotations

import cProfile
import dis
import opcode
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from workbench.profiling.capture import Clock, FuncKey, FuncStats, check_no_profiler

_T = TypeVar("_T")
# The stack depth the loops are timed at: a notebook cell runs about 30-40 frames below
# the kernel's event loop.
REALISTIC_DEPTH = 40
_CACHE = dis.opmap.get("CACHE", -1)
_CALLS = frozenset(dis.opmap[name] for name in ("CALL", "CALL_FUNCTION_EX") if name in dis.opmap)
_BACKWARD = frozenset(
    dis.opmap[name]
    for name in ("JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE")
    if name in dis.opmap
)
# Instructions that carry inline caches: the ones the interpreter specialises, and that
# run unspecialised while profiled (Python 3.11+).
_ADAPTIVE = frozenset(
    op for op, entries in enumerate(getattr(opcode, "_inline_cache_entries", ())) if entries > 0
)
_GENERATOR_FLAGS = 0x20 | 0x100 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ASYNC_GENERATOR
# Share of a function's instructions that run per call at least (branches skip the rest).
LOW_PATH_SHARE = 0.5


@dataclass(frozen=True)
class CostModel:
    """Seconds cProfile adds, measured on this interpreter (see :func:`measure_cost_model`).

    Per event: `python_call_s` a call of a Python function, `resume_s` a resume of a
    generator or coroutine, `c_call_s` a call of a C function. Per bytecode instruction
    run while profiled, beyond its plain cost: `adaptive_s` for one the interpreter
    specialises (attribute and global loads, arithmetic, subscripts, calls), `plain_s`
    for the others. `traced_s`: the whole cost of an average instruction while profiled
    (no function is counted more instructions than its time allows); `loop_factor`:
    profiled over plain time of a loop that calls nothing (such loops count by time).
    """

    python_call_s: float
    resume_s: float
    c_call_s: float
    adaptive_s: float
    plain_s: float
    traced_s: float
    loop_factor: float
    depth: int = REALISTIC_DEPTH

    @classmethod
    def flat(cls, per_call_s: float) -> CostModel:
        """One cost for every call and none per instruction (a cost given by hand)."""
        return cls(per_call_s, per_call_s, per_call_s, 0.0, 0.0, 1e-9, 1.0)

    @property
    def per_call_s(self) -> float:
        """The cost of one Python call: the single figure older reports quote."""
        return self.python_call_s

    def describe(self) -> str:
        """The costs in ns, as the report's overhead note quotes them."""
        return (
            f"{self.python_call_s * 1e9:.0f} ns per Python call, {self.resume_s * 1e9:.0f} ns "
            f"per generator resume, {self.c_call_s * 1e9:.0f} ns per C call, "
            f"{self.adaptive_s * 1e9:.1f} and {self.plain_s * 1e9:.1f} ns per specialised "
            "and other bytecode instruction"
        )


@dataclass(frozen=True)
class CodeShape:
    """What a code object's bytecode says about its cost: instructions, call sites, loops."""

    instructions: int
    adaptive: int
    calls: int
    loops: bool
    generator: bool

    @classmethod
    def of(cls, code: types.CodeType) -> CodeShape:
        ops = code.co_code[::2]
        kinds = set(ops)
        instructions = len(ops) - ops.count(_CACHE) if _CACHE >= 0 else len(ops)
        return cls(
            instructions=max(instructions, 1),
            adaptive=sum(ops.count(op) for op in kinds & _ADAPTIVE),
            calls=sum(ops.count(op) for op in kinds & _CALLS),
            loops=bool(kinds & _BACKWARD),
            generator=bool(code.co_flags & _GENERATOR_FLAGS),
        )

    @property
    def adaptive_share(self) -> float:
        """The share of its instructions that the interpreter specialises."""
        return self.adaptive / self.instructions


@dataclass(frozen=True)
class Events:
    """A profile's events as the cost model counts them."""

    python_calls: int
    resumes: int
    c_calls: int
    adaptive: float  # specialisable instructions run
    plain: float  # other instructions run
    loop_s: float  # self time of loops that call nothing

    def cost(self, model: CostModel) -> float:
        """Seconds the model says these events cost cProfile."""
        return (
            self.python_calls * model.python_call_s
            + self.resumes * model.resume_s
            + self.c_calls * model.c_call_s
            + self.adaptive * model.adaptive_s
            + self.plain * model.plain_s
            + self.loop_s * (1.0 - 1.0 / max(model.loop_factor, 1.0))
        )


@dataclass(frozen=True)
class AddedEstimate:
    """Seconds cProfile added to a run: a point and a range, and the events behind them.

    The range: at least half of each function's instructions run per call (branches), at
    most all of them, within what its time allows."""

    point_s: float
    low_s: float
    high_s: float
    events: Events


def _key(code: types.CodeType) -> FuncKey:
    return (code.co_filename, code.co_firstlineno, code.co_name)


def _add_code(code: types.CodeType, found: dict[FuncKey, types.CodeType]) -> None:
    found.setdefault(_key(code), code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _add_code(const, found)


def code_index(
    keys: Iterable[FuncKey], pools: Iterable[Mapping[str, object]]
) -> dict[FuncKey, types.CodeType]:
    """Code objects of the functions (and the comprehensions, lambdas and generator
    expressions inside them) found in `pools` (namespaces: a cell's, the modules' of the
    profiled files), for the `keys` asked about."""
    wanted = set(keys)
    found: dict[FuncKey, types.CodeType] = {}
    for pool in pools:
        for value in list(pool.values()):
            members = list(vars(value).values()) if isinstance(value, type) else [value]
            for member in members:
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    members += [f for f in (member.fget, member.fset) if f is not None]
                    continue
                code = getattr(member, "__code__", None)
                if isinstance(code, types.CodeType):
                    _add_code(code, found)
    return {key: code for key, code in found.items() if key in wanted}


def module_pools(
    keys: Iterable[FuncKey], lookup: Callable[[str], str | None]
) -> list[Mapping[str, object]]:
    """The namespaces of the loaded modules whose files hold `keys` (`lookup`: file to
    module name)."""
    pools: list[Mapping[str, object]] = []
    seen: set[str] = set()
    for path in {key[0] for key in keys if key[0] != "~"}:
        name = lookup(path)
        if name is None or name in seen or name not in sys.modules:
            continue
        seen.add(name)
        pools.append(vars(sys.modules[name]))
    return pools


@dataclass(frozen=True)
class FunctionCount:
    """One function's share of a profile's events: instructions run, call-free loop time."""

    adaptive: float
    plain: float
    loop_s: float


def count_functions(
    stats: Mapping[FuncKey, FuncStats],
    codes: Mapping[FuncKey, types.CodeType],
    model: CostModel | None = None,
    *,
    path_share: float = 1.0,
) -> dict[FuncKey, FunctionCount]:
    """Instructions each Python function ran: per call, those of loop-free code and of a
    generator resume (times `path_share`: branches skip some); for a loop, at least what
    its calls imply (its instructions per call site); a loop that calls nothing counts by
    its time. A function whose code is not found counts the median of those found.

    With a `model`, no function is counted more instructions than its own self time
    allows at the traced cost of an instruction, once its events are taken out."""
    made = calls_made(stats)
    shapes = {key: CodeShape.of(code) for key, code in codes.items() if key in stats}
    typical = sorted(shapes.values(), key=lambda s: s.instructions)
    default = typical[len(typical) // 2] if typical else CodeShape(20, 8, 1, False, False)
    counts: dict[FuncKey, FunctionCount] = {}
    for key, (_pc, ncalls, tottime, _ct, _callers) in stats.items():
        if key[0] == "~":
            continue
        shape = shapes.get(key, default)
        if shape.loops and not shape.generator:
            if shape.calls == 0 or made.get(key, 0) == 0:
                counts[key] = FunctionCount(0.0, 0.0, tottime)
                continue
            counted = max(ncalls * shape.instructions, made[key] * shape.instructions / shape.calls)
        else:
            counted = ncalls * shape.instructions * path_share
        if model is not None:
            event = model.resume_s if shape.generator else model.python_call_s
            charged = 0.5 * (ncalls * event + made.get(key, 0) * model.c_call_s)
            counted = min(counted, max(tottime - charged, 0.0) / model.traced_s)
        share = shape.adaptive_share
        counts[key] = FunctionCount(counted * share, counted * (1.0 - share), 0.0)
    return counts


def calls_made(stats: Mapping[FuncKey, FuncStats]) -> dict[FuncKey, int]:
    """Calls each function made, from its callees' caller edges."""
    made: dict[FuncKey, int] = {}
    for _callee, (_pc, _nc, _tt, _ct, callers) in stats.items():
        for caller, edge in callers.items():
            made[caller] = made.get(caller, 0) + edge[1]
    return made


def is_generator(key: FuncKey, codes: Mapping[FuncKey, types.CodeType]) -> bool:
    """Whether `key` is a generator or coroutine (its calls are resumes)."""
    code = codes.get(key)
    return code is not None and bool(code.co_flags & _GENERATOR_FLAGS)


def count_events(
    stats: Mapping[FuncKey, FuncStats],
    codes: Mapping[FuncKey, types.CodeType],
    model: CostModel | None = None,
    *,
    path_share: float = 1.0,
) -> Events:
    """A profile's events and instructions (see :func:`count_functions`), in all."""
    counts = count_functions(stats, codes, model, path_share=path_share)
    python_calls = resumes = c_calls = 0
    for key, value in stats.items():
        if key[0] == "~":
            c_calls += value[1]
        elif is_generator(key, codes):
            resumes += value[1]
        else:
            python_calls += value[1]
    return Events(
        python_calls,
        resumes,
        c_calls,
        sum(c.adaptive for c in counts.values()),
        sum(c.plain for c in counts.values()),
        sum(c.loop_s for c in counts.values()),
    )


def estimate_added(
    stats: Mapping[FuncKey, FuncStats],
    model: CostModel,
    codes: Mapping[FuncKey, types.CodeType],
) -> AddedEstimate:
    """What cProfile added to the run whose statistics are `stats` (see the module doc)."""
    events = count_events(stats, codes, model)
    low = count_events(stats, codes, model, path_share=LOW_PATH_SHARE).cost(model)
    point = events.cost(model)
    return AddedEstimate(point, min(low, point), point, events)


# --- measuring the costs -----------------------------------------------------------------
#
# Small loops, each timed plainly and under cProfile; their instructions per iteration are
# counted from their bytecode the way `count_events` counts a profile's.

_G = 3


class _Box:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 1


def _leaf(a: int, b: int) -> int:
    return a + b


_LEAVES = tuple(
    types.FunctionType(_leaf.__code__.replace(co_name=f"_leaf{i}"), {}) for i in range(16)
)


def _empty(n: int) -> None:
    for _ in range(n):
        pass


def _plain_ops(n: int) -> None:
    a = b = c = 0
    for _ in range(n):
        a = b
        b = c
        c = a


def _adaptive_ops(n: int) -> None:
    box, items, a, b = _Box(), [1, 2], 1, 2
    for _ in range(n):
        x = box.value
        x = _G
        x = items[0]
        x = a + b
        x = a < b  # noqa: F841


def _calls(n: int) -> None:
    leaves = _LEAVES
    for i in range(n):
        leaves[i & 15](i, 1)


def _resumes(n: int) -> None:
    sum(i for i in range(n))  # resumed from C, as generator expressions mostly are


def _c_calls(n: int) -> None:
    fn = abs
    for _ in range(n):
        fn(0)


_LOOPS = (_empty, _plain_ops, _adaptive_ops, _calls, _resumes, _c_calls)


def _per_iteration(fn: Callable[[int], None], *inner: Callable[..., object]) -> tuple[int, int]:
    """Adaptive and other instructions one iteration of `fn` runs beyond the empty loop's
    (plus those of the functions it calls once per iteration)."""
    outer, empty = CodeShape.of(fn.__code__), CodeShape.of(_empty.__code__)
    adaptive = outer.adaptive - empty.adaptive
    plain = (outer.instructions - outer.adaptive) - (empty.instructions - empty.adaptive)
    for callee in inner:
        shape = CodeShape.of(callee.__code__)
        adaptive += shape.adaptive
        plain += shape.instructions - shape.adaptive
    return adaptive, plain


def _at_depth(depth: int, run: Callable[[], _T]) -> _T:
    if depth <= 0:
        return run()
    return _at_depth(depth - 1, run)


def _timed(fn: Callable[[int], None], n: int, profiled: bool, clock: Clock) -> float:
    if not profiled:
        start = clock()
        fn(n)
        return clock() - start
    profiler = cProfile.Profile()
    start = clock()
    profiler.enable()
    try:
        fn(n)
    finally:
        profiler.disable()
    return clock() - start


def time_loops(
    n: int, repeats: int, clock: Clock = time.perf_counter
) -> dict[str, tuple[float, float]]:
    """Per loop, (plain, profiled) seconds per iteration: medians over `repeats`
    interleaved rounds.

    Medians, not minima: on a shared machine (another process on the same core) a short
    loop's best run is faster than the user's run will be; the middle of several rounds
    is what a run of seconds meets."""
    plain: dict[str, list[float]] = {fn.__name__: [] for fn in _LOOPS}
    profiled: dict[str, list[float]] = {fn.__name__: [] for fn in _LOOPS}
    for _ in range(repeats):
        for fn in _LOOPS:
            plain[fn.__name__].append(_timed(fn, n, False, clock) / n)
            profiled[fn.__name__].append(_timed(fn, n, True, clock) / n)
    return {name: (_median(plain[name]), _median(profiled[name])) for name in plain}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return 0.5 * (ordered[middle - 1] + ordered[middle])


def model_from_times(
    times: Mapping[str, tuple[float, float]], depth: int = REALISTIC_DEPTH
) -> CostModel | None:
    """The cost model from per-iteration loop times (:func:`time_loops`); None when load
    made a cost come out at zero or below."""

    def added(name: str) -> float:
        plain, profiled = times[name]
        return profiled - plain - (times["_empty"][1] - times["_empty"][0])

    _, p_plain = _per_iteration(_plain_ops)
    plain_s = added("_plain_ops") / p_plain
    a_adapt, p_adapt = _per_iteration(_adaptive_ops)
    adaptive_s = (added("_adaptive_ops") - p_adapt * plain_s) / a_adapt

    def event(name: str, *inner: Callable[..., object]) -> float:
        a, p = _per_iteration(getattr(sys.modules[__name__], name), *inner)
        return added(name) - a * adaptive_s - p * plain_s

    python_call = event("_calls", _leaf)
    plain_resumes, traced_resumes = times["_resumes"]  # no loop of its own around them
    resume = traced_resumes - plain_resumes - _resume_instructions(adaptive_s, plain_s)
    c_call = event("_c_calls")
    plain_loop, traced_loop = times["_adaptive_ops"]
    per = sum(_per_iteration(_adaptive_ops)) + CodeShape.of(_empty.__code__).instructions
    if min(python_call, resume, c_call, adaptive_s, plain_s) <= 0 or plain_loop <= 0:
        return None
    return CostModel(
        python_call_s=python_call,
        resume_s=resume,
        c_call_s=c_call,
        adaptive_s=adaptive_s,
        plain_s=plain_s,
        traced_s=traced_loop / max(per, 1),
        loop_factor=traced_loop / plain_loop,
        depth=depth,
    )


def _resume_instructions(adaptive_s: float, plain_s: float) -> float:
    """What the generator expression of `_resumes` runs per resume, at those costs."""
    inner = next(c for c in _resumes.__code__.co_consts if isinstance(c, types.CodeType))
    shape = CodeShape.of(inner)
    return shape.adaptive * adaptive_s + (shape.instructions - shape.adaptive) * plain_s


def measure_cost_model(
    *,
    calls: int = 4_000,
    repeats: int = 5,
    attempts: int = 3,
    depth: int = REALISTIC_DEPTH,
    clock: Clock = time.perf_counter,
) -> CostModel | None:
    """The cost model of this interpreter, measured `depth` frames down (about 20 ms).

    Measured again when load made a cost come out at zero or below, up to `attempts`
    times; None (unknown) when it still does."""
    check_no_profiler()
    for _ in range(max(attempts, 1)):
        times = _at_depth(depth, lambda: time_loops(calls, repeats, clock))
        model = model_from_times(times, depth)
        if model is not None:
            return model
    return None
