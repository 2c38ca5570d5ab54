"""Predictions from measurements, with exact numbers: the speedup arithmetic, memoize,
batch, exceptions and inline on hand-built probe logs, and what the source says."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import whatif_workloads as w

from workbench.profiling import whatif_changes as ch
from workbench.profiling.whatif_costs import Costs, Spread
from workbench.profiling.whatif_probe import Log, ProbeCosts, Site
from workbench.profiling.whatif_static import data_globals, forwards_to, loop_lines, purity

EXACT = Spread(1e-7, 1e-7, 1e-7)
COSTS = Costs(
    probe=ProbeCosts(0.0, 0.0),
    probe_sites=ProbeCosts(0.0, 0.0),
    clock_s=0.0,
    calls={0: EXACT, 1: EXACT, 2: EXACT},
    forwarders={2: Spread(5e-8, 4e-8, 6e-8)},
    raise_s=Spread(1e-6, 1e-6, 1e-6),
    raise_frame_s=Spread(0.0, 0.0, 0.0),
    lru_layer_s=Spread(0.0, 0.0, 0.0),
)
RUN = ch.RunTime(10.0, 10.0, 10.0, "10 s")
NO_PROBES = ch.InSitu({}, {}, {}, 1.0, 0.0, 0.0)


def test_the_whole_run_speedup_is_amdahls() -> None:
    assert ch.speedup(10.0, 2.0) == 1.25
    assert ch.speedup(10.0, -2.5) == 0.8
    assert math.isinf(ch.speedup(1.0, 1.0))
    made = ch.predict("f", "memoize", RUN, (1.0, 2.0, 5.0), "e", recommended=False, calls=1)
    assert (made.low, made.point, made.high) == (10 / 9, 1.25, 2.0)


def test_noise_widens_the_saving_and_the_run_time() -> None:
    run = ch.RunTime(10.0, 10.0, 10.0, "10 s", noise=0.1)
    made = ch.predict("f", "memoize", run, (2.0, 2.0, 2.0), "e", recommended=False, calls=1)
    assert made.low == pytest.approx(ch.speedup(11.0, 1.8))
    assert made.high == pytest.approx(ch.speedup(9.0, 2.2))
    assert made.point == 1.25


def test_memoize_saves_the_repeats_less_the_lookups() -> None:
    log = Log("f", calls=100, hits=60, hit_s=3.0, lookup_s=0.5, compared=60)
    made = ch.memoize("f", log, RUN, COSTS, [], NO_PROBES)
    assert made is not None and made.saving_s == 2.5
    assert made.point == pytest.approx(10 / 7.5)
    assert made.recommended and made.trial == "memoize:f"
    assert "60 of 100 calls (60%)" in made.evidence


def test_a_cache_that_costs_more_than_it_saves_is_not_recommended() -> None:
    log = Log("f", calls=100, hits=50, hit_s=0.2, lookup_s=0.3)
    made = ch.memoize("f", log, RUN, COSTS, [], NO_PROBES)
    assert made is not None and made.point < 1.0 and not made.recommended


def test_flagged_functions_are_predicted_but_never_recommended() -> None:
    log = Log("f", calls=100, hits=60, hit_s=3.0, lookup_s=0.1, compared=60, changed=4)
    flags = ch.memo_flags(log, purity(w.fill), ["SCALE"], False)
    assert any("different result" in f for f in flags)
    assert "it changes its argument 'bucket'" in flags
    assert any("'SCALE', which was rebound" in f for f in flags)
    made = ch.memoize("f", log, RUN, COSTS, flags, NO_PROBES)
    assert made is not None and made.point > 1.2 and not made.recommended and made.trial == ""
    assert "NOT RECOMMENDED" in made.evidence


def test_unhashable_arguments_make_memoize_not_applicable() -> None:
    log = Log("f", calls=100, unhashable=100, unhashable_type="unhashable type: 'list'")
    flags = ch.memo_flags(log, purity(w.slow_square), [], False)
    made = ch.memoize("f", log, RUN, COSTS, flags, NO_PROBES)
    assert made is not None and math.isnan(made.low) and not made.recommended
    assert "NOT APPLICABLE" in made.evidence and "list" in made.evidence


def test_no_repeats_means_no_memoize_prediction() -> None:
    assert ch.memoize("f", Log("f", calls=10), RUN, COSTS, [], NO_PROBES) is None


def test_the_probes_measured_cost_comes_out_of_the_repeats() -> None:
    log = Log("f", calls=16, hits=8, hit_s=1.0, doubled=2, doubled_hits=1, own_s=1.6)
    log.pairs = [0.5] * 30
    probes = ch.in_situ({"f": log})
    assert probes.per_call["f"] == 0.5 and probes.measured["f"]
    assert probes.total_s == (16 + 2) * 0.5
    assert ch.corrected(log, probes)[1] == 1.0 - (probes.ratio - 1) * 0 - 0.5


def test_the_run_time_is_the_pass_less_its_probes() -> None:
    # measured in situ: 3 s (give or take 2 x 0.25 s); as their accounting has it: 2 s
    probes = ch.InSitu({}, {}, {}, 1.5, 3.0, 0.25, booked_s=2.0, longest_s=1.0)
    run = ch.run_time(10.0, probes, COSTS)
    assert (run.low_s, run.seconds, run.high_s) == (6.5, 7.25, 8.0)
    faster_calls = ch.run_time(10.0, probes, COSTS, capture=(14.25, 1_000, 1e-3))
    assert faster_calls.call_factor == 7.0
    # the run took at least as long as its longest probed function
    bounded = ch.run_time(10.0, ch.InSitu({}, {}, {}, 1.0, 9.5, 0.0, 1.0, 7.0), COSTS)
    assert bounded.low_s == 7.0


def _sized(log: Log, line: list[tuple[int, float]]) -> None:
    for size, seconds in line:
        log.by_size[size] = [10, 10 * size, [seconds] * 10]


def test_batch_saves_the_fitted_fixed_cost_of_every_call_beyond_one_per_run() -> None:
    log = Log("f", calls=1_000, seconds=1.0)
    _sized(log, [(n, 2e-6 + 1e-7 * n) for n in range(1, 9)])
    intercept, se = ch.fit_intercept(log) or (0.0, 0.0)
    assert intercept == pytest.approx(2e-6) and se == pytest.approx(0.0, abs=1e-15)
    site = Site(calls=1_000, runs=10)
    log.sites = {(0, 5): site}
    site.code = types_code("<listcomp>")
    made = ch.batch("f", log, RUN, COSTS, 1, {}, NO_PROBES)
    assert made is not None and made.saving_s == pytest.approx(990 * 2e-6)
    assert "1,000 calls from" in made.evidence and "10 runs of that loop" in made.evidence


def test_no_fixed_cost_is_fitted_where_the_size_does_not_drive_the_time() -> None:
    log = Log("f")
    _sized(log, [(1, 5e-6), (2, 4e-6), (3, 5e-6), (4, 4e-6)])
    assert ch.fit_intercept(log) is None


def types_code(name: str) -> object:
    code = compile("[x for x in ()]", "<batch-test>", "exec")
    inner = next(c for c in code.co_consts if hasattr(c, "co_name"))
    assert inner.co_name == name
    return inner


def test_exceptions_range_from_the_raise_to_the_whole_failing_calls() -> None:
    log = Log("f", calls=1_000)
    log.raised["KeyError"] = 500
    log.raised_s, log.raised_depth = 0.004, 500
    made = ch.exceptions("f", log, RUN, COSTS)
    assert made is not None
    assert (made.saving_low_s, made.saving_high_s) == (pytest.approx(500e-6), 0.004)
    assert "KeyError 500x" in made.evidence


def test_inline_saves_a_wrappers_own_time() -> None:
    made = ch.inline("m.f", 1_000_000, (3e-8, 9e-8), 2, RUN, COSTS, "g")
    assert made is not None and made.trial == "inline:m.f"
    assert made.saving_low_s == pytest.approx(0.04) and made.saving_high_s == pytest.approx(0.09)


def test_inline_never_saves_more_than_the_wrapper_holds() -> None:
    # 1e6 calls at 2e-5 s each would be 20 s of a 10 s run: an infinite speedup, without
    # the ceiling; the wrapper's inclusive time in the plain run (4 s) bounds it.
    unbounded = ch.inline("m.f", 1_000_000, (2e-5, 2e-5), 2, RUN, COSTS, "g")
    assert unbounded is not None and math.isinf(unbounded.high)
    made = ch.inline("m.f", 1_000_000, (2e-5, 2e-5), 2, RUN, COSTS, "g", ceiling_s=4.0)
    assert made is not None and made.saving_high_s == pytest.approx(4.0)
    assert made.high == pytest.approx(10.0 / 6.0) and not math.isinf(made.point)


def test_the_source_tells_pure_functions_from_ones_a_cache_would_break() -> None:
    assert purity(w.slow_square).reasons == []
    assert purity(w.fill).mutates == ("bucket",)
    assert purity(w.bump_and_scale).writes_globals == ("SCALE",)
    assert "SCALE" in data_globals(w.scaled) and "SEEN" not in data_globals(w.scaled)


def test_forwarders_are_recognised_exactly() -> None:
    assert forwards_to(w.leaf_wrapper) == "_leaf"
    assert forwards_to(w.star_wrapper) == "_leaf"
    assert forwards_to(w.swapped) is None
    assert forwards_to(w.sum_leaves) is None


def test_loop_lines_cover_loop_bodies_and_comprehensions() -> None:
    lines = loop_lines(w.__file__)
    source = Path(w.__file__).read_text(encoding="utf-8").splitlines()
    body = next(i for i, text in enumerate(source, 1) if "total += lookup(table, key)" in text)
    plain = next(i for i, text in enumerate(source, 1) if "return table[key]" in text)
    assert body in lines and plain not in lines
