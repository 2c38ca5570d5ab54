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

import builtins
import cProfile
import dis
import opcode
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
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


# Specialisable instructions by what their unspecialised form costs: a tuple unpack runs
# through the iterator protocol, a builtin's name misses the module's globals first, ...
FAMILY_OF = {
    "LOAD_GLOBAL": "global",
    "LOAD_ATTR": "attribute",
    "LOAD_METHOD": "attribute",
    "LOAD_SUPER_ATTR": "attribute",
    "STORE_ATTR": "store_attr",
    "BINARY_SUBSCR": "subscript",
    "STORE_SUBSCR": "subscript",
    "UNPACK_SEQUENCE": "unpack",
    "BINARY_OP": "arithmetic",
    "COMPARE_OP": "compare",
    "PRECALL": "call",
    "CALL": "call",
}
FAMILIES = (
    "builtin",
    "global",
    "attribute",
    "store_attr",
    "subscript",
    "unpack",
    "arithmetic",
    "compare",
    "call",
    "other",
)
_LOAD_GLOBAL = dis.opmap.get("LOAD_GLOBAL", -1)
_FOR_ITER = dis.opmap["FOR_ITER"]
_EXTENDED_ARG = dis.opmap.get("EXTENDED_ARG", -1)
_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class CostModel:
    """Seconds cProfile adds, measured on this interpreter (see :func:`measure_cost_model`).

    Per event: `python_call_s` a call of a Python function, `resume_s` a resume of a
    generator or coroutine, `c_call_s` a call of a C function. Per bytecode instruction
    run while profiled, beyond its plain cost: `penalties` for those the interpreter
    specialises, by family (:data:`FAMILIES`: a builtin's name, a global, an attribute,
    ...), `plain_s` for the others. `traced_s`: the whole cost of an average instruction
    while profiled (no function is counted more runs than its time allows); `loop_factor`:
    profiled over plain time of a loop that calls nothing (such loops count by time).
    `scale`: 1 as measured; once a plain run (``--overhead``) measured what profiling
    really added to this session's code, that over what these costs say
    (:func:`scaled_to`): tight loops keep their code and cProfile's tables in the fastest
    caches, real code does not, so real code costs more per event.
    """

    python_call_s: float
    resume_s: float
    c_call_s: float
    penalties: tuple[tuple[str, float], ...]
    plain_s: float
    traced_s: float
    loop_factor: float
    depth: int = REALISTIC_DEPTH
    scale: float = 1.0

    @classmethod
    def flat(cls, per_call_s: float) -> CostModel:
        """One cost for every call and none per instruction (a cost given by hand)."""
        return cls(per_call_s, per_call_s, per_call_s, (), 0.0, 1e-9, 1.0)

    @property
    def per_call_s(self) -> float:
        """The cost of one Python call: the single figure older reports quote."""
        return self.python_call_s

    def penalty(self, family: str) -> float:
        """Added seconds per run of a specialisable instruction of `family`."""
        table = dict(self.penalties)
        if family in table:
            return table[family]
        return sum(table.values()) / len(table) if table else 0.0

    def body_s(self, shape: CodeShape) -> float:
        """Added seconds for one run of every instruction of a code object."""
        return shape.plain * self.plain_s + sum(n * self.penalty(f) for f, n in shape.families)

    def describe(self) -> str:
        """The costs in ns, as the report's overhead note quotes them."""
        scaled = (
            f"; x{self.scale:.2f}, as a plain run of this session's code measured"
            if self.scale != 1.0
            else ""
        )
        return self._costs() + scaled

    def _costs(self) -> str:
        table = dict(self.penalties)
        span = (
            f"{min(table.values()) * 1e9:.0f}-{max(table.values()) * 1e9:.0f} ns per specialised "
            f"instruction (by kind), {self.plain_s * 1e9:.1f} ns per other"
            if table
            else "nothing per instruction"
        )
        return (
            f"{self.python_call_s * 1e9:.0f} ns per Python call, {self.resume_s * 1e9:.0f} ns "
            f"per generator resume, {self.c_call_s * 1e9:.0f} ns per C call, {span}"
        )


