"""The cost model (what cProfile costs per event and per instruction), the overhead it
estimates, and the corrected shares: exact numbers on planted statistics and fake clocks."""

from __future__ import annotations

import itertools
import types

import pytest
import workloads
from conftest import Tick

import workbench
from workbench.profiling import cost_model as cm
from workbench.profiling.capture import FuncKey, FuncStats, RawProfile
from workbench.profiling.correction import corrected_stats, function_costs
from workbench.profiling.cost_model import (
    CodeShape,
    CostModel,
    Events,
    count_events,
    count_functions,
)
from workbench.profiling.options import Options
from workbench.profiling.overhead import Overhead
from workbench.profiling.run import analyse

PLANTED = CostModel(
    python_call_s=200e-9,
    resume_s=100e-9,
    c_call_s=50e-9,
    penalties=(
        ("builtin", 20e-9),
        ("global", 5e-9),
        ("attribute", 10e-9),
        ("store_attr", 12e-9),
        ("subscript", 8e-9),
        ("unpack", 40e-9),
        ("arithmetic", 6e-9),
        ("compare", 7e-9),
        ("call", 15e-9),
    ),
    plain_s=1e-9,
    traced_s=1e-8,
    loop_factor=2.0,
)


def _times(model: CostModel) -> dict[str, tuple[float, float]]:
    """Per-iteration (plain, profiled) times that `model` would have produced."""
    empty = (10e-9, 30e-9)
    loop_added = empty[1] - empty[0]

    def pair(added: float) -> tuple[float, float]:
        return (50e-9, 50e-9 + loop_added + added)

    inner = next(c for c in cm._resumes.__code__.co_consts if isinstance(c, types.CodeType))
    times = {
        "_empty": empty,
        "_plain_ops": pair(model.body_s(cm._per_iteration(cm._plain_ops))),
        "_calls": pair(model.python_call_s + model.body_s(cm._per_iteration(cm._calls, cm._leaf))),
        "_resumes": (
            40e-9,
            40e-9 + model.resume_s + model.body_s(CodeShape.of(inner, loop_only=True)),
        ),
        "_c_calls": pair(model.c_call_s + model.body_s(cm._per_iteration(cm._c_calls))),
    }
    for loop in cm._FAMILY_LOOPS.values():
        times[loop.__name__] = pair(model.body_s(cm._per_iteration(loop)))
    return times


def test_the_costs_come_back_from_the_loop_times_they_produced() -> None:
    times = _times(PLANTED)
    model = cm.model_from_times(times)
    assert model is not None
    assert model.plain_s == pytest.approx(PLANTED.plain_s, rel=1e-9)
    for family, penalty in PLANTED.penalties:
        assert model.penalty(family) == pytest.approx(penalty, rel=1e-9), family
    assert model.python_call_s == pytest.approx(PLANTED.python_call_s, rel=1e-9)
    assert model.resume_s == pytest.approx(PLANTED.resume_s, rel=1e-9)
    assert model.c_call_s == pytest.approx(PLANTED.c_call_s, rel=1e-9)
    plain, profiled = times["_arithmetic"]
    assert model.loop_factor == pytest.approx(profiled / plain)


def test_each_family_loop_runs_only_its_own_kind_of_specialisable_instruction() -> None:
    for family, loop in cm._FAMILY_LOOPS.items():
        shape = cm._per_iteration(loop)
        assert [f for f, n in shape.families if n] == [family], loop.__name__


def test_a_loop_no_slower_profiled_is_unknown_never_zero() -> None:
    flat = {name: (1e-7, 1e-7) for name in _times(PLANTED)}
    assert cm.model_from_times(flat) is None


class Frozen:
    """A fake clock on which nothing takes any time (a machine too loaded to see a cost)."""

    def __init__(self) -> None:
        self.readings = itertools.count()

    def __call__(self) -> float:
        next(self.readings)
        return 1.0


