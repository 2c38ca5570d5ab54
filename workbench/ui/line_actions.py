"""The line forms of ``%optimize`` that take no code: ``--compare A B``, ``--postmortem FILE``,
``--workflow``, ``--resolve PHASE --note TEXT``, ``--runs`` and ``--store PATH`` alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from workbench.errors import WorkbenchError

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
        try:
            path = magics.session.use_store(args.store)
        except WorkbenchError as exc:
            raise UsageError(str(exc)) from None
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
        raise UsageError(str(exc)) from None
    if args.output:
        magics.ip.user_ns[args.output] = result
    if not args.quiet:
        display(result)


def _run(magics: Any, args: Any, action: str) -> Any:
    session = magics.session
    store = args.store
    if action == "compare":
        first, second = args.compare
        return session.compare(first, second, store=store)
    if action == "runs":
        return session.runs(store=store)
    if action == "workflow":
        return session.status(store=store)
    if action == "resolve":
        return session.resolve(args.resolve, args.note or "", store=store)
    path = args.postmortem
    text, where = session.postmortem(
        path,
        title=args.title or "Optimization postmortem",
        target_pct=args.target,
        redact=args.redact,
        store=store,
    )
    return Written(path, text, where.name)


@dataclass(frozen=True)
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
