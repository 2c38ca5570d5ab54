"""Sample the running Python stack from a background thread: low overhead, no C frames.

A daemon thread wakes about every `interval` seconds, reads the stack of the thread that
runs the steps (``sys._current_frames()``) down to the frame that started them, and
charges the real time since its previous sample to that stack. Nothing runs on the
user's calls, where pyinstrument's and cProfile's hooks run on every call: the cost is
that of the samples alone, mostly the two thread switches each needs to pass the GIL
over and back (about 0.1 ms each sample on a small cloud VM, so about 10% at 1 ms).

What it cannot see:

* C functions. A C function has no Python frame, so its time is self time of the
  Python function that called it (`SampledProfile.native_folded`); there is no native
  category. `workbench.profiling.debias.fold_native` does the same to cProfile statistics so
  that the two can be compared like for like.
* Exact places. The sampler needs the GIL, which the running thread hands over only at
  a few points (a loop's jump back, entering a function, after a C call) or while a C
  function has released it, so a sample lands at the next such point. Each sample is
  weighted by the time since the previous one, so a late sample still counts for the
  time it stands for. A function that has just been entered (or a generator just
  resumed) and has run nothing yet is left off the stack: the time before the GIL
  came belongs to its caller, which was setting up the call (or allocating, or
  collecting garbage). Work between such points (a ``dict`` lookup hashing a large
  tuple, a function's tail after its last loop) still lands on the next point, which
  may be in the caller.

Threads: every thread that starts while the steps run is sampled too, its whole stack,
each sample's time charged to each thread (wall time, as cProfile's per-thread profiles
do). A stack that stands in one of the standard library's blocking places
(``Condition.wait``, a thread pool worker's queue get, ...) gets a leaf of the C function
it blocks in, so that its time is ``waiting`` (`workbench.profiling.sampled_threads`).
Threads that ran before the steps started are not sampled.
"""

from __future__ import annotations

import dis
import inspect
import sys
import threading
import time
import types
from collections.abc import Sequence

from workbench.errors import ProfileError
from workbench.profiling.capture import Clock, FuncKey, Step, check_no_profiler
from workbench.profiling.sampled_threads import BlockingSites, CodeThreads
from workbench.profiling.sampling import SampledProfile, Stack, stats_from_stacks
from workbench.profiling.threads import ThreadProfile

CodeStack = tuple[types.CodeType, ...]
# The instruction a function (or a resumed generator) starts with; the GIL can be taken
# there before the function has run anything. Python 3.10 has none.
RESUME: int | None = dis.opmap.get("RESUME")
# A GIL that came this much later than the switch interval means a long stretch without a
# point to hand it over (a C operation) ended at the sampled instruction.
LATE_S = 0.002
# The most of the run's time the sampler's own work may take: past it, samples are spaced
# further apart than the interval (deep stacks).
OWN_SHARE = 0.1


def just_entered(frame: types.FrameType) -> bool:
    """True when `frame` stands at its RESUME: entered (or resumed), nothing run yet."""
    if RESUME is None:
        return False
    code = frame.f_code.co_code
    lasti = frame.f_lasti
    return 0 <= lasti < len(code) and code[lasti] == RESUME


def function_start(frame: types.FrameType) -> bool:
    """True when `frame` stands at the RESUME that starts a function (not a generator's
    resume after a yield, whose own work is what comes next)."""
    return just_entered(frame) and frame.f_code.co_code[frame.f_lasti + 1] == 0


class _Found:
    """One distinct sampled stack: its code objects (kept alive), seconds and samples,
    and the C function its top blocks in, if it does."""

    __slots__ = ("codes", "leaf", "samples", "seconds")

    def __init__(self, codes: CodeStack, seconds: float, leaf: FuncKey | None = None) -> None:
        self.codes = codes
        self.seconds = seconds
        self.samples = 1
        self.leaf = leaf


