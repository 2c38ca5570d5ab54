"""A cell with top-level ``await`` runs under %%optimize as it runs without it, on the
shell's own loop, and its time belongs to its coroutines."""

from __future__ import annotations

import asyncio
import traceback

import pytest
from coverage_work import griddsl
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench.profiling.async_cell import has_top_level_await, run_coroutine

DEFINE = """
import asyncio
from coverage_work import griddsl

async def solve_later(rounds):
    await asyncio.sleep(0.01)
    return griddsl.solve(rounds)
"""
CELL = """
values = await asyncio.gather(solve_later(150), solve_later(150))
total = sum(values)
await solve_later(10)
"""


def test_the_same_cell_without_and_with_the_magic(shell: InteractiveShell) -> None:
    shell.run_cell(DEFINE)
    plain = shell.run_cell(CELL)
    assert plain.success, plain.error_in_exec
    expected = shell.user_ns["total"]
    shell.user_ns["total"] = None
    with capture_output():
        shown = shell.run_cell("%%optimize -c DSL=*/griddsl.py -o r\n" + CELL)
    assert shown.success, shown.error_in_exec or shown.error_before_exec
    assert shell.user_ns["total"] == expected == 2 * griddsl.solve(150)
    report = shell.user_ns["r"]
    assert report.result == griddsl.solve(10)  # the awaited last expression
    cats = report.categories.set_index("category")
    assert cats.loc["DSL", "corrected_pct"] > 50
    functions = report.functions.set_index("name")
    # the coroutine is a function of its own in the profile, called from the loop
    assert functions.loc["solve_later", "category"] == "user:<cell>"
    assert functions.loc["solve_later", "cumtime"] >= functions.loc["solve", "cumtime"].sum()
    # the loop's wait in select/epoll is waiting, not a category to optimise
    assert "waiting" not in set(report.wins["category"])


def test_an_error_inside_the_awaited_code_is_the_code_own(shell: InteractiveShell) -> None:
    shell.run_cell("async def boom():\n    raise ValueError('from the coroutine')\n")
    with capture_output():
        result = shell.run_cell("%%optimize\nawait boom()\n")
    error = result.error_in_exec
    assert isinstance(error, ValueError) and str(error) == "from the coroutine"
    frames = traceback.extract_tb(error.__traceback__)
    assert frames[-1].name == "boom"  # raised where the code raised it


def test_profile_accepts_top_level_await_in_source() -> None:
    report = workbench.profile(
        "import asyncio\nawait asyncio.sleep(0)\n41 + 1", use_pyproject=False
    )
    assert report.result == 42


def test_inside_a_running_loop_the_coroutine_runs_on_a_helper_thread() -> None:
    async def inner() -> int:
        await asyncio.sleep(0)
        return 7

    async def outer() -> object:
        return run_coroutine(inner())  # called from code while a loop runs

    assert asyncio.run(outer()) == 7


@pytest.mark.parametrize(
    ("source", "awaits"),
    [
        ("await f()", True),
        ("async for x in g(): pass", True),
        ("y = [x async for x in g()]", True),
        ("async def f():\n    await g()", False),
        ("x = lambda: 1", False),
    ],
)
def test_top_level_await_is_told_from_await_inside_functions(source: str, awaits: bool) -> None:
    import ast

    assert has_top_level_await(ast.parse(source)) is awaits
