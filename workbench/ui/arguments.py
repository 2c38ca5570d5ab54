"""The run options shared by ``%%optimize`` and ``workbench profile``, declared once."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Spec:
    """One option: its flags and argparse keywords."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


RUN_OPTIONS: tuple[Spec, ...] = (
    Spec(
        ("-c", "--category"),
        {
            "action": "append",
            "default": [],
            "metavar": "LABEL=PATTERN",
            "help": "A category rule, tried before all others (repeatable). PATTERN is a path "
            "glob ('*/dsl.py'), module:PREFIX or func:REGEX.",
        },
    ),
    Spec(("--rules",), {"metavar": "FILE", "help": "A TOML file with a [categories] table."}),
    Spec(
        ("--depth",),
        {
            "choices": ["fast", "balanced", "aggressive"],
            "help": "Analysis depth: fast (sampling only), balanced (cProfile and categories; "
            "the default), aggressive (adds line hot spots, GPU timing and the call tree).",
        },
    ),
    Spec(
        ("--mode",),
        {
            "choices": ["cprofile", "sample", "pyinstrument"],
            "help": "cprofile (exact call counts; default), sample (a stack sampler: low overhead) or pyinstrument (sampling that also sees C calls).",
        },
    ),
    Spec(("--top",), {"type": int, "metavar": "N", "help": "Top functions per category (5)."}),
    Spec(
        ("--lines",),
        {
            "type": int,
            "metavar": "N",
            "help": "Re-run with line_profiler on the N user functions with most self time.",
        },
    ),
    Spec(
        ("-f", "--function"),
        {
            "action": "append",
            "default": None,
            "metavar": "NAME",
            "help": "Re-run with line_profiler on this function (repeatable; dotted names).",
        },
    ),
    Spec(
        ("--gpu",),
        {
            "action": "store_true",
            "default": None,
            "help": "Re-run with every CuPy call bracketed by CUDA events: device time per device.",
        },
    ),
    Spec(
        ("--tree",),
        {"action": "store_true", "default": None, "help": "Show the call tree (icicle and text)."},
    ),
    Spec(
        ("--overhead",),
        {
            "action": "store_true",
            "default": None,
            "help": "Re-run once without the profiler to measure the profiling overhead.",
        },
    ),
    Spec(
        ("--chart",),
        {
            "choices": ["inline", "cdn", "none"],
            "help": "How charts get plotly.js: inline (default; works offline), cdn (small), none.",
        },
    ),
    Spec(("-l", "--label"), {"metavar": "TEXT", "help": "A name for this run."}),
    Spec(
        ("--no-pyproject",),
        {"action": "store_true", "help": "Ignore [tool.workbench] of the nearest pyproject.toml."},
    ),
)


def unquote(text: str) -> str:
    """Strip one pair of matching quotes, as IPython leaves them on magic arguments."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def with_run_options(func: F) -> F:
    """Add every run option to a magic (IPython's magic_arguments)."""
    from IPython.core.magic_arguments import argument

    for spec in reversed(RUN_OPTIONS):
        func = argument(*spec.flags, **spec.kwargs)(func)
    return func


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add every run option to a command-line parser."""
    for spec in RUN_OPTIONS:
        parser.add_argument(*spec.flags, **spec.kwargs)


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The options the user gave (None where not given), for ``Options.build``."""
    return {
        "depth": args.depth,
        "mode": args.mode,
        "top": args.top,
        "lines": args.lines,
        "functions": args.function,
        "gpu": args.gpu,
        "tree": args.tree,
        "overhead": args.overhead,
        "chart": args.chart,
        "rules": unquote(args.rules) if args.rules else None,
    }
