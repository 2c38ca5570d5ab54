"""`%%optimize` and `%optimize`: a thin adapter from IPython to `workbench.profiler`."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from IPython.utils.process import arg_split  # type: ignore[attr-defined]

from workbench.capture import Step, measure_call_cost
from workbench.errors import WorkbenchError
from workbench.profiler import Options, profile_steps, steps_from_ast
from workbench.ui import candidate_run, line_actions
from workbench.ui.experiment_magic import Lab, experiment_arguments, record_profile, warn


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def statement_text(line: str, statement_tokens: list[str]) -> str:
    """The statement part of a line magic, exactly as typed (spacing and quotes kept)."""
    if not statement_tokens:
        return ""
    tokens = arg_split(line, strict=False)
    cursor = 0
    starts = []
    for token in tokens:
        index = line.find(token, cursor)
        starts.append(index)
        cursor = index + len(token)
    first = len(tokens) - len(statement_tokens)
    return line[starts[first] :].strip()


@magics_class
class OptimizeMagics(Magics):
    """Profile a cell or a statement and show where its time goes, by category."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.ip: Any = shell
        self.call_cost_s: float | None = None
        self.lab = Lab(shell)

    def _call_cost(self) -> float:
        if self.call_cost_s is None:
            self.call_cost_s = measure_call_cost()
        return self.call_cost_s

    def _steps(self, code: str) -> list[Step]:
        shell = self.ip
        transformed = shell.transform_cell(code)
        filename = shell.compile.cache(transformed, shell.execution_count, raw_code=code)
        tree = shell.compile.ast_parse(transformed, filename=filename)
        steps: list[Step] = steps_from_ast(tree, filename, shell.user_ns, shell.compile)
        return steps

    @magic_arguments()
    @experiment_arguments
    @argument("-o", "--output", metavar="NAME", help="Store the Report in the variable NAME.")
    @argument(
        "-c",
        "--category",
        action="append",
        default=[],
        metavar="LABEL=PATTERN",
        help=(
            "A category rule, tried before all others (repeatable). PATTERN is a path glob "
            "('*/dsl.py'), module:PREFIX or func:REGEX."
        ),
    )
    @argument("--rules", metavar="FILE", help="A TOML file with a [categories] table of rules.")
    @argument("--top", type=int, default=5, metavar="N", help="Top functions shown per category.")
    @argument(
        "--overhead",
        action="store_true",
        help="After the profiled run, run the code once more without the profiler to measure the overhead (runs it twice).",
    )
    @argument("-q", "--quiet", action="store_true", help="Do not display the report.")
    @argument("-l", "--label", metavar="TEXT", help="A name for this run, shown in the report.")
    @argument(
        "--chart",
        choices=["inline", "cdn", "none"],
        default="inline",
        help="How the chart gets plotly.js: inline (works offline), cdn (small), none.",
    )
    @argument(
        "--no-pyproject",
        action="store_true",
        help="Ignore [tool.workbench.categories] in the nearest pyproject.toml.",
    )
    @argument("statement", nargs=argparse.REMAINDER, help="Code to profile (line magic only).")
    @line_cell_magic
    @no_var_expand
    def optimize(self, line: str, cell: str | None = None) -> None:
        """Profile a cell (``%%optimize``) or a statement (``%optimize STATEMENT``) under
        cProfile and show where the time goes by category, the top functions of each,
        and what cutting each category would win (Amdahl).

        The code runs once (twice with --overhead). If it raises, the report of what ran
        is shown, marked incomplete, and the exception is re-raised unchanged.
        """
        args = parse_argstring(self.optimize, line)
        statement = statement_text(line, args.statement)
        if line_actions.wants_line_action(args, cell, statement):
            return line_actions.line_action(self, args)
        if cell is not None and statement:
            raise UsageError(
                f"%%optimize takes options only on its line, got code {statement!r}: "
                "put the code in the cell"
            )
        code = cell if cell is not None else statement
        if args.output is not None and not args.output.isidentifier():
            raise UsageError(f"-o needs a variable name, got {args.output!r}")
        try:
            options = Options(
                categories=args.category,
                rules_file=_unquote(args.rules) if args.rules else None,
                use_pyproject=not args.no_pyproject,
                top=args.top,
                overhead=args.overhead,
                chart=args.chart,
                label=_unquote(args.label)
                if args.label
                else ("cell" if cell is not None else statement),
                call_cost_s=None if args.overhead else self._call_cost(),
            )
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None
        if args.candidate:
            return candidate_run.run_candidate(self, args, options, code)
        steps = self._steps(code)
        try:
            report, error = profile_steps(steps, options, source=code)
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None
        problem = record_profile(self, args, report, code)
        if args.output:
            self.ip.user_ns[args.output] = report
        if not args.quiet:
            display(report)
        if error is not None:
            if problem:
                warn(problem)
            raise error
        if problem:
            raise UsageError(problem)
