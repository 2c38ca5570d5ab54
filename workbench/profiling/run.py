"""`profile()`: run code once under cProfile and return a Report. No IPython needed."""

from __future__ import annotations

import ast
import hashlib
import linecache
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from workbench.errors import ConfigError
from workbench.profiling.breakdown import build_tables
from workbench.profiling.capture import (
    Clock,
    RawProfile,
    Step,
    measure_call_cost,
    run_plain,
    run_profiled,
)
from workbench.profiling.options import Options
from workbench.profiling.overhead import Overhead
from workbench.profiling.report import ChartMode, Report


def source_filename(source: str) -> str:
    """The pseudo file name code given as a string is compiled under."""
    return f"<workbench-cell-{hashlib.sha1(source.encode('utf-8')).hexdigest()[:12]}>"


def compile_source(
    source: str, namespace: dict[str, object], filename: str | None = None
) -> list[Step]:
    """Turn source code into steps run in `namespace`; a trailing expression is the result.

    The source is registered with linecache under `filename`, so tracebacks and line
    profilers can show it.
    """
    if filename is None:
        filename = source_filename(source)
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
    sampled = bool(getattr(raw, "counts_are_samples", False))
    stacks = getattr(raw, "stacks", None)
    calls = 0 if sampled else sum(value[1] for value in raw.stats.values())
    if plain_s is not None:
        overhead = Overhead.measured(raw.wall_s, plain_s, calls)
    elif sampled:
        overhead = Overhead.sampled(raw.wall_s)
    else:
        per_call = options.call_cost_s if options.call_cost_s is not None else measure_call_cost()
        overhead = Overhead.estimated(raw.wall_s, calls, per_call)
    tables = build_tables(
        raw.stats, options.ruleset, top=options.top, per_call_s=overhead.per_call_s
    )
    tree = None
    if options.tree:
        from workbench.profiling.tree import tree_from_stacks, tree_from_stats

        if stacks is not None:
            tree = tree_from_stacks(stacks, tables.category_of)
        else:
            tree = tree_from_stats(raw.stats, tables.category_of)
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
        mode=options.mode,
        depth=options.depth,
        counts_are_samples=sampled,
        stacks=stacks,
        tree=tree,
    )


def _capture(
    steps: Sequence[Step], options: Options, clock: Clock
) -> tuple[RawProfile, BaseException | None]:
    if options.mode == "sample":
        from workbench.profiling.stack_sampler import run_stack_sampled

        return run_stack_sampled(steps, interval=options.interval, clock=clock)
    if options.mode == "pyinstrument":
        from workbench.profiling.sampling import run_sampled

        return run_sampled(steps, interval=options.interval, clock=clock, timer=options.timer)
    return run_profiled(steps, timer=options.timer, clock=clock)


def profile_steps(
    steps: Sequence[Step],
    options: Options,
    *,
    source: str | None = None,
    filename: str | None = None,
    namespace: Mapping[str, object] | None = None,
    clock: Clock = time.perf_counter,
) -> tuple[Report, BaseException | None]:
    """Profile prepared steps; returns the report and the exception the code raised, if any.

    The code runs once under the profiler. Only when the options ask for them, and only
    if that run completed, it runs again: plainly to measure the overhead, with
    line_profiler on chosen functions, and with GPU calls bracketed by CUDA events.
    Each pass is its own run; no two profilers are ever active together.
    """
    raw, error = _capture(steps, options, clock)
    notes: list[str] = []
    plain_s = None
    if options.overhead and error is None:
        try:
            plain_s = run_plain(steps, clock=clock)
        except BaseException as exc:  # handed back to the caller unchanged
            error = exc
            notes.append(
                f"The plain run for --overhead raised {type(exc).__name__}: {exc}; "
                "the profiled run had completed, so the overhead is estimated."
            )
    report = analyse(raw, options, plain_s=plain_s, source=source)
    report.extra_notes.extend(notes)
    if getattr(raw, "native_folded", False):
        report.extra_notes.append(
            "Stack sampling sees Python frames only: time in C functions (NumPy's, builtins) "
            "counts as self time of the Python function that called them, so there is no "
            "native category. Use --mode pyinstrument or cprofile to see native time."
        )
    if source is not None and filename is not None:
        from workbench.route.recommend import recommendations

        report.recommendations = recommendations(
            source, filename, namespace or {}, report.functions
        )
    if error is not None:
        return report, error
    if options.wants_lines:
        error = _line_pass(report, steps, options, namespace or {})
    if options.gpu and error is None:
        error = _gpu_pass(report, steps, namespace or {})
    return report, error


def _line_pass(
    report: Report, steps: Sequence[Step], options: Options, namespace: Mapping[str, object]
) -> BaseException | None:
    from workbench.profiling.lines import choose_functions, resolve_names, run_lines

    targets, problems = resolve_names(list(options.functions), namespace)
    if options.lines:
        chosen = choose_functions(report.functions, namespace, options.lines)
        targets += [f for f in chosen if f not in targets]
    report.extra_notes.extend(problems)
    if not targets:
        report.extra_notes.append("Line pass skipped: no Python function of yours to profile.")
        return None
    passed, error = run_lines(steps, targets)
    passed.skipped = problems
    report.lines = passed
    report.extra_notes.append(
        f"Line pass: the code was re-run with line_profiler on {len(targets)} function(s) "
        f"only; that run took {passed.seconds:.3f} s (its own cost, not part of the tables above)."
    )
    return error


