"""The line forms of ``%optimize`` that take no code: ``--compare A B``, ``--postmortem FILE``,
``--workflow``, ``--resolve PHASE --note TEXT``, ``--runs`` and ``--store PATH`` alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from workbench.errors import WorkbenchError
from workbench.experiment.compare import compare_stored
from workbench.experiment.workflow import Workflow
from workbench.report.postmortem import postmortem
from workbench.ui.experiment_magic import Lab, unquote, usage

ACTIONS = ("compare", "postmortem", "workflow", "resolve", "runs")
_POSTMORTEM_ONLY = ("target", "title", "redact")


def wants_line_action(args: Any, cell: str | None, statement: str) -> bool:
    """True when the magic line asks for an action rather than code to profile."""
    if cell is not None or statement:
        given = [f"--{name}" for name in ACTIONS if getattr(args, name)]
        if given:
            raise UsageError(
                f"{', '.join(given)} takes no code: write it alone on a line, e.g. "
                "%optimize --compare -2 -1"
            )
        return False
    return any(getattr(args, name) for name in ACTIONS) or bool(args.store)


def line_action(magics: Any, args: Any) -> None:
    """Run the one action the line asks for, display its result (or store it with -o)."""
    chosen = [name for name in ACTIONS if getattr(args, name)]
    if len(chosen) > 1:
        raise UsageError(f"give one of --{', --'.join(chosen)} at a time")
    if not chosen:
        lab: Lab = magics.lab
        try:
            lab.store_path = unquote(args.store)
            path = lab.store().path
        except WorkbenchError as exc:
            lab.store_path = None
            raise usage(exc) from None
        print(f"workbench: runs are recorded in {path} from now on")
        return
    action = chosen[0]
    stray = [
        f"--{n} goes only with --postmortem"
        for n in _POSTMORTEM_ONLY
        if getattr(args, n) and action != "postmortem"
    ]
    if args.note and action != "resolve":
        stray.append("--note goes only with --resolve")
    if stray:
        raise UsageError("; ".join(stray))
    try:
        result = _run(magics, args, action)
    except WorkbenchError as exc:
        raise usage(exc) from None
    if args.output:
        magics.ip.user_ns[args.output] = result
    if not args.quiet:
        display(result)


def _run(magics: Any, args: Any, action: str) -> Any:
    lab: Lab = magics.lab
    store = lab.store(args.store)
    if action == "compare":
        first, second = (unquote(x) or "" for x in args.compare)
        return compare_stored(store, first, second)
    if action == "runs":
        return store.runs()
    workflow = Workflow(store, lab.workflow_name)
    if action == "workflow":
        return workflow.status()
    if action == "resolve":
        workflow.resolve(unquote(args.resolve) or "", unquote(args.note) or "")
        return workflow.status()
    path = unquote(args.postmortem) or ""
    text = postmortem(
        path,
        store=store.path,
        workflow=lab.workflow_name,
        title=unquote(args.title) or "Optimization postmortem",
        target_pct=args.target,
        redact=args.redact,
    )
    return Written(path, text, store.path.name)


@dataclass
class Written:
    """A postmortem just written: shows where; `text` holds the markdown."""

    path: str
    text: str
    store: str

    def __str__(self) -> str:
        return (
            f"Postmortem written to {self.path} ({len(self.text.splitlines())} lines, "
            f"every number from {self.store})."
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": str(self), "text/markdown": str(self)}
