"""The functions an experiment's change targets, and their categories.

A category that dominates a profile gets the finding "dominates and is not being worked
on" (:func:`workbench.experiment.findings.dominant_category`) unless an experiment works
on it. An experiment whose change targets one of its functions does, whatever the change
measured: ``--try memoize:dsl.objects`` works on ``user:dsl``. A target is ``(file,
name)`` as cProfile names a function (its code's file and name), the file None for a
function matched by name alone: a candidate cell that defines ``objects`` anew targets
the ``objects`` the baseline ran.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable

import pandas as pd

from workbench.experiment.patch import underlying

Site = tuple[str | None, str]


def sites(functions: Iterable[object]) -> list[Site]:
    """``(file, name)`` of each Python function (staticmethods and classmethods
    unwrapped); anything else is skipped."""
    found: list[Site] = []
    for obj in functions:
        func = underlying(obj)
        if func is not None:
            found.append((func.__code__.co_filename, func.__code__.co_name))
    return found


def defined_names(code: str) -> list[str]:
    """The functions `code` defines at its top level and in its top-level classes."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    names = [node.name for node in tree.body if isinstance(node, kinds)]
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names += [item.name for item in node.body if isinstance(item, kinds)]
    return names


def targeted_categories(functions: pd.DataFrame, targets: Iterable[Site]) -> set[str]:
    """The categories of the profiled `functions` (a table with ``file``, ``name`` and
    ``category``) that the `targets` name."""
    wanted = [(None if f is None else os.path.normcase(f), n) for f, n in targets]
    if functions.empty or not wanted:
        return set()
    found: set[str] = set()
    for file, name, category in zip(
        functions["file"], functions["name"], functions["category"], strict=True
    ):
        here = os.path.normcase(str(file))
        if any(name == n and (f is None or here == f) for f, n in wanted):
            found.add(str(category))
    return found