@dataclass(frozen=True)
class CodeShape:
    """What a code object's bytecode says about its cost: its instructions (specialisable
    ones by family, `plain` the others), call sites, loops."""

    instructions: int
    families: tuple[tuple[str, int], ...]
    plain: int
    calls: int
    loops: bool
    generator: bool

    @classmethod
    def of(cls, code: types.CodeType, *, loop_only: bool = False) -> CodeShape:
        """The shape of `code`; with `loop_only`, of its (first) loop alone: from its
        FOR_ITER to the jump back, what one iteration runs."""
        raw = code.co_code
        start, stop = 0, len(raw)
        if loop_only:
            ops = raw[::2]
            start = 2 * ops.index(_FOR_ITER)
            stop = 2 * max(i for i, op in enumerate(ops) if op in _BACKWARD) + 2
        counts: dict[str, int] = {}
        plain = calls = 0
        loops = False
        arg = 0
        for index in range(start, stop, 2):
            op = raw[index]
            if op == _CACHE:
                continue
            arg = (arg << 8) | raw[index + 1]
            if op == _EXTENDED_ARG:
                continue
            if op in _BACKWARD:
                loops = True
            if op in _CALLS:
                calls += 1
            if op in _ADAPTIVE:
                family = FAMILY_OF.get(dis.opname[op], "other")
                if op == _LOAD_GLOBAL:
                    position = arg >> 1 if sys.version_info >= (3, 11) else arg
                    names = code.co_names
                    if position < len(names) and names[position] in _BUILTINS:
                        family = "builtin"
                counts[family] = counts.get(family, 0) + 1
            else:
                plain += 1
            arg = 0
        total = plain + sum(counts.values())
        return cls(
            instructions=max(total, 1),
            families=tuple(sorted(counts.items())),
            plain=plain,
            calls=calls,
            loops=loops,
            generator=bool(code.co_flags & _GENERATOR_FLAGS),
        )

    def minus(self, other: CodeShape) -> CodeShape:
        """The instructions this code has beyond `other`'s (a loop's body beyond an empty
        loop's), by family."""
        mine, theirs = dict(self.families), dict(other.families)
        families = tuple(
            (f, mine.get(f, 0) - theirs.get(f, 0))
            for f in sorted(set(mine) | set(theirs))
            if mine.get(f, 0) != theirs.get(f, 0)
        )
        plain = self.plain - other.plain
        return CodeShape(
            max(plain + sum(n for _f, n in families), 1), families, plain, 0, False, False
        )

    def plus(self, other: CodeShape) -> CodeShape:
        """Both codes' instructions (a loop's body and the function it calls)."""
        mine, theirs = dict(self.families), dict(other.families)
        families = tuple(
            (f, mine.get(f, 0) + theirs.get(f, 0)) for f in sorted(set(mine) | set(theirs))
        )
        plain = self.plain + other.plain
        return CodeShape(plain + sum(n for _f, n in families), families, plain, 0, False, False)


