"""Run code under cProfile, or plainly, and keep what was measured.

Nothing here interprets the numbers; it only makes sure that the profiler is
always switched off again and that the user's exception comes back unchanged.
"""

from __future__ import annotations

import _lsprof
import cProfile
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workbench.errors import ProfileError

FuncKey = tuple[str, int, str]
EdgeStats = tuple[int, int, float, float]
FuncStats = tuple[int, int, float, float, dict[FuncKey, EdgeStats]]
Step = Callable[[], object]
Clock = Callable[[], float]

# cProfile records the call that switches it off; it is ours, not the user's.
_OWN_ENTRIES = frozenset({("~", 0, "<method 'disable' of '_lsprof.Profiler' objects>")})
_GETPROFILE: FuncKey = ("~", 0, "<built-in method sys.getprofile>")


@dataclass
class RawProfile:
    """Function statistics in pstats form plus the run's wall time; no interpretation."""

    stats: dict[FuncKey, FuncStats]
    wall_s: float
    completed: bool
    result: object = None
    error: str | None = None
    # What cut the profile short while the code went on, as a note for the report (the code's
    # own profiler replaced ours, sys.setprofile(None), %prun inside the cell, a stack too
    # deep to sample); None when the profile covers the whole run. A truncated profile is
    # not complete, even when the code itself ran to the end (`completed`).
    truncated_by: str | None = None
    # With child processes or Dask workers merged into `stats`: the statistics of this
    # process alone (its threads included), and each other process's. Those ran beside
    # it: what cProfile cost them lengthened the wall time only where it was waited for.
    own_stats: dict[FuncKey, FuncStats] | None = None
    beside: tuple[dict[FuncKey, FuncStats], ...] = ()


def run_steps(steps: Sequence[Step]) -> BaseException | None:
    """Run `steps`, returning the exception they raised (KeyboardInterrupt included), unchanged.

    For passes whose instrument ignores this frame (line_profiler, the GPU tracer); the
    cProfile and sampling captures keep the loop inline so it adds no frame to the profile.
    """
    try:
        for step in steps:
            step()
    except BaseException as exc:  # handed back to the caller unchanged
        return exc
    return None


def describe_error(error: BaseException | None) -> str | None:
    """``Type: message`` of the exception the code raised, for reports."""
    return None if error is None else f"{type(error).__name__}: {error}"


def check_no_profiler() -> None:
    """Raise ProfileError when a profiler (``sys.setprofile``) is already running."""
    active = sys.getprofile()
    if active is not None:
        raise ProfileError(
            f"another profiler is already active ({active!r}): stop it (or finish the %prun, "
            "%lprun or %%pyinstrument that started it) and run again"
        )


def run_profiled(
    steps: Sequence[Step],
    *,
    timer: Clock | None = None,
    clock: Clock = time.perf_counter,
) -> tuple[RawProfile, BaseException | None]:
    """Run `steps` once under cProfile; the value of the last step is the result.

    An exception (KeyboardInterrupt included) stops the run: the statistics of what
    ran are still returned, marked incomplete, together with the exception object.
    """
    check_no_profiler()
    profiler = cProfile.Profile(timer) if timer is not None else cProfile.Profile()
    result: object = None
    error: BaseException | None = None
    start = clock()
    try:
        profiler.enable()
    except ValueError as exc:  # Python 3.12+: sys.monitoring slot taken by another tool
        raise ProfileError(f"cannot start cProfile: {exc}; stop the other profiler first") from None
    try:
        for step in steps:
            result = step()
    except BaseException as exc:
        error = exc
    finally:
        hook = sys.getprofile()  # recorded by cProfile, and taken out again below
        profiler.disable()
    wall = clock() - start
    profiler.create_stats()  # disables again: the code's hook goes back only after this
    truncated = hook_left_by_code(hook, profiler)
    raw_stats: dict[FuncKey, FuncStats] = profiler.stats  # type: ignore[assignment]
    stats = {key: value for key, value in raw_stats.items() if key not in _OWN_ENTRIES}
    _drop_own_call(stats, _GETPROFILE)
    described = describe_error(error)
    raw = RawProfile(stats, wall, error is None, result, described, truncated_by=truncated)
    return raw, error


def _drop_own_call(stats: dict[FuncKey, FuncStats], key: FuncKey) -> None:
    """Take out the call this module made from the frame that started the profiler: the
    part of `key`'s entry that no caller edge accounts for (the code's own calls have one)."""
    entry = stats.get(key)
    if entry is None:
        return
    callers = entry[4]
    if not callers:
        del stats[key]
        return
    sums = [sum(edge[i] for edge in callers.values()) for i in range(4)]
    stats[key] = (int(sums[0]), int(sums[1]), float(sums[2]), float(sums[3]), callers)


def hook_left_by_code(hook: object, ours: object) -> str | None:
    """After a cProfile run: what the code did to the profile hook (`hook`, read just before
    ours was disabled), as a note, or None when ours ran throughout.

    Before Python 3.12 cProfile and ``sys.setprofile`` share one slot per thread: a profiler
    the code started replaced ours, and disabling ours removed it, so it is put back here,
    running as the code left it. From 3.12 cProfile runs on ``sys.monitoring``, which the
    code's ``sys.setprofile`` neither stops nor is stopped by.
    """
    if hook is ours or sys.version_info >= (3, 12):
        return None
    if hook is None:
        return (
            "the code switched the profiler off part-way (sys.setprofile(None), or a "
            "profiler of its own, such as %prun, that has since stopped): these numbers "
            "cover only what ran before that"
        )
    enable = getattr(hook, "enable", None)
    if isinstance(hook, _lsprof.Profiler) and callable(enable):
        enable()  # the code's own cProfile, running on as the code left it
    else:
        sys.setprofile(hook)  # type: ignore[arg-type]
    return (
        f"the code started a profiler of its own ({type(hook).__name__}), which replaced this "
        "one part-way: these numbers cover only what ran before that; its profiler was left "
        "running, as the code left it"
    )


def run_plain(steps: Sequence[Step], *, clock: Clock = time.perf_counter) -> float:
    """Run `steps` once without instrumentation and return the seconds it took."""
    start = clock()
    for step in steps:
        step()
    return clock() - start


def _noop() -> None:
    return None


def _call_loop(calls: int) -> None:
    fn = _noop
    for _ in range(calls):
        fn()


def measure_call_cost(
    *, calls: int = 5_000, repeats: int = 3, clock: Clock = time.perf_counter
) -> float:
    """Seconds cProfile adds to one Python function call on this interpreter.

    The best of `repeats` paired measurements of an empty function called `calls`
    times, plainly and under cProfile, each timed with `clock`. Takes about 5 ms; the
    best of 3 x 5,000 calls is within 10% of the best of 3 x 20,000 here.
    """
    check_no_profiler()
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        _call_loop(calls)
        plain = clock() - start
        profiler = cProfile.Profile()
        start = clock()
        profiler.enable()
        try:
            _call_loop(calls)
        finally:
            profiler.disable()
        best = min(best, (clock() - start - plain) / calls)
    return max(best, 0.0)