class _Sampler:
    """Samples the stack of thread `target` below the frame of `run`, on a daemon thread.

    Stacks are collected by the identities of their code objects (hashing a code
    object costs microseconds); each distinct stack keeps its code objects alive, so an
    identity cannot be reused by another code object while it is stored.
    """

    def __init__(
        self,
        target: int,
        interval: float,
        clock: Clock,
        switch: float = 0.0,
        work_clock: Clock = time.perf_counter,
    ) -> None:
        self.target = target
        self.work_clock = work_clock
        self.anchor: types.FrameType | None = None
        self.interval = interval
        self.clock = clock
        self.found: dict[tuple[int, ...], _Found] = {}
        # the threads the steps start, by ident: their stacks, apart from the target's
        self.threads = CodeThreads(skip={target})
        self.thread_found: dict[int, dict[tuple[int, ...], _Found]] = {}
        self.sites = BlockingSites()
        self.own_s = 0.0
        self.work_s = 0.0  # time the sampler thread spent sampling (holding the GIL)
        self.handover_s = 0.0  # time the GIL took to come, beyond the switch interval
        self.count = 0
        self.switch = switch
        self.failure: BaseException | None = None
        self.last = 0.0  # the clock at the previous sample
        self.since = 0.0  # the clock when the steps started; no earlier time is theirs
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="workbench-stack-sampler", daemon=True
        )

    def run(self, steps: Sequence[Step]) -> tuple[object, BaseException | None, float]:
        """Start sampling, run `steps` in this frame, return (result, error, seconds).

        Only frames below this one are sampled: once the steps are done, samples are
        the sampler's own time (so is the time `stop` takes).
        """
        result: object = None
        error: BaseException | None = None
        self.last = self.clock()
        self._thread.start()
        start = self.since = self.clock()
        self.anchor = inspect.currentframe()
        try:
            for step in steps:
                result = step()
        except BaseException as exc:
            error = exc
        finally:
            self.anchor = None
        return result, error, self.clock() - start

    def stop(self) -> None:
        """Stop and join the thread, even if the wait is interrupted (Ctrl-C again)."""
        self._stop.set()
        interrupted: KeyboardInterrupt | None = None
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt as again:
                interrupted = again
        if interrupted is not None:
            raise interrupted

    def _loop(self) -> None:
        """Sample about every `interval` seconds until stopped.

        The GIL comes some time after the wait ends (up to the switch interval while
        the other thread runs bytecode), so the wait ends that much early: `lag`
        follows how late the samples come, capped at half the interval so that the
        thread always sleeps.
        """
        lag = 0.0
        due = time.perf_counter() + self.interval
        self.threads.skip.add(threading.get_ident())
        try:
            while True:
                now = time.perf_counter()
                wake = max(due - lag, now)
                if self._stop.wait(wake - now):
                    break
                sampled = time.perf_counter()
                # Past the wait's end, the thread waited for the GIL: the switch interval
                # if the code kept running, longer when it ran long without a point to
                # hand the GIL over.
                # Beyond the switch interval, the wait is mostly the hand-over: the code's
                # thread gives the GIL up and waits until this one is scheduled to take it
                # (long on a loaded machine), or a long stretch without a point to give it.
                handover = max(sampled - wake - self.switch, 0.0)
                started = self.work_clock()
                self.sample(late=handover > LATE_S)
                self.work_s += self.work_clock() - started
                self.handover_s += handover
                self.count += 1
                done = time.perf_counter()
                lag = min(max(lag + 0.5 * (sampled - due), 0.0), 0.5 * self.interval)
                # A dear sample (a deep stack to walk): space the next one out, so that the
                # sampler's own work stays under OWN_SHARE of the run.
                due = sampled + max(self.interval, (done - sampled) / OWN_SHARE)
        except BaseException as exc:  # handed to the caller after join, never dropped
            self.failure = exc

    def sample(self, late: bool = False) -> None:
        """Charge the time since the last sample to the target thread's current stack.

        A function that has just been entered and has run nothing yet: when the GIL came
        `late` (a long stretch without a point to hand it over ended with this call), the
        time is its caller's (a long C operation before the call); otherwise the callee
        keeps it (the stretch was short: mostly the return from the previous call, which
        is usually of the same code as this one). A generator just resumed keeps it."""
        now = self.clock()
        anchor = self.anchor  # read before `since`: `run` sets `since` first
        since = max(self.last, self.since)
        elapsed = max(now - since, 0.0)
        self.own_s += since - self.last
        self.last = now
        current = sys._current_frames()
        frame = current.get(self.target)
        if late and frame is not None and frame is not anchor and function_start(frame):
            frame = frame.f_back
        codes: list[types.CodeType] = []
        while frame is not None and frame is not anchor:
            codes.append(frame.f_code)
            frame = frame.f_back
        if frame is None or not codes:  # the thread is not inside the steps
            self.own_s += elapsed
            return
        self._add(self.found, codes, elapsed)
        for ident, top in self.threads.frames(current).items():
            codes = []
            frame = top
            while frame is not None:
                codes.append(frame.f_code)
                frame = frame.f_back
            if codes:
                self._add(self.thread_found.setdefault(ident, {}), codes, elapsed)

    def _add(
        self, found: dict[tuple[int, ...], _Found], codes: list[types.CodeType], elapsed: float
    ) -> None:
        """Charge `elapsed` to the stack `codes` (top first)."""
        top = codes[0]
        codes.reverse()
        ids = tuple(map(id, codes))
        entry = found.get(ids)
        if entry is None:
            found[ids] = _Found(tuple(codes), elapsed, self.sites.leaf(top))
        else:
            entry.seconds += elapsed
            entry.samples += 1


