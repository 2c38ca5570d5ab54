"""Workloads for the sampling, call-tree and export tests, in a real module file."""

from __future__ import annotations

import time


def spin(iterations: int) -> int:
    """A busy loop of pure bytecode: no calls, so all its time is its own."""
    total = 0
    for i in range(iterations):
        total += i & 7
    return total


def heavy(iterations: int) -> int:
    return spin(iterations)


def light(iterations: int) -> int:
    return spin(iterations)


def three_to_one(rounds: int = 5, iterations: int = 300_000) -> int:
    """`heavy` does three times the work of `light`, interleaved over `rounds`."""
    total = 0
    for _ in range(rounds):
        total += heavy(3 * iterations)
        total += light(iterations)
    return total


def natives(rounds: int = 30) -> int:
    """Time spent mostly inside C functions that cProfile names."""
    data = [(i * 7919) % 20_000 for i in range(20_000)]  # a permutation: sorting takes time
    seen: set[int] = set()
    out: list[int] = []
    for _ in range(rounds):
        out.append(len(sorted(data)))
        seen = seen.union(data)
        out.append(len(",".join(map(str, data[:2000]))))
    time.sleep(0.002)
    return len(out) + len(seen)


def shared(n: int) -> int:
    return spin(n)


def caller_a() -> int:
    return shared(30_000)


def caller_b() -> int:
    return shared(10_000)


def diamond() -> int:
    """`shared` is called from two callers: pstats cannot say which path took how long."""
    return caller_a() + caller_b()


def countdown(n: int) -> int:
    """Recursion: the tree must not descend into a function already on its path."""
    if n <= 0:
        return spin(2_000)
    return countdown(n - 1) + spin(500)


def step(i: int) -> int:
    return i & 7


def chatty(iterations: int) -> int:
    """A busy loop of small calls: the sampler sees thousands of events."""
    total = 0
    for i in range(iterations):
        total += step(i)
    return total


def heavy_calls(iterations: int) -> int:
    return chatty(iterations)


def light_calls(iterations: int) -> int:
    return chatty(iterations)


def three_to_one_calls(rounds: int = 5, iterations: int = 60_000) -> int:
    """`three_to_one` with a call per iteration, so samples fall inside the loops."""
    total = 0
    for _ in range(rounds):
        total += heavy_calls(3 * iterations)
        total += light_calls(iterations)
    return total


def tiny() -> None:
    """Returns at once: whatever time it gets is time it did not spend."""
    return None


def hashing_caller(rounds: int = 1_500, size: int = 20_000) -> int:
    """Long stretches of work with no point where the GIL can be taken (hashing a large
    tuple inside ``in``), each followed by a call of `tiny`: a sampler thread gets the
    GIL when `tiny` is entered, though the time was the caller's."""
    big = tuple(range(size))  # tuples do not cache their hash: every `in` hashes it
    seen: set[object] = {1, 2, 3}
    found = 0
    for _ in range(rounds):
        found += big in seen
        tiny()
    return found
