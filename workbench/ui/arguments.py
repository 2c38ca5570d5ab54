"""The options of ``%%optimize``, declared once: the run options it shares with
``workbench profile``, and the run-store and experiment options of the magic; and how
the magic's line is read (:func:`parse_line`: split as a shell would, quotes off every
value, the statement kept as typed, empty values refused)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from workbench.errors import ConfigError

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
        ("--whatif",),
        {
            "action": "store_true",
            "default": None,
            "help": "Re-run with the top functions probed and predict what specific changes "
            "(memoize, batch, exceptions, inline, offload) would win for the whole run, each "
            "with a range and its evidence (report.whatif).",
        },
    ),
    Spec(
        ("--memory",),
        {
            "action": "store_true",
            "default": None,
            "help": "Re-run under tracemalloc: the bytes each category and line held at the "
            "peak and at the end, beside the time (report.memory, report.memory_lines).",
        },
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
            "choices": ["mime", "inline", "cdn", "none"],
            "help": "How charts are drawn: mime (default: plotly's own output type, drawn by "
            "JupyterLab, Notebook 7 and VS Code, offline; small outputs), inline (HTML with "
            "plotly.js embedded, about 4.7 MB, draws anywhere), cdn (plotly.js from the "
            "internet), none.",
        },
    ),
    Spec(("-l", "--label"), {"metavar": "TEXT", "help": "A name for this run."}),
    Spec(
        ("--no-pyproject",),
        {"action": "store_true", "help": "Ignore [tool.workbench] of the nearest pyproject.toml."},
    ),
)


EXPERIMENT_OPTIONS: tuple[Spec, ...] = (
    Spec(
        ("--baseline",),
        {
            "metavar": "NAME",
            "help": "Record this run as the baseline NAME: its code, profile and outputs go to the run store.",
        },
    ),
    Spec(
        ("--candidate",),
        {
            "metavar": "NAME",
            "help": "Run this cell as candidate NAME against a baseline: profile it once, then RE-RUN both the baseline's stored code and this cell, interleaved, within --budget; report the speedup with a confidence interval, check the outputs and give a verdict (keep, revert, broken). Both re-run in copies of your namespace. -o NAME stores the ExperimentResult.",
        },
    ),
    Spec(
        ("--try",),
        {
            "dest": "try_change",
            "metavar": "CHANGE:FUNCTION",
            "help": "Measure the cell with one change applied in place (memoize:mod.func, "
            "inline:mod.func) against the cell as it is: records it as a baseline with a "
            "what-if prediction, then RE-RUNS both, interleaved, within --budget, patching "
            "every module that holds the function and restoring them after each run. The "
            "verdict shows predicted against measured.",
        },
    ),
    Spec(
        ("--against",),
        {
            "metavar": "NAME",
            "help": "The baseline a candidate is measured against (default: the latest recorded).",
        },
    ),
    Spec(
        ("--trust-baseline",),
        {
            "action": "store_true",
            "help": "With --candidate: re-run a baseline this kernel did not record (an "
            "earlier kernel's, a store from elsewhere) without asking; its code is shown first.",
        },
    ),
    Spec(
        ("--keep-outputs",),
        {
            "action": "store_true",
            "help": "With --baseline: keep every output whole in the run store (by default "
            "outputs past 1 MiB are kept as fingerprints).",
        },
    ),
    Spec(
        ("--check",),
        {
            "action": "append",
            "default": [],
            "metavar": "VAR",
            "help": "Compare the variable VAR instead of the cell's result (repeatable).",
        },
    ),
    Spec(
        ("--budget",),
        {
            "type": float,
            "default": 30.0,
            "metavar": "SECONDS",
            "help": "Time budget of a candidate's experiment (default 30).",
        },
    ),
    Spec(
        ("--rtol",),
        {
            "type": float,
            "default": 1e-7,
            "help": "Relative tolerance for floats in the output check.",
        },
    ),
    Spec(
        ("--atol",),
        {
            "type": float,
            "default": 0.0,
            "help": "Absolute tolerance for floats in the output check.",
        },
    ),
    Spec(
        ("--compare",),
        {
            "nargs": 2,
            "metavar": ("A", "B"),
            "help": "Line form: diff stored runs A and B (ids, -1 for the latest, names) by category and function.",
        },
    ),
    Spec(
        ("--postmortem",),
        {
            "metavar": "FILE",
            "help": "Line form: write the postmortem (markdown) of the stored runs and experiments to FILE.",
        },
    ),
    Spec(
        ("--target",),
        {
            "type": float,
            "metavar": "PCT",
            "help": "With --postmortem: the goal as a cut of the baseline's time, e.g. 60 for -60%%.",
        },
    ),
    Spec(("--title",), {"metavar": "TEXT", "help": "With --postmortem: its title."}),
    Spec(
        ("--all-runs",),
        {
            "action": "store_true",
            "help": "With --postmortem or --compare: every run in the store, not only this notebook's.",
        },
    ),
    Spec(
        ("--redact",), {"action": "store_true", "help": "With --postmortem: leave source code out."}
    ),
    Spec(
        ("--workflow",),
        {
            "action": "store_true",
            "help": "Line form: show the workflow phases and what blocks them.",
        },
    ),
    Spec(
        ("--resolve",),
        {
            "metavar": "PHASE",
            "help": "Line form: mark a failed workflow PHASE resolved (with --note).",
        },
    ),
    Spec(("--note",), {"metavar": "TEXT", "help": "With --resolve: how the phase was resolved."}),
    Spec(("--runs",), {"action": "store_true", "help": "Line form: list the stored runs."}),
    Spec(
        ("--store",),
        {
            "metavar": "PATH",
            "help": "The run store file (default: WORKBENCH_STORE, [tool.workbench] store, or .workbench/runs.sqlite in the project). Alone on a line: use PATH from now on.",
        },
    ),
    Spec(
        ("--no-store",),
        {"action": "store_true", "help": "Do not record this run in the run store."},
    ),
)


_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
# Options whose value names something (a file, a run, a variable): never empty.
NAMED = (
    "category", "rules", "label", "function", "baseline", "candidate", "against", "check",
    "compare", "postmortem", "title", "resolve", "note", "store", "save", "output",
)  # fmt: skip


@dataclass(frozen=True)
class Token:
    """One word of the magic line: its text with the quotes taken off, where it starts in
    the line, and whether any part of it was quoted."""

    text: str
    start: int
    quoted: bool


def tokens(line: str) -> list[Token]:
    """Split the line as a shell would, without backslash escapes (so Windows paths stay
    as typed): words split at whitespace outside quotes, a quote pair (``'...'`` or
    ``"..."``) anywhere in a word is taken off. ConfigError when a quote is not closed."""
    out: list[Token] = []
    word: list[str] = []
    start = -1
    quote = ""
    quoted = False
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            else:
                word.append(char)
        elif char in "'\"":
            quote, quoted = char, True
            start = index if start < 0 else start
        elif char.isspace():
            if start >= 0:
                out.append(Token("".join(word), start, quoted))
            word, start, quoted = [], -1, False
        else:
            word.append(char)
            start = index if start < 0 else start
    if quote:
        raise ConfigError(f"the magic line has a {quote} that is not closed: close the quote")
    if start >= 0:
        out.append(Token("".join(word), start, quoted))
    return out


def _argv(words: list[Token]) -> tuple[list[str], list[int]]:
    """The words for argparse, and where each starts in the line. A quoted value that
    starts with '-' (``-l '-fast'``) is attached to its option so argparse does not read
    it as one."""
    argv: list[str] = []
    starts: list[int] = []
    for word in words:
        text = word.text
        if word.quoted and text.startswith("-") and not _NEGATIVE_NUMBER.match(text) and argv:
            previous = argv[-1]
            if previous.startswith("--") and "=" not in previous:
                argv[-1] = f"{previous}={text}"
                continue
            if len(previous) == 2 and previous[0] == "-" and previous[1] != "-":
                argv[-1] = previous + text
                continue
        argv.append(text)
        starts.append(word.start)
    return argv, starts


@dataclass(frozen=True)
class Line:
    """A parsed magic line: the options, and the statement exactly as typed."""

    args: argparse.Namespace
    statement: str


def parse_line(parser: argparse.ArgumentParser, line: str) -> Line:
    """Parse a magic line (quotes taken off every value, see :func:`tokens`) and check the
    values argparse cannot (:func:`check_values`). The statement, the positional
    ``nargs=REMAINDER`` part, is kept exactly as typed, spacing and quotes included."""
    argv, starts = _argv(tokens(line))
    args = parser.parse_args(argv)
    rest = list(getattr(args, "statement", None) or [])
    statement = line[starts[len(argv) - len(rest)] :].strip() if rest else ""
    check_values(args)
    return Line(args, statement)


def _flag(name: str) -> str:
    return {"category": "-c/--category", "function": "-f/--function", "label": "-l/--label",
            "output": "-o/--output"}.get(name, "--" + name.replace("_", "-"))  # fmt: skip


def check_values(args: argparse.Namespace) -> None:
    """One ConfigError for a value argparse let through but no run could use."""
    for name in NAMED:
        value = getattr(args, name, None)
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and not v.strip() for v in values):
            raise ConfigError(f"{_flag(name)} needs a value, got an empty one")


def _with(specs: tuple[Spec, ...], func: F) -> F:
    from IPython.core.magic_arguments import argument

    for spec in reversed(specs):
        func = argument(*spec.flags, **spec.kwargs)(func)
    return func


def with_run_options(func: F) -> F:
    """Add every run option to a magic (IPython's magic_arguments)."""
    return _with(RUN_OPTIONS, func)


def with_experiment_options(func: F) -> F:
    """Add the run-store and experiment options to a magic."""
    return _with(EXPERIMENT_OPTIONS, func)


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
        "whatif": args.whatif,
        "memory": args.memory,
        "overhead": args.overhead,
        "chart": args.chart,
        "rules": args.rules,
    }