def code_key(code: types.CodeType) -> FuncKey:
    """The pstats key cProfile gives a Python function: file, first line, name."""
    return (code.co_filename, code.co_firstlineno, code.co_name)


def _stacks(found: Sequence[_Found]) -> tuple[dict[Stack, float], dict[Stack, int]]:
    seconds: dict[Stack, float] = {}
    counts: dict[Stack, int] = {}
    keys: dict[int, FuncKey] = {}
    for entry in found:
        stack = []
        for code in entry.codes:
            key = keys.get(id(code))
            if key is None:
                key = keys[id(code)] = code_key(code)
            stack.append(key)
        if entry.leaf is not None:
            stack.append(entry.leaf)
        path = tuple(stack)
        seconds[path] = seconds.get(path, 0.0) + entry.seconds
        counts[path] = counts.get(path, 0) + entry.samples
    return seconds, counts


def _thread_profiles(sampler: _Sampler) -> list[ThreadProfile]:
    main = threading.current_thread()
    profiles = [
        ThreadProfile(
            main.name,
            sampler.target,
            stats_from_stacks(*_stacks(list(sampler.found.values()))),
            False,
        )
    ]
    running = set(sys._current_frames())
    for ident, stacks in sampler.thread_found.items():
        stats = stats_from_stacks(*_stacks(list(stacks.values())))
        name = sampler.threads.names.get(ident, f"thread {ident}")
        profiles.append(ThreadProfile(name, ident, stats, ident in running))
    return profiles


def run_stack_sampled(
    steps: Sequence[Step],
    *,
    interval: float = 0.001,
    clock: Clock = time.perf_counter,
    switch_interval: float | None = None,
    work_clock: Clock = time.perf_counter,
    threads_out: list[ThreadProfile] | None = None,
) -> tuple[SampledProfile, BaseException | None]:
    """Run `steps` once in this thread while a daemon thread samples its stack and the
    stacks of the threads the steps start.

    `threads_out`, when given, receives one :class:`ThreadProfile` per thread: this
    thread's first, then each thread the steps started (``alive``: still running at the
    end), each with the statistics of its own samples (the profile has them all).

    The value of the last step is the result. An exception (KeyboardInterrupt
    included) stops the run: what was sampled is still returned, marked incomplete,
    together with the exception object. The sampling thread is always stopped and
    joined.

    The running thread keeps the GIL for up to `sys.getswitchinterval()` (5 ms by
    default) before the sampler may take it, which would space samples that far apart.
    For the run the switch interval is set to `switch_interval` (default: a quarter of
    `interval`, if that is shorter) and restored afterwards; pass
    ``sys.getswitchinterval()`` to leave it alone.

    The sampler's own cost is measured as it goes: `work_clock` times each sample (the
    time it holds the interpreter; the profile's `sample_s` is their mean), and the GIL's
    hand-over, which the code's thread waits out, is the time it took to come beyond the
    switch interval (`handover_s`, a mean; it also holds stretches with no point to hand
    over, which are the code's own time, so it is kept apart). When a sample's work costs
    more than `OWN_SHARE` of the interval (a deep stack to walk), the next one comes later.
    """
    if not interval > 0:
        raise ProfileError(f"the sampling interval must be > 0 seconds, got {interval!r}")
    if switch_interval is not None and not switch_interval > 0:
        raise ProfileError(f"the switch interval must be > 0 seconds, got {switch_interval!r}")
    check_no_profiler()
    old_switch = sys.getswitchinterval()
    switch = min(interval / 4, old_switch) if switch_interval is None else switch_interval
    sampler = _Sampler(threading.get_ident(), interval, clock, switch, work_clock)
    try:
        sys.setswitchinterval(switch)
        result, error, wall = sampler.run(steps)
    finally:
        try:
            sampler.stop()
        finally:
            sys.setswitchinterval(old_switch)
    if sampler.failure is not None:
        raise ProfileError(
            f"the stack sampler failed: {sampler.failure!r}; use --mode cprofile instead"
        ) from sampler.failure
    found = list(sampler.found.values())
    for stacks in sampler.thread_found.values():
        found += stacks.values()
    seconds, counts = _stacks(found)
    if threads_out is not None:
        threads_out += _thread_profiles(sampler)
    profile = SampledProfile.from_stacks(
        seconds,
        counts,
        wall_s=wall,
        result=result,
        error=error,
        interval_s=interval,
        own_s=sampler.own_s,
        native_folded=True,
    )
    if sampler.count:
        profile.sample_s = sampler.work_s / sampler.count
        profile.handover_s = sampler.handover_s / sampler.count
    return profile, error