def test_measuring_on_a_clock_that_sees_nothing_says_unknown_after_every_attempt() -> None:
    clock = Frozen()
    assert cm.measure_cost_model(calls=10, repeats=2, attempts=3, depth=0, clock=clock) is None
    # every loop x 2 repeats x (plain, profiled) x 2 readings, for each of the 3 attempts
    assert next(clock.readings) == len(cm._LOOPS) * 2 * 2 * 2 * 3


def test_an_unknown_cost_model_gives_an_unknown_overhead_not_1x() -> None:
    report = workbench.profile(workloads.top, timer=Tick(), call_cost_s=0.0)
    raw = RawProfile(dict(report.stats), 0.5, True)
    unknown = analyse(raw, Options(), plain_s=None, cost_model=None).overhead
    assert unknown.method == "unknown"
    assert "overhead unknown" in unknown.sentence()
    assert unknown.warning() is None


LOOPLESS = ("m.py", 1, "leaf")
LOOPER = ("m.py", 10, "driver")
SPINNER = ("m.py", 20, "spin")
GEN = ("m.py", 30, "<genexpr>")
NATIVE = ("~", 0, "<built-in method builtins.len>")


def _code(source: str, name: str) -> types.CodeType:
    space: dict[str, object] = {}
    exec(compile(source, "m.py", "exec"), space)
    fn = space[name]
    assert isinstance(fn, types.FunctionType)
    return fn.__code__


def _planted() -> tuple[dict[FuncKey, FuncStats], dict[FuncKey, types.CodeType]]:
    leaf = _code("def leaf(a):\n    return a.x + 1\n", "leaf")
    driver = _code("def driver(n):\n    for i in range(n):\n        leaf(i)\n", "driver")
    spin = _code("def spin(n):\n    t = 0\n    for i in range(n):\n        t += i\n", "spin")
    gen = next(
        c
        for c in _code("def g(x):\n    return sum(i for i in x)\n", "g").co_consts
        if isinstance(c, types.CodeType)
    )
    stats: dict[FuncKey, FuncStats] = {
        LOOPER: (1, 1, 0.01, 0.05, {}),
        LOOPLESS: (100, 100, 0.02, 0.02, {LOOPER: (100, 100, 0.02, 0.02)}),
        SPINNER: (1, 1, 0.3, 0.3, {LOOPER: (1, 1, 0.3, 0.3)}),
        GEN: (50, 50, 0.004, 0.004, {LOOPER: (50, 50, 0.004, 0.004)}),
        NATIVE: (10, 10, 0.001, 0.001, {LOOPLESS: (10, 10, 0.001, 0.001)}),
    }
    return stats, {LOOPLESS: leaf, LOOPER: driver, SPINNER: spin, GEN: gen}


def test_events_are_counted_by_kind_and_instructions_by_the_code_that_ran_them() -> None:
    stats, codes = _planted()
    events = count_events(stats, codes)
    leaf, driver, gen = (CodeShape.of(codes[k]) for k in (LOOPLESS, LOOPER, GEN))
    assert (events.python_calls, events.resumes, events.c_calls) == (102, 50, 10)
    assert events.loop_s == 0.3  # spin: a loop that calls nothing counts by its time
    # driver: its loop made 151 calls (100 leaf, 1 spin, 50 resumes) from its call sites
    driver_runs = 151 / driver.calls
    expected = 100 * leaf.instructions + 50 * gen.instructions + driver_runs * driver.instructions
    assert events.instructions == pytest.approx(expected)
    assert events.instruction_s == 0.0  # no model: counted, not costed


