"""`%%optimize` and `%optimize`: a thin adapter from IPython to the core session.

It parses the line with magic_arguments, turns it into plain values, calls
:class:`workbench.experiment.session.Session` (profile, baseline, candidate, or a line
action), and displays what comes back. Everything that decides what a run is lives in
the core. What it keeps per kernel: the explanations already shown (shown open once,
folded afterwards), the snakeviz servers it started, and the notebook its runs come from.
The cell's last value is the magic's return value, so IPython shows it as ``Out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

from workbench import progress
from workbench.errors import WorkbenchError
from workbench.experiment.session import Candidacy, Cell, Confirm, Profiled, Session, failure
from workbench.profiling.options import Options
from workbench.profiling.report import Report
from workbench.report import bundle
from workbench.ui import line_actions
from workbench.ui.arguments import given, parse_line, with_experiment_options, with_run_options
from workbench.ui.origin import notebook_origin
from workbench.ui.snakeviz import Servers


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
        runner = getattr(shell, "loop_runner", None)  # for await at the top of the cell
        return Cell(code, transformed, filename, tree, shell.compile, runner)


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
        self.shown: set[str] = set()  # explanations shown open once in this kernel
        self.servers = Servers()

    def origin(self) -> str:
        """The notebook (or kernel session) this kernel's runs come from."""
        return notebook_origin(self.ip.user_ns, self.session.id)

    def show(self, report: Report) -> None:
        """Display a report: its outputs in order, explanations folded once shown."""
        for part in bundle.outputs(report.document, report.chart, self.shown):
            display(part, raw=True)

    def display_report(self, report: Report, problems: list[str]) -> None:
        """:meth:`show`, with a failure to render joining `problems` (see :func:`show`)."""
        try:
            self.show(report)
        except Exception as exc:
            problems.append(f"the report could not be displayed: {failure(exc)}")

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
        help="Open the profile in snakeviz (the --save one, else a temporary copy) where the "
        "browser can reach a local server; says where it serves and how to stop it.",
    )
    @with_run_options
    @argument("statement", nargs=argparse.REMAINDER, help="Code to profile (line magic only).")
    @line_cell_magic
    @no_var_expand
    def optimize(self, line: str, cell: str | None = None) -> Any:
        """Profile a cell (``%%optimize``) or a statement (``%optimize STATEMENT``) and show
        where the time goes by category, the top functions of each, and what cutting each
        category would win (Amdahl).

        The code runs once. --overhead, --lines / -f and --gpu each run it once more, in a
        pass of its own (with a progress bar, as a candidate's rounds). If the code raises,
        the report of what ran is shown, marked incomplete, and the exception is re-raised
        unchanged. The cell's last value is the output (Out), as with %time. Every option
        can also be set under [tool.workbench] in pyproject.toml; the magic line wins.
        """
        try:
            parsed = parse_line(self.optimize.parser, line)
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None
        args, statement = parsed.args, parsed.statement
        self.session.origin = self.origin()
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
        for flag, needs in (("trust_baseline", "candidate"), ("keep_outputs", "baseline")):
            if getattr(args, flag) and not getattr(args, needs):
                raise UsageError(f"--{flag.replace('_', '-')} goes only with --{needs} NAME")
        code = cell if cell is not None else statement
        if args.try_change and not code.strip():
            raise UsageError(
                "--try CHANGE:FUNCTION needs code to measure: %%optimize --try ... on a cell, "
                "or %optimize --try ... STATEMENT"
            )
        bars = not args.quiet
        self.session.stage = lambda label: progress.stage(label, enabled=bars)
        options_given = {**given(args), "save": args.save, "snakeviz": args.snakeviz}
        if args.label:
            label: str | None = args.label
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
            outcome: Profiled | Candidacy
            if args.try_change or args.candidate:
                outcome = self._candidate(args, code, options)
            else:
                outcome = self._profile(args, options, code, args.store)
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None
        finally:
            self.session.stage = None
        if isinstance(outcome, Candidacy):
            self._show_candidate(args, outcome)
        else:
            self._show(args, options, outcome)
        return outcome.report.result

    def _candidate(self, args: Any, code: str, options: Options) -> Candidacy:
        """--candidate NAME (or, with `args.try_change`, --try CHANGE:FUNCTION): measured
        against its baseline, with a progress bar over the rounds."""
        from workbench.experiment.measure import Plan
        from workbench.experiment.outputs import Tolerance

        name = args.try_change or args.candidate
        common: dict[str, Any] = {
            "against": args.against,
            "checks": args.check,
            "plan": Plan(budget_s=args.budget),
            "tolerance": Tolerance(args.rtol, args.atol),
            "store": args.store,
        }
        rounds = progress.rounds(f"candidate {name!r}: rounds", enabled=not args.quiet)
        self.session.on_round = rounds
        try:
            if args.try_change:
                return self.session.try_change(name, code, options, **common)
            confirm = self._confirmer(args.trust_baseline)
            return self.session.candidate(name, code, options, confirm=confirm, **common)
        finally:
            rounds.close()
            self.session.on_round = None

    def _confirmer(self, trusted: bool) -> Confirm | None:
        """How a baseline from another session is confirmed: --trust-baseline (its code
        is printed), a "y" typed where the frontend can answer input(), else not at all
        (the session then refuses, naming the flag)."""
        if trusted:

            def shown(review: Any) -> bool:
                print(f"workbench: {review.text()}\nRe-running it (--trust-baseline).")
                return True

            return shown
        if not frontend_can_answer(self.ip):
            return None

        def ask(review: Any) -> bool:
            print(f"workbench: {review.text()}")
            return input("Re-run this baseline's code? [y/N] ").strip().lower() in ("y", "yes")

        return ask

    def _profile(self, args: Any, options: Options, code: str, store: str | None) -> Profiled:
        notes: list[str] = []
        if args.baseline:
            return self.session.baseline(
                args.baseline,
                code,
                options,
                checks=args.check,
                store=store,
                notes=notes,
                keep_outputs=args.keep_outputs,
            )
        return self.session.profile(
            code, options, record=not args.no_store, store=store, notes=notes
        )

    def _show(self, args: Any, options: Options, outcome: Profiled) -> None:
        """The report, whatever happened: saved, shown, then what failed after the code ran
        said beside it, and the code's own exception (if any) raised unchanged."""
        report = outcome.report
        problems = [outcome.problem] if outcome.problem else []
        if args.output:
            self.ip.user_ns[args.output] = report
        saved = False
        if options.save is not None:
            try:
                report.save(options.save)
                saved = True
            except Exception as exc:
                problems.append(f"the report was not saved: {failure(exc)}")
        if not args.quiet:
            self.display_report(report, problems)
        if options.snakeviz and (saved or options.save is None):
            try:
                print(f"workbench: {self.servers.open(self._prof_file(report, options.save))}")
            except Exception as exc:
                problems.append(f"snakeviz was not opened: {failure(exc)}")
        finish(outcome.error, problems)

    def _prof_file(self, report: Report, save: str | Path | None) -> Path:
        """The profile snakeviz opens: the one --save wrote, else one in a new temporary
        folder."""
        if save is not None:
            return Path(save) / "profile.prof"
        import tempfile

        from workbench.profiling.export import write_prof

        folder = Path(tempfile.mkdtemp(prefix="workbench-snakeviz-"))
        return write_prof(folder / "profile.prof", report.stats)

    def _show_candidate(self, args: Any, candidacy: Candidacy) -> None:
        problems = [candidacy.problem] if candidacy.problem else []
        if candidacy.error is not None or candidacy.result is None:
            if not args.quiet:
                self.display_report(candidacy.report, problems)
            finish(candidacy.error, problems)
            return
        if args.output:
            self.ip.user_ns[args.output] = candidacy.result
        if not args.quiet:
            show(candidacy.result, problems)
        finish(None, problems)


def show(shown: object, problems: list[str]) -> None:
    """Display a report or a result; a failure to render it joins `problems` instead of
    a traceback (IPython's display would print one from inside the workbench)."""
    try:
        own = getattr(shown, "_ipython_display_", None)
        if own is not None:
            own()
        else:
            display(shown._repr_mimebundle_(), raw=True)  # type: ignore[attr-defined]
    except Exception as exc:
        problems.append(f"the report could not be displayed: {failure(exc)}")


def finish(error: BaseException | None, problems: list[str]) -> None:
    """After the report: raise the code's own exception unchanged, with the workbench's
    problems written beside it; without one, the problems as one UsageError."""
    if error is not None:
        for problem in problems:
            warn(problem)
        raise error
    if problems:
        raise UsageError("; ".join(problems))


def frontend_can_answer(shell: Any) -> bool:
    """Whether input() reaches a person: a Jupyter frontend that allows stdin, or a
    terminal. A headless kernel (nbclient, papermill) or a captured stdin cannot."""
    kernel = getattr(shell, "kernel", None)
    if kernel is not None:
        return bool(getattr(kernel, "_allow_stdin", False))
    stdin = sys.stdin
    return stdin is not None and stdin.isatty()
