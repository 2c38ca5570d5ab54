"""`%%optimize` and `%optimize`: a thin adapter from IPython to `workbench.profiling.run`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from IPython.utils.process import arg_split  # type: ignore[attr-defined]

from workbench.errors import WorkbenchError
from workbench.profiling.capture import Step, measure_call_cost
from workbench.profiling.options import Options
from workbench.profiling.run import profile_steps, steps_from_ast
from workbench.ui import candidate_run, line_actions
from workbench.ui.arguments import given, unquote, with_run_options
from workbench.ui.experiment_magic import Lab, experiment_arguments, record_profile, warn


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

    def _steps(self, code: str) -> tuple[list[Step], str, str]:
        """Compile the cell as IPython would: steps, the transformed code, its file name."""
        shell = self.ip
        transformed = shell.transform_cell(code)
        filename = shell.compile.cache(transformed, shell.execution_count, raw_code=code)
        tree = shell.compile.ast_parse(transformed, filename=filename)
        steps: list[Step] = steps_from_ast(tree, filename, shell.user_ns, shell.compile)
        return steps, str(transformed), str(filename)

    @magic_arguments()
    @experiment_arguments
    @argument(
        "-o",
        "--output",
        metavar="NAME",
        help="Store the Report (with --candidate: the ExperimentResult) in the variable NAME.",
    )
    @argument("-q", "--quiet", action="store_true", help="Do not display the report.")
    @argument("--save", metavar="DIR", help="Write .prof, speedscope JSON, CSV and the report.")
    @argument(
        "--snakeviz",
        action="store_true",
        default=None,
        help="Open the saved profile in snakeviz, where the browser can reach a local server.",
    )
    @with_run_options
    @argument("statement", nargs=argparse.REMAINDER, help="Code to profile (line magic only).")
    @line_cell_magic
    @no_var_expand
    def optimize(self, line: str, cell: str | None = None) -> None:
        """Profile a cell (``%%optimize``) or a statement (``%optimize STATEMENT``) and show
        where the time goes by category, the top functions of each, and what cutting each
        category would win (Amdahl).

        The code runs once. --overhead, --lines / -f and --gpu each run it once more, in a
        pass of its own. If the code raises, the report of what ran is shown, marked
        incomplete, and the exception is re-raised unchanged. Every option can also be set
        under [tool.workbench] in pyproject.toml; the magic line wins.
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
        options_given = given(args)
        options_given["save"] = unquote(args.save) if args.save else None
        options_given["snakeviz"] = args.snakeviz
        label = unquote(args.label) if args.label else ("cell" if cell is not None else statement)
        try:
            options = Options.build(
                options_given,
                categories=args.category,
                use_pyproject=not args.no_pyproject,
                label=label,
                call_cost_s=self._call_cost(),
            )
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None
        if args.candidate:
            return candidate_run.run_candidate(self, args, options, code)
        steps, transformed, filename = self._steps(code)
        try:
            report, error = profile_steps(
                steps, options, source=transformed, filename=filename, namespace=self.ip.user_ns
            )
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None
        problem = record_profile(self, args, report, code)
        if args.output:
            self.ip.user_ns[args.output] = report
        if options.save is not None:
            report.save(options.save)
            if options.snakeviz:
                from workbench.ui.snakeviz import open_snakeviz

                report.extra_notes.append(open_snakeviz(Path(options.save) / "profile.prof"))
        elif options.snakeviz:
            report.extra_notes.append("--snakeviz needs --save DIR: the profile must be on disk.")
        if not args.quiet:
            display(report)
        if error is not None:
            if problem:
                warn(problem)
            raise error
        if problem:
            raise UsageError(problem)