def test_instructions_cost_what_their_family_costs() -> None:
    stats, codes = _planted()
    roomy = {k: (v[0], v[1], 10.0, v[3], v[4]) for k, v in stats.items()}  # time is no bound
    events = count_events(roomy, codes, PLANTED)
    leaf, driver, gen = (CodeShape.of(codes[k]) for k in (LOOPLESS, LOOPER, GEN))
    assert dict(leaf.families) == {"arithmetic": 1, "attribute": 1}
    assert events.instruction_s == pytest.approx(
        100 * PLANTED.body_s(leaf)
        + 50 * PLANTED.body_s(gen)
        + 151 / driver.calls * PLANTED.body_s(driver)
    )


def test_a_builtins_name_is_its_own_family() -> None:
    shape = CodeShape.of(_code("def f(x):\n    return len(x) + y\n", "f"))
    families = dict(shape.families)
    assert families["builtin"] == 1 and families["global"] == 1


def test_a_function_is_never_counted_more_runs_than_its_time_allows() -> None:
    stats, codes = _planted()
    stats[LOOPLESS] = (100, 100, 1e-6, 1e-6, stats[LOOPLESS][4])  # far too little time
    bounded = count_functions(stats, codes, PLANTED)[LOOPLESS]
    leaf = CodeShape.of(codes[LOOPLESS])
    charged = 0.5 * (100 * PLANTED.python_call_s + 10 * PLANTED.c_call_s)
    assert bounded.runs == pytest.approx(max(1e-6 - charged, 0.0) / (1e-8 * leaf.instructions))


def test_the_estimate_is_the_cost_of_the_events_and_a_range_below_it() -> None:
    stats, codes = _planted()
    estimate = cm.estimate_added(stats, PLANTED, codes)
    events = estimate.events
    assert estimate.point_s == pytest.approx(
        102 * 200e-9 + 50 * 100e-9 + 10 * 50e-9 + events.instruction_s + 0.3 * (1 - 1 / 2.0)
    )
    assert estimate.low_s < estimate.point_s == estimate.high_s


def test_the_overhead_sentence_gives_the_range_and_what_it_was_made_of() -> None:
    overhead = Overhead.estimated(2.0, 100, 1.0, low_s=0.8, high_s=1.0, basis="planted events")
    assert overhead.factor == 2.0
    assert overhead.factor_range == (2.0 / 1.2, 2.0)
    text = overhead.sentence()
    assert "about 2.00x (estimate, likely 1.67-2.00x: planted events" in text


def test_each_functions_share_of_the_cost_lands_where_cprofile_charges_it() -> None:
    report = workbench.profile(
        workloads.top, category=["Leaf=func:^leaf$"], timer=Tick(), call_cost_s=1e-4
    )
    stats = dict(report.stats)
    model = CostModel.flat(1e-4)
    costs = function_costs(stats, model, {})
    by_name = {key[2]: cost for key, cost in costs.items()}
    # 30% of each call on the callee, 70% on the caller that made it
    assert by_name["leaf"] == pytest.approx(6 * 1e-4 * 0.3)
    assert by_name["mid"] == pytest.approx(2 * 1e-4 * 0.3 + 6 * 1e-4 * 0.7)
    fixed = corrected_stats(stats, costs)
    selfs = {key[2]: value[2] for key, value in fixed.items()}
    assert selfs["leaf"] == pytest.approx(0.006 - 0.00018)
    assert selfs["mid"] == pytest.approx(0.008 - 0.00048)
    total = sum(selfs.values())
    cats = report.categories.set_index("category")
    assert cats.loc["Leaf", "corrected_pct"] == pytest.approx(100 * selfs["leaf"] / total)
    assert cats.loc["Leaf", "est_overhead_s"] == pytest.approx(by_name["leaf"])
    # the cumulative time of mid loses its own cost and its calls' (leaf's) below it
    cum = {key[2]: value[3] for key, value in fixed.items()}
    assert cum["mid"] == pytest.approx(stats_cum(stats, "mid") - by_name["mid"] - by_name["leaf"])


def stats_cum(stats: dict[FuncKey, FuncStats], name: str) -> float:
    return next(value[3] for key, value in stats.items() if key[2] == name)


