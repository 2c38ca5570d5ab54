"""The line forms of ``%optimize`` that take no code: ``--compare A B``, ``--postmortem FILE``,
``--workflow``, ``--resolve PHASE --note TEXT``, ``--runs`` and ``--store PATH`` alone.

``--compare`` and ``--postmortem`` read this notebook's runs (positions such as ``-1``,
names and labels count only those; ``--all-runs`` takes every run in the store), and the
postmortem is shown in the cell as well as written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from workbench.errors import WorkbenchError

ACTIONS = ("compare", "postmortem", "workflow", "resolve", "runs")
_POSTMORTEM_ONLY = ("target", "title", "redact")
_SCOPED = ("compare", "postmortem")


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
    if args.all_runs and action not in _SCOPED:
        stray.append("--all-runs goes only with --postmortem or --compare")
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
    origin = None if args.all_runs else magics.origin()
    if action == "compare":
        first, second = args.compare
        if origin is not None:
            opened = session.store(store)
            first, second = (str(opened.resolve_run(x, origin)) for x in (first, second))
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
        origin=origin,
    )
    return Written(path, text, where.name, origin)


@dataclass(frozen=True)
class Written:
    """A postmortem just written: says where, and shows it; `text` holds the markdown."""

    path: str
    text: str
    store: str
    origin: str | None = None

    def __str__(self) -> str:
        runs = f"the runs of {self.origin}" if self.origin else "every run"
        return (
            f"Postmortem written to {self.path} ({len(self.text.splitlines())} lines, "
            f"every number from {self.store}, {runs})."
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": str(self), "text/markdown": f"_{self}_\n\n{self.text}"}
