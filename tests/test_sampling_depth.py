"""pyinstrument on deep recursion: sampling stops at a bounded depth and says so, instead of
running for minutes (each of its samples walks the whole stack, and once one costs more than
the interval every call takes a sample)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from workbench.profiling.sampling import run_sampled


@pytest.fixture
def deep_recursion_allowed() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    yield
    sys.setrecursionlimit(limit)


def descend(n: int) -> int:
    if n == 0:
        return sum(range(50_000))
    return descend(n - 1)


def test_sampling_stops_past_the_depth_limit_and_the_code_runs_on(
    deep_recursion_allowed: None,
) -> None:
    counted: list[int] = []

    def cell() -> int:
        value = descend(5_000)
        counted.append(value)
        return value

    raw, error = run_sampled([cell, cell], max_depth=200)
    assert error is None and raw.completed
    assert counted == [sum(range(50_000))] * 2  # the code itself ran to the end, twice
    assert raw.truncated_by is not None and "more than 200 frames" in raw.truncated_by
    assert "--mode cprofile" in raw.truncated_by
    assert all(len(stack) <= 200 for stack, _ in raw.stacks)
    assert sys.getprofile() is None


def test_shallow_code_is_sampled_to_the_end() -> None:
    raw, error = run_sampled([lambda: descend(50)], max_depth=200)
    assert error is None and raw.truncated_by is None
