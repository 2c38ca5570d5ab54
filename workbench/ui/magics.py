"""`%%optimize` and `%optimize`: a thin adapter from IPython to the core session.

It parses the line with magic_arguments, turns it into plain values, calls
:class:`workbench.experiment.session.Session` (profile, baseline, candidate, or a line
action), and displays what comes back. Everything that decides what a run is lives in
the core.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from IPython.utils.process import arg_split  # type: ignore[attr-defined]

from workbench.errors import WorkbenchError
from workbench.experiment.session import Candidacy, Cell, Profiled, Session
from workbench.profiling.options import Options
from workbench.ui import line_actions
from workbench.ui.arguments import given, unquote, with_experiment_options, with_run_options


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


class ShellCompiler:
    """Cells compiled as IPython compiles them: magics and ``!`` lines transformed, the
    source kept in IPython's cache so tracebacks and line passes show it."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell

    def parse(self, code: str) -> Cell:
        shell = self.shell
        transformed = str(shell.transform_cell(code))
        filename = str(shell.compile.cache(transformed, shell.execution_count, raw_code=code))
        tree = shell.compile.ast_parse(transformed, filename=filename)
        return Cell(code, transformed, filename, tree, shell.compile)


def warn(message: str) -> None:
    """A store problem that cannot be raised because the cell's own error is."""
    print(f"workbench: {message}", file=sys.stderr)


@magics_class
class OptimizeMagics(Magics):
    """Profile a cell or a statement and show where its time goes, by category."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.ip: Any = shell
        self.session = Session(shell.user_ns, compiler=ShellCompiler(shell))

    @magic_arguments()
    @with_experiment_options
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
        if args.output is not None and not args.output.isidentifier():
            raise UsageError(f"-o needs a variable name, got {args.output!r}")
        for flag in ("baseline", "candidate", "try_change"):
            if getattr(args, flag) and args.no_store:
                option = "--try" if flag == "try_change" else f"--{flag}"
                raise UsageError(f"{option} needs the run store: leave out --no-store")
        if sum(bool(x) for x in (args.baseline, args.candidate, args.try_change)) > 1:
            raise UsageError(
                "give one of --baseline NAME (record), --candidate NAME (measure) or --try "
                "CHANGE:FUNCTION (measure one change); pick the baseline with --against NAME"
            )
        code = cell if cell is not None else statement
        if args.try_change and not code.strip():
            raise UsageError(
                "--try CHANGE:FUNCTION needs code to measure: %%optimize --try ... on a cell, "
                "or %optimize --try ... STATEMENT"
            )
        options_given = {**given(args), "save": unquote(args.save), "snakeviz": args.snakeviz}
        if args.label:
            label: str | None = unquote(args.label)
        else:
            label = (
                None
                if args.candidate or args.try_change
                else ("cell" if cell is not None else statement)
            )
        try:
            options = self.session.options(
                options_given,
                categories=args.category,
                use_pyproject=not args.no_pyproject,
                label=label,
            )
            store = unquote(args.store)
            outcome: Profiled | Candidacy
            if args.try_change:
                from workbench.experiment.measure import Plan
                from workbench.experiment.outputs import Tolerance

                outcome = self.session.try_change(
                    unquote(args.try_change),
                    code,
                    options,
                    against=unquote(args.against),
                    checks=args.check,
                    plan=Plan(budget_s=args.budget),
                    tolerance=Tolerance(args.rtol, args.atol),
                    store=store,
                )
            elif args.candidate:
                from workbench.experiment.measure import Plan
                from workbench.experiment.outputs import Tolerance

                outcome = self.session.candidate(
                    args.candidate,
                    code,
                    options,
                    against=unquote(args.against),
                    checks=args.check,
                    plan=Plan(budget_s=args.budget),
                    tolerance=Tolerance(args.rtol, args.atol),
                    store=store,
                )
            else:
                outcome = self._profile(args, options, code, store)
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None
        if isinstance(outcome, Candidacy):
            self._show_candidate(args, outcome)
        else:
            self._show(args, options, outcome)

    def _profile(self, args: Any, options: Options, code: str, store: str | None) -> Profiled:
        notes = []
        if options.snakeviz and options.save is None:
            notes.append("--snakeviz needs --save DIR: the profile must be on disk.")
        if args.baseline:
            return self.session.baseline(
                args.baseline, code, options, checks=args.check, store=store, notes=notes
            )
        return self.session.profile(
            code, options, record=not args.no_store, store=store, notes=notes
        )

    def _show(self, args: Any, options: Options, outcome: Profiled) -> None:
        report = outcome.report
        if args.output:
            self.ip.user_ns[args.output] = report
        if options.save is not None:
            report.save(options.save)
        if not args.quiet:
            display(report)
        if options.save is not None and options.snakeviz:
            from workbench.ui.snakeviz import open_snakeviz

            print(f"workbench: {open_snakeviz(Path(options.save) / 'profile.prof')}")
        if outcome.error is not None:
            if outcome.problem:
                warn(outcome.problem)
            raise outcome.error
        if outcome.problem:
            raise UsageError(outcome.problem)

    def _show_candidate(self, args: Any, candidacy: Candidacy) -> None:
        if candidacy.error is not None:
            if not args.quiet:
                display(candidacy.report)
            raise candidacy.error
        if args.output:
            self.ip.user_ns[args.output] = candidacy.result
        if not args.quiet:
            display(candidacy.result)