def test_a_plain_run_scales_the_costs_to_what_it_measured() -> None:
    stats, codes = _planted()
    costs = function_costs(stats, PLANTED, codes, added_s=0.1)
    assert sum(costs.values()) == pytest.approx(0.1)


def test_c_time_is_folded_into_its_callers_category_and_shown_beside_it() -> None:
    report = workbench.profile(lambda: workloads.serialise(300), call_cost_s=0.0)
    cats = report.categories.set_index("category")
    assert cats.loc["native", "pct"] > 0  # as profiled, C time is its own category
    assert cats.loc["native", "corrected_pct"] == 0.0
    # Everything but native holds the whole (the categories are user:workloads, stdlib and
    # the test module's own lambda; the test named one "user" from before user:<module>).
    assert cats.loc["user:workloads", "corrected_pct"] > 0
    assert cats.drop(index="native")["corrected_pct"].sum() == pytest.approx(100.0)
    native_in = cats["corrected_native_pct"].sum()
    assert native_in == pytest.approx(cats.loc["native", "pct"], rel=1e-6)


def test_events_cost_nothing_on_a_flat_zero_model() -> None:
    assert Events(10, 5, 3, 100.0, 0.0, 0.0).cost(CostModel.flat(0.0)) == 0.0


class Readings:
    """A fake clock: the given readings in order, then one second apart."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)
        self.after = readings[-1] if readings else 0.0

    def __call__(self) -> float:
        if self.readings:
            return self.readings.pop(0)
        self.after += 1.0
        return self.after


def test_a_plain_run_teaches_the_session_how_much_its_code_costs_to_profile() -> None:
    from workbench.experiment.session import Session

    # profiled run: 0 -> 1 s; plain run (--overhead): 2 -> 2.4 s; profiling added 0.6 s
    session = Session(
        {"workloads": workloads}, clock=Readings(0.0, 1.0, 2.0, 2.4), call_cost_s=0.02
    )
    options = session.options({"overhead": True}, use_pyproject=False)
    report = session.profile("workloads.top()\n", options, record=False).report
    assert report.overhead.method == "measured"
    assert report.overhead.added_s == pytest.approx(0.6)
    model = session.cost_model()
    assert model is not None
    assert model.scale == pytest.approx(0.6 / (0.02 * report.calls))
    assert "as a plain run of this session's code measured" in model.describe()


def test_child_processes_add_their_slowest_cost_to_the_wall_not_their_sum() -> None:
    # a parent that waits for two children: each child's cost is in its own times; the
    # wall grows by the slower one's (they ran side by side), at most by both
    model = cm.CostModel.flat(1e-6)
    own: dict[FuncKey, FuncStats] = {LOOPER: (1, 1, 0.01, 0.01, {})}
    fast: dict[FuncKey, FuncStats] = {("w.py", 1, "task"): (1_000, 1_000, 0.02, 0.02, {})}
    slow: dict[FuncKey, FuncStats] = {("w.py", 1, "task"): (3_000, 3_000, 0.06, 0.06, {})}
    merged = {**own, ("w.py", 1, "task"): (4_000, 4_000, 0.08, 0.08, {})}
    raw = RawProfile(merged, 0.1, True, own_stats=own, beside=(fast, slow))
    overhead = analyse(raw, Options(), plain_s=None, cost_model=model).overhead
    assert overhead.added_s == pytest.approx(1e-6 + 3_000e-6)
    assert overhead.plain_high_s == pytest.approx(0.1 - 1e-6)  # none was waited for
    assert overhead.plain_low_s == pytest.approx(0.1 - 1e-6 - 4_000e-6)  # one after another
    assert "child process" in overhead.sentence() or "child process" in overhead.basis
    # the same statistics as one process: every call on the wall
    alone = analyse(RawProfile(merged, 0.1, True), Options(), plain_s=None, cost_model=model)
    assert alone.overhead.added_s == pytest.approx(4_001e-6)