@dataclass(frozen=True)
class Events:
    """A profile's events as the cost model counts them: calls by kind, the instructions
    run (for the report) and what they added (`instruction_s`), call-free loops' time."""

    python_calls: int
    resumes: int
    c_calls: int
    instructions: float
    instruction_s: float
    loop_s: float

    def cost(self, model: CostModel) -> float:
        """Seconds the model says these events cost cProfile."""
        return (
            self.python_calls * model.python_call_s
            + self.resumes * model.resume_s
            + self.c_calls * model.c_call_s
            + self.instruction_s
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
            # Only functions, classes' own dicts and descriptors are looked into: reading an
            # attribute of anything else may run its __getattr__ (six's lazy modules import).
            members = list(vars(value).values()) if isinstance(value, type) else [value]
            for member in members:
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    members += [f for f in (member.fget, member.fset) if f is not None]
                    continue
                if isinstance(member, types.FunctionType):
                    _add_code(member.__code__, found)
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
    """One function's share of a profile's events: how many times its whole body ran
    (`runs`: instructions run over its instructions), what that added (`added_s`, with
    a model), its call-free loop time."""

    runs: float
    instructions: float
    added_s: float
    loop_s: float


def count_functions(
    stats: Mapping[FuncKey, FuncStats],
    codes: Mapping[FuncKey, types.CodeType],
    model: CostModel | None = None,
    *,
    path_share: float = 1.0,
) -> dict[FuncKey, FunctionCount]:
    """How often each Python function's body ran: once per call for loop-free code and a
    generator resume (times `path_share`: branches skip some); for a loop, at least what
    its calls imply (its calls made over its call sites); a loop that calls nothing counts
    by its time. A function whose code is not found counts the median of those found.

    With a `model`, no function is counted more runs than its own self time allows, once
    its events are taken out, at what tracing adds to its instructions (their plain cost
    comes on top, so this bound is never too tight); `added_s` is what the runs'
    instructions added, by family."""
    made = calls_made(stats)
    shapes = {key: CodeShape.of(code) for key, code in codes.items() if key in stats}
    typical = sorted(shapes.values(), key=lambda s: s.instructions)
    default = (
        typical[len(typical) // 2]
        if typical
        else CodeShape(20, (("other", 8),), 12, 1, False, False)
    )
    counts: dict[FuncKey, FunctionCount] = {}
    for key, (_pc, ncalls, tottime, _ct, _callers) in stats.items():
        if key[0] == "~":
            continue
        shape = shapes.get(key, default)
        if shape.loops and not shape.generator:
            if shape.calls == 0 or made.get(key, 0) == 0:
                counts[key] = FunctionCount(0.0, 0.0, 0.0, tottime)
                continue
            runs = max(float(ncalls), made[key] / shape.calls)
        else:
            runs = ncalls * path_share
        added = 0.0
        if model is not None:
            event = model.resume_s if shape.generator else model.python_call_s
            charged = 0.5 * (ncalls * event + made.get(key, 0) * model.c_call_s)
            body = model.body_s(shape)
            if body > 0:  # its instructions cost at least what tracing adds to them
                runs = min(runs, max(tottime - charged, 0.0) / body)
            added = runs * body
        counts[key] = FunctionCount(runs, runs * shape.instructions, added, 0.0)
    return counts


def calls_made(stats: Mapping[FuncKey, FuncStats]) -> dict[FuncKey, int]:
    """Calls each function made, from its callees' caller edges (their first count: all
    calls; the second counts only calls not already inside one from the same caller)."""
    made: dict[FuncKey, int] = {}
    for _callee, (_pc, _nc, _tt, _ct, callers) in stats.items():
        for caller, edge in callers.items():
            made[caller] = made.get(caller, 0) + edge[0]
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
        sum(c.instructions for c in counts.values()),
        sum(c.added_s for c in counts.values()),
        sum(c.loop_s for c in counts.values()),
    )


def estimate_added(
    stats: Mapping[FuncKey, FuncStats],
    model: CostModel,
    codes: Mapping[FuncKey, types.CodeType],
) -> AddedEstimate:
    """What cProfile added to the run whose statistics are `stats` (see the module doc):
    the cost of its events, times the model's `scale`."""
    events = count_events(stats, codes, model)
    low = count_events(stats, codes, model, path_share=LOW_PATH_SHARE).cost(model)
    point = events.cost(model) * model.scale
    return AddedEstimate(point, min(low * model.scale, point), point, events)


# --- measuring the costs -----------------------------------------------------------------
#
# Small loops, each timed plainly and under cProfile; what one iteration runs is counted
# from their bytecode (beyond the empty loop's), by family, as `count_functions` counts.

_G = 3


class _Box:
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


def _builtins(n: int) -> None:
    for _ in range(n):
        x = len
        x = len
        x = len  # noqa: F841


def _globals(n: int) -> None:
    for _ in range(n):
        x = _G
        x = _G
        x = _G  # noqa: F841


def _attributes(n: int) -> None:
    box = _Box()
    for _ in range(n):
        x = box.value
        x = box.value
        x = box.value  # noqa: F841


def _stores(n: int) -> None:
    box = _Box()
    for i in range(n):
        box.value = i
        box.value = i
        box.value = i


def _subscripts(n: int) -> None:
    items = [1, 2, 3]
    for _ in range(n):
        x = items[0]
        x = items[1]
        x = items[2]  # noqa: F841


def _unpacks(n: int) -> None:
    pair = (1, 2)
    for _ in range(n):
        a, b = pair
        a, b = pair
        a, b = pair  # noqa: RUF059


def _arithmetic(n: int) -> None:
    a, b = 3, 4
    for _ in range(n):
        x = a + b
        x = a * b
        x = a - b  # noqa: F841


def _compares(n: int) -> None:
    a, b = 3, 4
    for _ in range(n):
        x = a < b
        x = a == b
        x = a > b  # noqa: F841


def _type_calls(n: int) -> None:
    make = object  # a type: its call is no event, only the CALL instructions
    for _ in range(n):
        x = make()
        x = make()  # noqa: F841


def _calls(n: int) -> None:
    leaves = _LEAVES
    for i in range(n):
        leaves[i & 15](i, 1)


_PAIRS = tuple((i, i + 1) for i in range(256))


def _resumes(n: int) -> None:
    """n resumes of generator expressions consumed by C, as they mostly are."""
    pairs = _PAIRS
    for _ in range(n // 256):
        frozenset((b, a) for a, b in pairs)
    rest = pairs[: n % 256]
    frozenset((b, a) for a, b in rest)


def _c_calls(n: int) -> None:
    fn = abs
    for _ in range(n):
        fn(0)


# The loop that measures each family (their bodies hold no other specialisable op).
_FAMILY_LOOPS: dict[str, Callable[[int], None]] = {
    "builtin": _builtins,
    "global": _globals,
    "attribute": _attributes,
    "store_attr": _stores,
    "subscript": _subscripts,
    "unpack": _unpacks,
    "arithmetic": _arithmetic,
    "compare": _compares,
    "call": _type_calls,
}
_LOOPS = (_empty, _plain_ops, *_FAMILY_LOOPS.values(), _calls, _resumes, _c_calls)


def _per_iteration(fn: Callable[[int], None], *inner: Callable[..., object]) -> CodeShape:
    """What one iteration of `fn` runs beyond the empty loop (with the functions it calls
    once per iteration)."""
    shape = CodeShape.of(fn.__code__, loop_only=True).minus(
        CodeShape.of(_empty.__code__, loop_only=True)
    )
    for callee in inner:
        shape = shape.plus(CodeShape.of(callee.__code__))
    return shape


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
    """Per loop, (plain, profiled) seconds per iteration: the best of `repeats`
    interleaved rounds, each side on its own (other processes only ever add time; on a
    loaded machine the middle of a few rounds of a millisecond can be any of them)."""
    plain: dict[str, list[float]] = {fn.__name__: [] for fn in _LOOPS}
    profiled: dict[str, list[float]] = {fn.__name__: [] for fn in _LOOPS}
    for _ in range(repeats):
        for fn in _LOOPS:
            plain[fn.__name__].append(_timed(fn, n, False, clock) / n)
            profiled[fn.__name__].append(_timed(fn, n, True, clock) / n)
    return {name: (min(plain[name]), min(profiled[name])) for name in plain}


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
    loop_added = times["_empty"][1] - times["_empty"][0]

    def added(name: str) -> float:
        plain, profiled = times[name]
        return profiled - plain - loop_added

    plain_s = added("_plain_ops") / _per_iteration(_plain_ops).plain
    penalties: dict[str, float] = {}
    for family, loop in _FAMILY_LOOPS.items():
        shape = _per_iteration(loop)
        count = dict(shape.families).get(family, 0)
        penalties[family] = (added(loop.__name__) - shape.plain * plain_s) / max(count, 1)
    model = CostModel(0.0, 0.0, 0.0, tuple(penalties.items()), plain_s, 1.0, 1.0, depth)
    python_call = added("_calls") - model.body_s(_per_iteration(_calls, _leaf))
    c_call = added("_c_calls") - model.body_s(_per_iteration(_c_calls))
    inner = next(c for c in _resumes.__code__.co_consts if isinstance(c, types.CodeType))
    plain_resumes, traced_resumes = times["_resumes"]  # per resume
    resume = traced_resumes - plain_resumes - model.body_s(CodeShape.of(inner, loop_only=True))
    plain_loop, traced_loop = times["_arithmetic"]
    per = CodeShape.of(_arithmetic.__code__, loop_only=True).instructions
    costs = [python_call, resume, c_call, plain_s, *penalties.values()]
    if min(costs) <= 0 or plain_loop <= 0:
        return None
    return CostModel(
        python_call_s=python_call,
        resume_s=resume,
        c_call_s=c_call,
        penalties=tuple(penalties.items()),
        plain_s=plain_s,
        traced_s=traced_loop / max(per, 1),
        loop_factor=traced_loop / plain_loop,
        depth=depth,
    )


def measure_cost_model(
    *,
    calls: int = 2_000,
    repeats: int = 4,
    attempts: int = 3,
    depth: int = REALISTIC_DEPTH,
    clock: Clock = time.perf_counter,
) -> CostModel | None:
    """The cost model of this interpreter, measured `depth` frames down (about 25 ms).

    Measured again when load made a cost come out at zero or below, up to `attempts`
    times; None (unknown) when it still does."""
    check_no_profiler()
    for _ in range(max(attempts, 1)):
        model = _at_depth(depth, lambda: _measure_once(calls, repeats, depth, clock))
        if model is not None:
            return model
    return None


def _measure_once(calls: int, repeats: int, depth: int, clock: Clock) -> CostModel | None:
    return model_from_times(time_loops(calls, repeats, clock), depth)


def scaled_to(model: CostModel, predicted_s: float, measured_s: float) -> CostModel:
    """The model with its `scale` set so that a run whose events it priced at
    `predicted_s` (unscaled) comes to `measured_s`, what a plain run showed profiling
    added; bounded to 0.5-4 (one run on a busy machine is no better than that)."""
    if predicted_s <= 0 or measured_s <= 0:
        return model
    return replace(model, scale=min(max(measured_s / predicted_s, 0.5), 4.0))