def _gpu_pass(
    report: Report, steps: Sequence[Step], namespace: Mapping[str, object]
) -> BaseException | None:
    from workbench.profiling.gpu_pass import GpuPass, launchers_of, run_gpu_pass, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        report.gpu = GpuPass(f"GPU time not measured: {reason}")
        return None
    gpu_calls = int(report.categories.loc[report.categories["category"] == "GPU", "calls"].sum())
    launchers, candidates = launchers_of(
        report.stats, report.tables.category_of, steps, dict(namespace)
    )
    passed, error = run_gpu_pass(steps, launchers, candidates, gpu_calls)
    report.gpu = passed
    if passed.measured:
        report.extra_notes.append(
            "GPU pass: the code was re-run with every line of the code that launches GPU work "
            f"bracketed by CUDA events and synchronised; that run took {passed.seconds:.3f} s."
        )
    return error


def profile(
    target: Callable[[], object] | str,
    namespace: dict[str, object] | None = None,
    *,
    category: Iterable[str] | str = (),
    rules: str | Path | None = None,
    project_dir: str | Path | None = None,
    use_pyproject: bool = True,
    depth: str | None = None,
    mode: str | None = None,
    top: int | None = None,
    overhead: bool | None = None,
    lines: int | None = None,
    functions: Sequence[str] | None = None,
    gpu: bool | None = None,
    tree: bool | None = None,
    chart: ChartMode | None = None,
    save: str | Path | None = None,
    label: str | None = None,
    on_error: Literal["raise", "return"] = "raise",
    timer: Clock | None = None,
    clock: Clock = time.perf_counter,
    call_cost_s: float | None = None,
) -> Report:
    """Run `target` once under a profiler and return where its time went, by category.

    `target` is a callable taking no arguments, or source code run in `namespace`
    (a fresh dict when omitted). `category` holds ``LABEL=PATTERN`` rules, tried
    before `rules` (a TOML file) and ``[tool.workbench.categories]`` of the nearest
    pyproject.toml. Options left as None come from ``[tool.workbench]`` of that file,
    else from the `depth` ("fast", "balanced" (default) or "aggressive").

    The code runs once; `overhead` (a plain run), `lines` / `functions` (a line_profiler
    pass) and `gpu` (a pass timing CuPy calls with CUDA events) each run it once more.
    If the code raises, the exception is re-raised unchanged (``on_error="raise"``) or
    kept on an incomplete report (``on_error="return"``, see ``Report.error``).
    """
    if on_error not in ("raise", "return"):
        raise ConfigError(f"on_error must be 'raise' or 'return', got {on_error!r}")
    cats = [category] if isinstance(category, str) else list(category)
    ns: dict[str, object] = namespace if namespace is not None else {}
    if isinstance(target, str):
        source: str | None = target
        filename: str | None = source_filename(target)
        steps = compile_source(target, ns, filename)
        default_label = "code"
    elif callable(target):
        source = None
        filename = None
        steps = [target]
        default_label = getattr(target, "__qualname__", None) or repr(target)
        module = getattr(target, "__module__", None)
        if namespace is None and module is not None:
            import sys

            mod = sys.modules.get(module)
            ns = dict(vars(mod)) if mod is not None else {}
    else:
        raise ConfigError(f"profile() needs a callable or source code, got {type(target).__name__}")
    given = {
        "depth": depth,
        "mode": mode,
        "top": top,
        "overhead": overhead,
        "lines": lines,
        "functions": functions,
        "gpu": gpu,
        "tree": tree,
        "chart": chart,
        "save": save,
        "rules": rules,
    }
    options = Options.build(
        given,
        categories=cats,
        project_dir=project_dir,
        use_pyproject=use_pyproject,
        label=label or default_label,
        timer=timer,
        call_cost_s=call_cost_s,
    )
    report, error = profile_steps(
        steps, options, source=source, filename=filename, namespace=ns, clock=clock
    )
    if options.save is not None:
        report.save(options.save)
    if error is not None and on_error == "raise":
        raise error
    return report


def load(
    path: str | Path,
    *,
    category: Iterable[str] | str = (),
    rules: str | Path | None = None,
    project_dir: str | Path | None = None,
    use_pyproject: bool = True,
    top: int | None = None,
    tree: bool | None = None,
    label: str | None = None,
) -> Report:
    """A Report from a saved ``.prof`` (ours, cProfile's or ``%prun -D``'s), by category.

    A corrupt file, or one written by another Python version that this one cannot read,
    raises ProfileError saying so.
    """
    from workbench.profiling.export import load_pstats

    stats = load_pstats(path)
    options = Options.build(
        {"top": top, "tree": tree, "rules": rules},
        categories=[category] if isinstance(category, str) else list(category),
        project_dir=project_dir,
        use_pyproject=use_pyproject,
        label=label or Path(path).name,
    )
    wall = float(sum(value[2] for value in stats.values()))
    raw = RawProfile(stats, wall, True)
    report = analyse(raw, options, plain_s=None, source=None)
    report.extra_notes.append(f"Loaded from {path}; the overhead is estimated for this Python.")
    return report
