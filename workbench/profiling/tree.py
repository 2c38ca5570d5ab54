"""The call tree: where the time went, function inside function.

Two sources give it:

* sampled stacks (``--mode sample``) give the exact tree: a node's time is the time of
  the samples whose stack starts with the node's path;
* pstats caller edges (cProfile) only say how long each callee ran under each caller,
  not under which *path*. The tree is then an approximation: a node that stands for a
  share of its function's time gets the same share of each of its callees' time under
  that function, a function already on the path (recursion) is not entered again, and
  children are clamped so that they never add up to more than their parent.

Nodes under `min_share` of the total are left out and at most `max_nodes` are kept,
biggest first, so a chart stays fast and small. The result is a flat list of
`TreeNode` ready for a plotly icicle (``branchvalues="total"``) or `text_tree`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workbench.profiling.capture import FuncKey, FuncStats

Stack = tuple[FuncKey, ...]
ROOT_ID = "total"
ROOT_LABEL = "Total"
MIN_SHARE = 0.005
MAX_NODES = 1500
# plotly.js draws nothing when children add up to more than their parent; it forgives
# a relative excess below 1e-6 (ALMOST_EQUAL), far above float rounding.


@dataclass(frozen=True)
class TreeNode:
    """One node of the call tree; `value` is inclusive seconds, `self_s` exclusive."""

    id: str
    parent: str
    label: str
    value: float
    self_s: float
    category: str
    key: FuncKey | None
    depth: int


def label_of(key: FuncKey) -> str:
    """The name a node shows: the function name (C functions keep cProfile's name)."""
    return key[2]


def _ordered(children: Iterable[tuple[FuncKey, float]]) -> list[tuple[FuncKey, float]]:
    """Biggest first, then by name, file and line: the same input gives the same tree."""
    return sorted(children, key=lambda kv: (-kv[1], kv[0][2], kv[0][0], kv[0][1]))


def _clamp(values: list[tuple[FuncKey, float]], budget: float) -> list[tuple[FuncKey, float]]:
    """Scale children down so their sum does not exceed the parent's value."""
    positive = [(k, v) for k, v in values if v > 0]
    total = sum(v for _k, v in positive)
    if total <= budget or total <= 0:
        return positive
    factor = budget / total
    return [(k, v * factor) for k, v in positive]


@dataclass(order=True)
class _Pending:
    """A node waiting to be placed: the biggest is placed first."""

    order: tuple[float, int]
    parent: str
    key: FuncKey
    value: float
    depth: int
    path: Stack


class _Builder:
    """Places nodes biggest-first until the cap is reached; shared by both sources."""

    def __init__(
        self,
        total: float,
        category_of: Mapping[FuncKey, str],
        min_share: float,
        max_nodes: int,
    ) -> None:
        self.total = total
        self.category_of = category_of
        self.threshold = total * min_share
        self.max_nodes = max(1, max_nodes)
        self.nodes = [TreeNode(ROOT_ID, "", ROOT_LABEL, total, 0.0, "", None, 0)]
        self._heap: list[_Pending] = []
        self._seq = 0

    def offer(
        self, parent: str, children: list[tuple[FuncKey, float]], depth: int, path: Stack
    ) -> None:
        """Queue the children of a placed node that are big enough to show."""
        for key, value in children:
            if value < self.threshold or value <= 0:
                continue
            self._seq += 1
            pending = _Pending((-value, self._seq), parent, key, value, depth, (*path, key))
            heapq.heappush(self._heap, pending)

    def next(self) -> _Pending | None:
        """The biggest queued node, or None when done or the cap is reached."""
        if not self._heap or len(self.nodes) >= self.max_nodes:
            return None
        return heapq.heappop(self._heap)

    def place(self, pending: _Pending, self_s: float) -> str:
        """Add the node; returns its id."""
        node_id = f"n{len(self.nodes)}"
        category = self.category_of.get(pending.key, "")
        self.nodes.append(
            TreeNode(
                node_id,
                pending.parent,
                label_of(pending.key),
                pending.value,
                min(max(self_s, 0.0), pending.value),
                category,
                pending.key,
                pending.depth,
            )
        )
        return node_id


def tree_from_stats(
    stats: Mapping[FuncKey, FuncStats],
    category_of: Mapping[FuncKey, str],
    *,
    min_share: float = MIN_SHARE,
    max_nodes: int = MAX_NODES,
) -> list[TreeNode]:
    """An approximate call tree from pstats caller edges (cProfile mode)."""
    total = float(sum(value[2] for value in stats.values()))
    builder = _Builder(total, category_of, min_share, max_nodes)
    callees: dict[FuncKey, list[tuple[FuncKey, float]]] = {}
    roots: list[tuple[FuncKey, float]] = []
    for key, (_pc, _nc, _tt, cumtime, callers) in stats.items():
        known = [caller for caller in callers if caller in stats]
        if not known:
            roots.append((key, cumtime))
        for caller in known:
            callees.setdefault(caller, []).append((key, callers[caller][3]))
    builder.offer(ROOT_ID, _clamp(_ordered(roots), total), 1, ())
    while (pending := builder.next()) is not None:
        _pc, _nc, tottime, cumtime, _callers = stats[pending.key]
        share = pending.value / cumtime if cumtime > 0 else 0.0
        node_id = builder.place(pending, tottime * share)
        on_path = set(pending.path)
        children = [
            (callee, edge * share)
            for callee, edge in callees.get(pending.key, [])
            if callee not in on_path
        ]
        builder.offer(
            node_id, _clamp(_ordered(children), pending.value), pending.depth + 1, pending.path
        )
    return builder.nodes


class _Trie:
    """Sampled stacks merged by common prefix: one entry per distinct path."""

    __slots__ = ("children", "inclusive", "self_s")

    def __init__(self) -> None:
        self.inclusive = 0.0
        self.self_s = 0.0
        self.children: dict[FuncKey, _Trie] = {}

    def add(self, stack: Stack, seconds: float) -> None:
        node = self
        node.inclusive += seconds
        for key in stack:
            child = node.children.get(key)
            if child is None:
                child = node.children[key] = _Trie()
            child.inclusive += seconds
            node = child
        node.self_s += seconds

    def kids(self) -> list[tuple[FuncKey, float]]:
        return _ordered((key, child.inclusive) for key, child in self.children.items())


def tree_from_stacks(
    stacks: Iterable[tuple[Stack, float]],
    category_of: Mapping[FuncKey, str],
    *,
    min_share: float = MIN_SHARE,
    max_nodes: int = MAX_NODES,
) -> list[TreeNode]:
    """The exact call tree from sampled stacks (sample mode)."""
    trie = _Trie()
    for stack, seconds in stacks:
        if stack and seconds > 0:
            trie.add(stack, seconds)
    builder = _Builder(trie.inclusive, category_of, min_share, max_nodes)
    places: dict[str, _Trie] = {ROOT_ID: trie}
    builder.offer(ROOT_ID, _clamp(trie.kids(), trie.inclusive), 1, ())
    while (pending := builder.next()) is not None:
        here = places[pending.parent].children[pending.key]
        node_id = builder.place(pending, here.self_s)
        places[node_id] = here
        builder.offer(node_id, _clamp(here.kids(), pending.value), pending.depth + 1, ())
    return builder.nodes


def children_of(nodes: Iterable[TreeNode]) -> dict[str, list[TreeNode]]:
    """Each node's children, biggest first then by label (the order of the text tree)."""
    found: dict[str, list[TreeNode]] = {}
    for node in nodes:
        if node.parent:
            found.setdefault(node.parent, []).append(node)
    for kids in found.values():
        kids.sort(key=lambda n: (-n.value, n.label, n.id))
    return found


def _seconds(value: float) -> str:
    return f"{value:.3f}s"


def text_tree(nodes: list[TreeNode], depth: int = 3, min_pct: float = 1.0) -> str:
    """Where the time went as an indented tree, like ``Total: 25.248s`` then branches.

    Shows `depth` levels of branches holding at least `min_pct` of the total each, with
    their category in brackets. A chain of calls that passes the time on whole (each
    hands all but `min_pct` to one child) is one line, ``a → b → c``, and counts as one
    level. Under the root an ``other`` line always gives the time no shown branch holds;
    deeper down a ``self`` line gives a node's own time and an ``other`` line what its
    smaller children hold, each when at least `min_pct`.
    """
    if not nodes:
        return "Total: 0.000s"
    root = nodes[0]
    total = root.value
    kids = children_of(nodes)
    lines = [f"{root.label}: {_seconds(total)}"]

    def pct(value: float) -> float:
        return 100.0 * value / total if total > 0 else 0.0

    def shown(node: TreeNode) -> list[TreeNode]:
        return [k for k in kids.get(node.id, []) if pct(k.value) >= min_pct]

    def chain(node: TreeNode) -> list[TreeNode]:
        links = [node]
        while True:
            nxt = shown(links[-1])
            if len(nxt) != 1 or pct(links[-1].value - nxt[0].value) >= min_pct:
                return links
            links.append(nxt[0])

    def walk(node: TreeNode, prefix: str, level: int) -> None:
        rows: list[tuple[str, TreeNode | None]] = []
        branches = shown(node) if level <= depth else []
        for kid in branches:
            links = chain(kid)
            last = links[-1]
            names = " → ".join(link.label for link in links)
            text = f"{names}: {_seconds(last.value)} ({pct(last.value):.1f}%) [{last.category}]"
            rows.append((text, last))
        rest = node.value - sum(k.value for k in branches)
        if node is root:
            rows.append((f"other: {_seconds(max(rest, 0.0))}", None))
        elif branches:
            if pct(node.self_s) >= min_pct:
                rows.append((f"self: {_seconds(node.self_s)} ({pct(node.self_s):.1f}%)", None))
            other = rest - node.self_s
            if pct(other) >= min_pct:
                rows.append((f"other: {_seconds(other)} ({pct(other):.1f}%)", None))
        for index, (text, child) in enumerate(rows):
            end = index == len(rows) - 1
            lines.append(f"{prefix}{'└─' if end else '├─'} {text}")
            if child is not None:
                walk(child, prefix + ("    " if end else "│   "), level + 1)

    walk(root, "", 1)
    return "\n".join(lines)
