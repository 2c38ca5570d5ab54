"""Cells with ``await`` at the top level: compiled as IPython's autoawait compiles them, run
to completion on an event loop, so they behave under the profiler as they do without it.

The code compiled with ``PyCF_ALLOW_TOP_LEVEL_AWAIT`` returns a coroutine when called. It
runs on the runner given (IPython's ``shell.loop_runner``, the loop the shell keeps for
``await`` in cells), else on a new event loop. Where an event loop is already running in
this thread (a Jupyter kernel's), no second loop can run in it: the coroutine runs on a
loop of its own in a helper thread, which the capture profiles like any thread.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import threading
import types
from collections.abc import Callable, Coroutine
from typing import Any

TOP_LEVEL_AWAIT: int = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
Runner = Callable[[Coroutine[Any, Any, Any]], Any]
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def has_top_level_await(tree: ast.AST) -> bool:
    """True when `tree` awaits (``await``, ``async for``, ``async with``) outside any function."""
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, ast.Await | ast.AsyncFor | ast.AsyncWith):
            return True
        if isinstance(node, ast.comprehension) and node.is_async:
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def compile_awaiting(
    compiler: Callable[..., types.CodeType], node: ast.AST, filename: str, mode: str
) -> types.CodeType:
    """`node` compiled by `compiler` with top-level ``await`` allowed."""
    if compiler is compile:
        return compile(node, filename, mode, flags=TOP_LEVEL_AWAIT)  # type: ignore[call-overload,no-any-return]
    extra_flags = getattr(compiler, "extra_flags", None)  # IPython's CachingCompiler
    if extra_flags is not None:
        with extra_flags(TOP_LEVEL_AWAIT):
            return compiler(node, filename, mode)
    return compile(node, filename, mode, flags=TOP_LEVEL_AWAIT)  # type: ignore[call-overload,no-any-return]


def is_coroutine_code(code: types.CodeType) -> bool:
    """True for code that, run as a function, returns a coroutine (it awaits)."""
    return bool(code.co_flags & inspect.CO_COROUTINE)


def awaiting_step(function: Callable[[], Any], runner: Runner | None) -> Callable[[], object]:
    """A step that calls `function` (which returns a coroutine) and runs it to its end."""

    def step() -> object:
        return run_coroutine(function(), runner)

    return step


def run_coroutine(coro: Coroutine[Any, Any, Any], runner: Runner | None = None) -> object:
    """Run `coro` to completion and return its value (or raise its exception, unchanged)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        if runner is not None:
            return runner(coro)
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()
    return _in_helper_thread(coro)


def _in_helper_thread(coro: Coroutine[Any, Any, Any]) -> object:
    outcome: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        try:
            outcome["value"] = loop.run_until_complete(coro)
        except BaseException as exc:  # handed back to the cell's thread unchanged
            outcome["error"] = exc
        finally:
            loop.close()

    helper = threading.Thread(target=run, name="workbench-await")
    helper.start()
    helper.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
