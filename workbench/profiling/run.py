"""`profile()`: run code once under a profiler and return a Report. No IPython needed.

A run is a sequence of passes, each returning what it measured (:func:`run_passes`):
the capture (cProfile or a sampler), then only when asked and only after a complete
capture, a plain run for the overhead, the line pass and the GPU pass. The Report is
built once from those values (:func:`build_report`) and does not change afterwards.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import hashlib
import linecache
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workbench.errors import ConfigError, SaveError
from workbench.profiling.breakdown import Tables, build_tables
from workbench.profiling.capture import (
    Clock,
    FuncKey,
    FuncStats,
    RawProfile,
    Step,
    run_plain,
    run_profiled,
)
from workbench.profiling.categories import FunctionSite, ModuleIndex, unmatched_rules
from workbench.profiling.cost_model import (
    AddedEstimate,
    CostModel,
    code_index,
    estimate_added,
    measure_cost_model,
    module_pools,
)
from workbench.profiling.options import Options
from workbench.profiling.overhead import Overhead
from workbench.profiling.report import LINE_PASS_ONLY, Report
from workbench.report.html import ChartMode

if TYPE_CHECKING:
    import pandas as pd

    from workbench.profiling.async_cell import Runner
    from workbench.profiling.coverage import Coverage
    from workbench.profiling.gpu_pass import GpuPass
    from workbench.profiling.lines import LinePass
    from workbench.profiling.memory import MemoryPass
    from workbench.profiling.tree import TreeNode
    from workbench.profiling.whatif import WhatIfPass
    from workbench.profiling.whatif_costs import Costs
    from workbench.route.router import Router

# A progress hook for the passes that re-run the code: `stage(label)` is a context the
# pass runs in (workbench.progress.stage draws a bar; the magic passes it).
Stage = Callable[[str], AbstractContextManager[object]]


def _stage(stage: Stage | None, label: str) -> AbstractContextManager[object]:
    return stage(label) if stage is not None else contextlib.nullcontext()


NATIVE_FOLDED_NOTE = (
    "Stack sampling sees Python frames only: time in C functions (NumPy's, builtins) "
    "counts as self time of the Python function that called them, so there is no "
    "native category. Use --mode pyinstrument or cprofile to see native time."
)


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
    runner: Runner | None = None,
) -> list[Step]:
    """Compile a module AST into callables: the body, then the last expression if any.

    Code with ``await`` at the top level is compiled as IPython's autoawait compiles it
    and each step runs its coroutine to the end, on `runner` (the shell's loop runner)
    when given (:mod:`workbench.profiling.async_cell`)."""
    from workbench.profiling import async_cell

    awaits = async_cell.has_top_level_await(tree)
    body = list(tree.body)
    last: ast.expr | None = None
    if body and isinstance(body[-1], ast.Expr):
        last = body[-1].value
        body.pop()
    parts: list[tuple[ast.AST, str]] = []
    if body:
        parts.append((ast.Module(body=body, type_ignores=[]), "exec"))
    if last is not None:
        parts.append((ast.Expression(body=last), "eval"))
    steps: list[Step] = []
    for node, mode in parts:
        if not awaits:
            if mode == "eval" and last is not None:  # at its own line (see _expression_code)
                code = _expression_code(last, filename, compiler, shifted=bool(body))
            else:
                code = compiler(node, filename, mode)
            steps.append(types.FunctionType(code, namespace))
            continue
        code = async_cell.compile_awaiting(compiler, node, filename, mode)
        function = types.FunctionType(code, namespace)
        if async_cell.is_coroutine_code(code):
            steps.append(async_cell.awaiting_step(function, runner))
        else:
            steps.append(function)
    return steps


def _expression_code(
    last: ast.expr, filename: str, compiler: Callable[..., types.CodeType], *, shifted: bool
) -> types.CodeType:
    """The last expression's code. After a body it starts at its own line: both would be
    `(filename, 1, '<module>')` to pstats, which keeps one of the two entries (the cell's
    inclusive time was lost). Lines are relative to the first line, so the expression is
    compiled from line 1 and then moved to where it is."""
    if not shifted or last.lineno <= 1:
        return compiler(ast.Expression(body=last), filename, "eval")
    moved = ast.increment_lineno(copy.deepcopy(last), 1 - last.lineno)
    code = compiler(ast.Expression(body=moved), filename, "eval")
    return code.replace(co_firstlineno=last.lineno)


@dataclass(frozen=True)
class Analysis:
    """The tables of one capture, its overhead and (with ``tree``) the call tree."""

    tables: Tables
    overhead: Overhead
    tree: list[TreeNode] | None
    predicted_s: float | None = None  # what the cost model, unscaled, said profiling added


UNMEASURED = "unmeasured"  # analyse(): measure the cost model here when needed


def analyse(
    raw: RawProfile,
    options: Options,
    *,
    plain_s: float | None,
    call_cost_s: float | None = None,
    cost_model: CostModel | str | None = UNMEASURED,
    modules: ModuleIndex | None = None,
    namespace: Mapping[str, object] | None = None,
) -> Analysis:
    """Tables, overhead and tree of one capture.

    The cost model (what cProfile costs per event here) is `cost_model`, else one flat
    per-call cost (`call_cost_s`, else the options'), else measured here; None means it
    could not be measured (the overhead is then unknown). With `plain_s` (a plain run) the
    overhead is measured and the model only says where it landed. `modules` is an index of
    the loaded modules to reuse; `namespace` is where the code's own functions are."""
    sampled = bool(getattr(raw, "counts_are_samples", False))
    stacks = getattr(raw, "stacks", None)
    calls = 0 if sampled else sum(value[1] for value in raw.stats.values())
    costs: dict[FuncKey, float] | None = None
    predicted = None
    if sampled:
        overhead = _sampled_overhead(raw, plain_s)
    else:
        model = _model(cost_model, call_cost_s, options)
        index = modules.refresh() if modules is not None else ModuleIndex()
        if model is not None:
            costs, estimate = _costs(raw, model, index, namespace, plain_s)
            predicted = estimate.point_s / model.scale
        if plain_s is not None:
            overhead = Overhead.measured(raw.wall_s, plain_s, calls)
        elif model is None:
            overhead = Overhead.unknown(raw.wall_s, calls)
        else:
            overhead = Overhead.estimated(
                raw.wall_s,
                calls,
                estimate.point_s,
                low_s=estimate.low_s,
                high_s=estimate.high_s,
                basis=_basis(estimate.events, model) + _beside_basis(raw),
            )
    tables = build_tables(raw.stats, options.ruleset, top=options.top, costs=costs, modules=modules)
    tree = None
    if options.tree:
        from workbench.profiling.tree import tree_from_stacks, tree_from_stats

        if stacks is not None:
            tree = tree_from_stacks(stacks, tables.category_of)
        else:
            tree = tree_from_stats(raw.stats, tables.category_of)
    return Analysis(tables, overhead, tree, predicted)


def _model(
    cost_model: CostModel | str | None, call_cost_s: float | None, options: Options
) -> CostModel | None:
    if not isinstance(cost_model, str):
        return cost_model
    flat = call_cost_s if call_cost_s is not None else options.call_cost_s
    if flat is not None:
        return CostModel.flat(flat)
    return measure_cost_model()


def _costs(
    raw: RawProfile,
    model: CostModel,
    modules: ModuleIndex,
    namespace: Mapping[str, object] | None,
    plain_s: float | None,
) -> tuple[dict[FuncKey, float], AddedEstimate]:
    """cProfile's own seconds in each function's self time (scaled to what a plain run
    measured, when there is one), and the estimate of what it added to the wall time."""
    from workbench.profiling.correction import function_costs

    stats = raw.stats
    pools = [namespace or {}, *module_pools(stats, modules.lookup)]
    codes = code_index(stats, pools)
    if raw.own_stats is None:
        estimate = estimate_added(stats, model, codes)
    else:
        estimate = _with_beside(raw.own_stats, raw.beside, model, codes)
    wall = sum(value[2] for value in stats.values())
    added = None if plain_s is None else max(wall - plain_s, 0.0)
    return function_costs(stats, model, codes, added_s=added), estimate


def _with_beside(
    own: Mapping[FuncKey, FuncStats],
    beside: Sequence[Mapping[FuncKey, FuncStats]],
    model: CostModel,
    codes: Mapping[FuncKey, Any],
) -> AddedEstimate:
    """What profiling added to the wall time of a run whose child processes ran beside
    it: its own cost, plus the slowest child's (they ran side by side and were waited
    for); at least its own (none was waited for), at most every child's one after
    another."""
    mine = estimate_added(own, model, codes)
    others = [estimate_added(part, model, codes) for part in beside]
    slowest = max((o.point_s for o in others), default=0.0)
    return AddedEstimate(
        mine.point_s + slowest,
        mine.low_s,
        mine.high_s + sum(o.high_s for o in others),
        mine.events,
    )


def _beside_basis(raw: RawProfile) -> str:
    if not raw.beside:
        return ""
    return (
        f"; for the {len(raw.beside)} other process(es) that ran beside it (child processes, "
        "Dask workers), the slowest one's cost (at least none, if none was waited for; at "
        "most all, one after another)"
    )


def _basis(events: Any, model: CostModel) -> str:
    if model == CostModel.flat(model.python_call_s):
        return f"{events.python_calls + events.resumes + events.c_calls:,} calls x {model.python_call_s * 1e9:.0f} ns given per call"
    instructions = events.instructions
    parts = [f"{events.python_calls:,} Python calls"]
    if events.resumes:
        parts.append(f"{events.resumes:,} generator resumes")
    parts.append(f"{events.c_calls:,} C calls")
    text = ", ".join(parts)
    if instructions >= 1 and model.penalties:
        text += f" and about {_count(instructions)} bytecode instructions"
    return f"{text} at the costs measured on this interpreter ({model.describe()})"


def _count(value: float) -> str:
    if value >= 1e9:
        return f"{value / 1e9:.1f}G"
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def _sampled_overhead(raw: RawProfile, plain_s: float | None) -> Overhead:
    samples = int(getattr(raw, "samples", 0))
    sample_s = float(getattr(raw, "sample_s", 0.0))
    if plain_s is not None:
        return Overhead.measured(raw.wall_s, plain_s, 0, samples=samples, sample_s=sample_s)
    interval = float(getattr(raw, "interval_s", 0.0))
    if samples:
        interval = raw.wall_s / samples
    return Overhead.sampled(raw.wall_s, samples=samples, sample_s=sample_s, interval_s=interval)


@dataclass(frozen=True)
class Passes:
    """What one profiling run measured, pass by pass, before it becomes a Report.

    `error` is the exception the code raised (in whichever pass), handed back unchanged.
    """

    raw: RawProfile
    analysis: Analysis
    notes: tuple[str, ...]
    lines: LinePass | None
    gpu: GpuPass | None
    recommendations: pd.DataFrame | None
    error: BaseException | None
    whatif: WhatIfPass | None = None
    coverage: Coverage | None = None
    memory: MemoryPass | None = None

    @property
    def tables(self) -> Tables:
        """The capture's tables."""
        return self.analysis.tables


def _capture(
    steps: Sequence[Step], options: Options, clock: Clock
) -> tuple[RawProfile, BaseException | None, Coverage | None]:
    """The capture, with the threads, child processes and Dask tasks the code starts
    profiled where they run and merged in (cProfile mode; the stack sampler samples
    every thread the steps start itself, and its rows are made here)."""
    from workbench.profiling.dask_workers import unseen_workers

    if options.mode == "sample":
        from workbench.profiling.coverage import sampled_coverage
        from workbench.profiling.stack_sampler import run_stack_sampled
        from workbench.profiling.threads import ThreadProfile

        threads: list[ThreadProfile] = []
        raw, error = run_stack_sampled(
            steps, interval=options.interval, clock=clock, threads_out=threads
        )
        return raw, error, sampled_coverage(threads, unseen_workers())
    if options.mode != "cprofile":
        from workbench.profiling.coverage import sampled_coverage

        captured, failed = _capture_one(steps, options, clock)
        return captured, failed, sampled_coverage([], unseen_workers())
    from workbench.profiling.coverage import covered

    return covered(lambda: _capture_one(steps, options, clock))


def _capture_one(
    steps: Sequence[Step], options: Options, clock: Clock
) -> tuple[RawProfile, BaseException | None]:
    if options.mode == "sample":
        from workbench.profiling.stack_sampler import run_stack_sampled

        return run_stack_sampled(steps, interval=options.interval, clock=clock)
    if options.mode == "pyinstrument":
        from workbench.profiling.sampling import run_sampled

        return run_sampled(steps, interval=options.interval, clock=clock, timer=options.timer)
    return run_profiled(steps, timer=options.timer, clock=clock)


def run_passes(
    steps: Sequence[Step],
    options: Options,
    *,
    source: str | None = None,
    filename: str | None = None,
    namespace: Mapping[str, object] | None = None,
    clock: Clock = time.perf_counter,
    call_cost_s: float | None = None,
    router: Router | None = None,
    modules: ModuleIndex | None = None,
    cost_model: CostModel | str | None = UNMEASURED,
    previous: Tables | None = None,
    stage: Stage | None = None,
    whatif_costs: Costs | None = None,
    whatif_focus: Sequence[object] = (),
) -> Passes:
    """Run every pass the options ask for; each pass is its own run of the code.

    The code runs once under the profiler. Only when the options ask for them, and only
    if that run completed, it runs again: plainly to measure the overhead, with
    line_profiler on chosen functions, with GPU calls bracketed by CUDA events, and with
    the top functions probed for the what-if pass. No two profilers are ever active
    together. `router` makes the backend recommendations (a fresh ``Router()`` when not
    given); `modules` is an index of the loaded modules to reuse and `cost_model` what
    cProfile costs here (a session keeps both); `stage(label)` is the context each re-run
    happens in (a progress bar); `whatif_costs` are this interpreter's costs for the
    what-if pass (measured when not given); `whatif_focus` are functions it probes besides
    the top ones.

    A line pass alone (`-f` names only, or ``--lines N`` with `previous`, the tables of a
    profile of the same code already taken to pick the functions from) runs the code once,
    under line_profiler only: no profile by category is taken first.
    """
    if _lines_only(options, previous):
        with _stage(stage, "line pass (line_profiler)"):
            return lines_only(steps, options, namespace or {}, previous)
    raw, error, coverage = _capture(steps, options, clock)
    notes: list[str] = [] if coverage is None else list(coverage.notes)
    plain_s = None
    if options.overhead and error is None:
        try:
            with _stage(stage, "--overhead: the plain run"):
                plain_s = run_plain(steps, clock=clock)
        except BaseException as exc:  # handed back to the caller unchanged
            error = exc
            notes.append(
                f"The plain run for --overhead raised {type(exc).__name__}: {exc}; "
                "the profiled run had completed, so the overhead is estimated."
            )
    analysis = analyse(
        raw,
        options,
        plain_s=plain_s,
        call_cost_s=call_cost_s,
        cost_model=cost_model,
        modules=modules,
        namespace=namespace,
    )
    notes += rule_notes(options, analysis.tables)
    if raw.truncated_by is not None:
        notes.append(f"INCOMPLETE: {raw.truncated_by}")
    if getattr(raw, "native_folded", False):
        notes.append(NATIVE_FOLDED_NOTE)
    recommendations = None
    if source is not None and filename is not None:
        from workbench.route.recommend import recommendations as recommend

        recommendations = recommend(
            source, filename, namespace or {}, analysis.tables.functions, router
        )
        from workbench.profiling.whatif_confirm import confirmed

        recommendations, dropped = confirmed(
            recommendations, filename, raw.stats, analysis.tables.profiled_s
        )
        if dropped:
            notes.append(dropped)
    lines = gpu = whatif = None
    if error is None and options.wants_lines:
        with _stage(stage, "line pass (line_profiler)"):
            lines, line_notes, error = line_pass(analysis.tables, steps, options, namespace or {})
        notes += line_notes
    if error is None and options.gpu:
        with _stage(stage, "GPU pass (CUDA events)"):
            gpu, gpu_notes, error = gpu_pass(raw, analysis.tables, steps, namespace or {})
        notes += gpu_notes
    if error is None and options.whatif:
        with _stage(stage, "what-if pass (probes)"):
            whatif, whatif_notes, error = whatif_pass(
                analysis, raw, steps, namespace, router, whatif_costs, clock, whatif_focus
            )
        notes += whatif_notes
    memory = None
    if error is None and options.memory:
        with _stage(stage, "memory pass (tracemalloc)"):
            memory, memory_notes, error = memory_pass(analysis, raw, steps, options, plain_s, clock)
        notes += memory_notes
    return Passes(
        raw, analysis, tuple(notes), lines, gpu, recommendations, error, whatif, coverage, memory
    )


def memory_pass(
    analysis: Analysis,
    raw: RawProfile,
    steps: Sequence[Step],
    options: Options,
    plain_s: float | None,
    clock: Clock,
) -> tuple[MemoryPass | None, list[str], BaseException | None]:
    """The tracemalloc pass, its bytes charged to the capture's categories; its notes."""
    from workbench.profiling.memory import run_memory

    tables = analysis.tables
    passed, error, skipped = run_memory(
        steps,
        list(raw.stats),
        tables.category_of,
        options.ruleset,
        top=2 * options.top,
        clock=clock,
    )
    if passed is None:
        return None, [skipped or "Memory pass skipped."], error
    return passed, [passed.sentence(plain_s)], error


def whatif_pass(
    analysis: Analysis,
    raw: RawProfile,
    steps: Sequence[Step],
    namespace: Mapping[str, object] | None,
    router: Router | None,
    costs: Costs | None,
    clock: Clock,
    focus: Sequence[object] = (),
) -> tuple[WhatIfPass, list[str], BaseException | None]:
    """The what-if pass over the capture's top functions: what it predicted, its notes
    (its own cost among them), and the exception the code raised."""
    from workbench.profiling.whatif import run_whatif

    if router is None:
        from workbench.route.router import Router

        router = Router()
    ns: Any = namespace if namespace is not None else {}
    passed, error = run_whatif(
        steps,
        analysis.tables.functions,
        raw.stats,
        ns,
        plain_s=analysis.overhead.plain_s,
        per_call_cost_s=analysis.overhead.per_call_s,
        costs=costs,
        router=router,
        clock=clock,
        focus=focus,
        capture=(raw.wall_s, analysis.overhead.calls, analysis.overhead.per_call_s),
        exact_counts=not getattr(raw, "counts_are_samples", False),
    )
    notes = [*passed.notes]
    if passed.functions:
        notes.append(
            f"What-if pass: the code was re-run with {len(passed.functions)} function(s) "
            f"probed; that run took {passed.seconds:.3f} s, {passed.seconds / passed.plain_s:.2f}x "
            f"the plain run it estimates ({passed.plain_s:.3f} s): its own cost, not part of "
            "the tables above."
        )
    return passed, notes, error


def _lines_only(options: Options, previous: Tables | None) -> bool:
    if not options.wants_lines or options.gpu or options.overhead or options.tree:
        return False
    return options.lines == 0 or previous is not None


LINES_ONLY_NOTE = (
    LINE_PASS_ONLY + " the code ran once, under line_profiler alone on {what}; there is no "
    "profile by category in this run (run without -f / --lines for one)."
)


MODE_UNUSED_NOTE = (
    "--mode {mode} was not used: the line pass alone ran, so nothing was sampled "
    "(run without -f / --lines for a {mode} profile)."
)


def lines_only(
    steps: Sequence[Step],
    options: Options,
    namespace: Mapping[str, object],
    previous: Tables | None,
) -> Passes:
    """The code run once under line_profiler only; the functions from ``-f`` and, with
    ``--lines N``, the top N of `previous` (a profile of the same code already taken)."""
    tables = build_tables({}, options.ruleset, top=options.top)
    lines, notes, error = line_pass(previous or tables, steps, options, namespace, rerun=False)
    plain_s = 0.0
    if lines is None:  # nothing to profile by line: the code still runs, once, plainly
        from workbench.profiling.capture import run_steps

        start = time.perf_counter()
        error = run_steps(steps)
        plain_s = time.perf_counter() - start
        notes.append(f"The code ran plainly in {plain_s:.3f} s.")
    what = (
        f"{len(lines.functions)} function(s)"
        if lines is not None
        else "no function (none could be profiled)"
    )
    if options.lines and previous is not None:
        what += ", picked from the profile of this code taken before"
    notes.insert(0, LINES_ONLY_NOTE.format(what=what))
    if options.mode != "cprofile":
        notes.insert(1, MODE_UNUSED_NOTE.format(mode=options.mode))
    seconds = lines.seconds if lines is not None else plain_s
    result = lines.result if lines is not None else None
    raw = RawProfile({}, seconds, error is None, result, None if lines is None else lines.error)
    analysis = Analysis(tables, Overhead.unknown(seconds, 0), None)
    return Passes(raw, analysis, tuple(notes), lines, None, None, error)


def rule_notes(options: Options, tables: Tables) -> list[str]:
    """The user rules that gave no function its category, with what they might have meant."""
    functions = tables.functions
    used = set(functions["rule"])
    if all(rule.describe() in used for rule in options.ruleset.rules):
        return []
    sites = [
        FunctionSite(str(path), int(line), str(name), str(module), bool(native), str(owner))
        for path, line, name, module, native, owner in zip(
            functions["file"],
            functions["line"],
            functions["name"],
            functions["module"],
            functions["native"],
            functions["owner"],
            strict=True,
        )
    ]
    return unmatched_rules(options.ruleset.rules, sites, used)


def line_pass(
    tables: Tables,
    steps: Sequence[Step],
    options: Options,
    namespace: Mapping[str, object],
    *,
    rerun: bool = True,
) -> tuple[LinePass | None, list[str], BaseException | None]:
    """The line pass over ``-f`` names and the top ``--lines N`` user functions: what it
    measured, its notes, and the exception the code raised (`rerun`: after a profile of
    this run; otherwise it is the run's only pass)."""
    from workbench.profiling.lines import choose_functions, resolve_names, run_lines

    targets, problems = resolve_names(list(options.functions), namespace)
    if options.lines and not tables.functions.empty:
        chosen = choose_functions(tables.functions, namespace, options.lines)
        targets += [f for f in chosen if f not in targets]
    if not targets:
        return None, [*problems, "Line pass skipped: no Python function of yours to profile."], None
    passed, error = run_lines(steps, targets, skipped=problems)
    note = (
        f"Line pass: the code was re-run with line_profiler on {len(targets)} function(s) "
        f"only; that run took {passed.seconds:.3f} s (its own cost, not part of the tables above)."
        if rerun
        else f"Line pass: that run took {passed.seconds:.3f} s, line_profiler's cost included."
    )
    return passed, [*problems, note], error


def gpu_pass(
    raw: RawProfile, tables: Tables, steps: Sequence[Step], namespace: Mapping[str, object]
) -> tuple[GpuPass, list[str], BaseException | None]:
    """The GPU pass: what it measured, its notes, and the exception the code raised."""
    from workbench.profiling.gpu_pass import GpuPass, launchers_of, run_gpu_pass, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        return GpuPass(f"GPU time not measured: {reason}"), [], None
    categories = tables.categories
    gpu_calls = int(categories.loc[categories["category"] == "GPU", "calls"].sum())
    launchers, candidates = launchers_of(raw.stats, tables.category_of, steps, dict(namespace))
    passed, error = run_gpu_pass(steps, launchers, candidates, gpu_calls)
    notes = []
    if passed.measured:
        notes.append(
            "GPU pass: the code was re-run with every line of the code that launches GPU work "
            f"bracketed by CUDA events and synchronised; that run took {passed.seconds:.3f} s."
        )
    return passed, notes, error


def build_report(
    passes: Passes,
    options: Options,
    *,
    source: str | None,
    findings: Iterable[Mapping[str, Any]] = (),
    notes: Iterable[str] = (),
) -> Report:
    """The Report, once, from what the passes returned, the findings and extra notes."""
    raw, analysis = passes.raw, passes.analysis
    return Report(
        label=options.label or "cell",
        tables=analysis.tables,
        overhead=analysis.overhead,
        complete=raw.completed and raw.truncated_by is None,
        error=raw.error,
        rules=tuple(options.ruleset.describe()),
        top_n=options.top,
        source=source,
        result=raw.result,
        stats=raw.stats,
        chart=options.chart,
        mode=options.mode,
        depth=options.depth,
        remarks=(*passes.notes, *notes),
        findings=tuple(findings),
        lines=passes.lines,
        gpu=passes.gpu,
        counts_are_samples=bool(getattr(raw, "counts_are_samples", False)),
        stacks=getattr(raw, "stacks", None),
        tree=analysis.tree,
        recommendations=passes.recommendations,
        whatif_pass=passes.whatif,
        **_coverage_fields(passes),
    )


def _coverage_fields(passes: Passes) -> dict[str, Any]:
    """The per-thread and per-process rows and the memory pass, for the Report."""
    fields: dict[str, Any] = {"memory_pass": passes.memory}
    coverage = passes.coverage
    if coverage is not None and (coverage.main_stats or coverage.threads):  # not notes alone
        category_of = passes.analysis.tables.category_of
        fields["threads"] = coverage.thread_rows(category_of)
        fields["processes"] = coverage.process_rows(category_of)
    return fields


def profile_steps(
    steps: Sequence[Step],
    options: Options,
    *,
    source: str | None = None,
    filename: str | None = None,
    namespace: Mapping[str, object] | None = None,
    clock: Clock = time.perf_counter,
) -> tuple[Report, BaseException | None]:
    """Profile prepared steps; returns the report and the exception the code raised, if any."""
    passes = run_passes(
        steps, options, source=source, filename=filename, namespace=namespace, clock=clock
    )
    return build_report(passes, options, source=source), passes.error


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
    whatif: bool | None = None,
    memory: bool | None = None,
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
    pass), `gpu` (a pass timing CuPy calls with CUDA events) and `whatif` (a pass probing
    the top functions, predicting what specific changes would win) each run it once more.
    If the code raises, the exception is re-raised unchanged (``on_error="raise"``) or
    kept on an incomplete report (``on_error="return"``, see ``Report.error``);
    KeyboardInterrupt and SystemExit are always re-raised, with the report of what ran as
    their ``workbench_report``. A `save` that fails never replaces the code's exception
    (a SaveWarning says so); without one it raises SaveError, whose ``report`` is the
    report.
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
        "whatif": whatif,
        "memory": memory,
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
    problem = None
    if options.save is not None:
        try:
            report.save(options.save)
        except SaveError as exc:
            problem = exc
    if error is not None and (on_error == "raise" or not isinstance(error, Exception)):
        # Ctrl-C and SystemExit are never kept on a report: they stop the program, with
        # the report of what ran on them (`workbench_report`).
        if problem is not None:
            warnings.warn(f"workbench: {problem}", SaveWarning, stacklevel=2)
        if not isinstance(error, Exception):
            error.workbench_report = report  # type: ignore[attr-defined]
        raise error
    if problem is not None:
        problem.report = report
        raise problem
    return report


class SaveWarning(UserWarning):
    """The report was not saved, and the code's own exception is the one raised."""


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
    analysis = analyse(raw, options, plain_s=None)
    loaded = Passes(raw, analysis, (), None, None, None, None)
    note = f"Loaded from {path}; the overhead is estimated for this Python."
    return build_report(loaded, options, source=None, notes=[note])
