"""`profile()`: run code once under cProfile and return a Report. No IPython needed."""

from __future__ import annotations

import ast
import hashlib
import linecache
import time
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from workbench.breakdown import build_tables
from workbench.capture import Clock, RawProfile, Step, measure_call_cost, run_plain, run_profiled
from workbench.categories import Ruleset
from workbench.config import build_ruleset
from workbench.errors import ConfigError
from workbench.overhead import Overhead
from workbench.report.model import CHART_MODES, ChartMode, Report


@dataclass
class Options:
    """Everything that shapes one profiling run, validated when built."""

    categories: Sequence[str] = ()
    rules_file: str | Path | None = None
    project_dir: str | Path | None = None
    use_pyproject: bool = True
    top: int = 5
    overhead: bool = False
    chart: ChartMode = "inline"
    label: str | None = None
    timer: Clock | None = None
    call_cost_s: float | None = None
    ruleset: Ruleset = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.categories, str):
            self.categories = [self.categories]
        if not isinstance(self.top, int) or self.top < 0:
            raise ConfigError(f"top must be a whole number >= 0, got {self.top!r}")
        if self.chart not in CHART_MODES:
            raise ConfigError(f"chart must be one of {', '.join(CHART_MODES)}, got {self.chart!r}")
        self.ruleset = build_ruleset(
            self.categories,
            self.rules_file,
            project_dir=self.project_dir,
            use_pyproject=self.use_pyproject,
        )


def compile_source(
    source: str, namespace: dict[str, object], filename: str | None = None
) -> list[Step]:
    """Turn source code into steps run in `namespace`; a trailing expression is the result.

    The source is registered with linecache under `filename`, so tracebacks and line
    profilers can show it.
    """
    if filename is None:
        digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]
        filename = f"<workbench-cell-{digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    tree = ast.parse(source, filename=filename)
    return steps_from_ast(tree, filename, namespace, compile)


def steps_from_ast(
    tree: ast.Module,
    filename: str,
    namespace: dict[str, object],
    compiler: Callable[..., types.CodeType],
) -> list[Step]:
    """Compile a module AST into callables: the body, then the last expression if any."""
    body = list(tree.body)
    last: ast.expr | None = None
    if body and isinstance(body[-1], ast.Expr):
        last = body[-1].value
        body.pop()
    steps: list[Step] = []
    if body:
        module = ast.Module(body=body, type_ignores=[])
        steps.append(types.FunctionType(compiler(module, filename, "exec"), namespace))
    if last is not None:
        expression = ast.Expression(body=last)
        steps.append(types.FunctionType(compiler(expression, filename, "eval"), namespace))
    return steps


def analyse(
    raw: RawProfile,
    options: Options,
    *,
    plain_s: float | None,
    source: str | None,
) -> Report:
    """Build the Report from one capture."""
    calls = sum(value[1] for value in raw.stats.values())
    if plain_s is not None:
        overhead = Overhead.measured(raw.wall_s, plain_s, calls)
    else:
        per_call = options.call_cost_s if options.call_cost_s is not None else measure_call_cost()
        overhead = Overhead.estimated(raw.wall_s, calls, per_call)
    tables = build_tables(
        raw.stats, options.ruleset, top=options.top, per_call_s=overhead.per_call_s
    )
    return Report(
        label=options.label or "cell",
        tables=tables,
        overhead=overhead,
        complete=raw.completed,
        error=raw.error,
        rules=options.ruleset.describe(),
        top_n=options.top,
        source=source,
        result=raw.result,
        stats=raw.stats,
        chart=options.chart,
    )


def profile_steps(
    steps: Sequence[Step],
    options: Options,
    *,
    source: str | None = None,
    clock: Clock = time.perf_counter,
) -> tuple[Report, BaseException | None]:
    """Profile prepared steps; returns the report and the exception the code raised, if any.

    The code runs once under cProfile; when `options.overhead` asks for it, and the
    profiled run completed, it runs a second time plainly to measure the overhead.
    """
    raw, error = run_profiled(steps, timer=options.timer, clock=clock)
    plain_s = None
    notes = []
    if options.overhead and error is None:
        try:
            plain_s = run_plain(steps, clock=clock)
        except BaseException as exc:
            error = exc
            notes.append(
                f"The plain run for --overhead raised {type(exc).__name__}: {exc}; "
                "the profiled run had completed, so the overhead is estimated."
            )
    report = analyse(raw, options, plain_s=plain_s, source=source)
    report.extra_notes.extend(notes)
    return report, error


def profile(
    target: Callable[[], object] | str,
    namespace: dict[str, object] | None = None,
    *,
    category: Iterable[str] | str = (),
    rules: str | Path | None = None,
    project_dir: str | Path | None = None,
    use_pyproject: bool = True,
    top: int = 5,
    overhead: bool = False,
    chart: ChartMode = "inline",
    label: str | None = None,
    on_error: Literal["raise", "return"] = "raise",
    timer: Clock | None = None,
    call_cost_s: float | None = None,
) -> Report:
    """Run `target` once under cProfile and return where its time went, by category.

    `target` is a callable taking no arguments, or source code run in `namespace`
    (a fresh dict when omitted). `category` holds ``LABEL=PATTERN`` rules, tried
    before `rules` (a TOML file) and ``[tool.workbench.categories]`` of the nearest
    pyproject.toml. With `overhead`, the code first runs once plainly to measure how
    much profiling inflated it; otherwise the inflation is estimated.

    If the code raises, the exception is re-raised unchanged (``on_error="raise"``) or
    kept on an incomplete report (``on_error="return"``, see ``Report.error``).
    """
    if on_error not in ("raise", "return"):
        raise ConfigError(f"on_error must be 'raise' or 'return', got {on_error!r}")
    cats = [category] if isinstance(category, str) else list(category)
    if isinstance(target, str):
        source: str | None = target
        steps = compile_source(target, namespace if namespace is not None else {})
        default_label = "code"
    elif callable(target):
        source = None
        steps = [target]
        default_label = getattr(target, "__qualname__", None) or repr(target)
    else:
        raise ConfigError(f"profile() needs a callable or source code, got {type(target).__name__}")
    options = Options(
        categories=cats,
        rules_file=rules,
        project_dir=project_dir,
        use_pyproject=use_pyproject,
        top=top,
        overhead=overhead,
        chart=chart,
        label=label or default_label,
        timer=timer,
        call_cost_s=call_cost_s,
    )
    report, error = profile_steps(steps, options, source=source)
    if error is not None and on_error == "raise":
        raise error
    return report
