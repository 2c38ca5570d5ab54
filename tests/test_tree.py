"""The call tree: exact from sampled stacks, approximated from cProfile caller edges."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
import sampled_workloads as wl
import workloads
from conftest import Tick

from workbench.profiling.breakdown import classify_all
from workbench.profiling.capture import FuncKey, run_profiled
from workbench.profiling.categories import Ruleset
from workbench.profiling.sampling import run_sampled
from workbench.profiling.tree import (
    TreeNode,
    children_of,
    text_tree,
    tree_from_stacks,
    tree_from_stats,
)
from workbench.report.figures import category_colors, icicle_figure

A, B, C = ("m.py", 1, "a"), ("m.py", 5, "b"), ("m.py", 9, "c")
CATS = {A: "X", B: "Y", C: "Z"}


def _by_label(nodes: list[TreeNode], label: str) -> list[TreeNode]:
    return [n for n in nodes if n.label == label]


def _check_children_fit(nodes: list[TreeNode]) -> None:
    ids = {n.id for n in nodes}
    for node in nodes:
        kids = children_of(nodes).get(node.id, [])
        assert sum(k.value for k in kids) <= node.value * (1 + 1e-12)
        assert node.parent == "" or node.parent in ids


def test_sampled_stacks_give_the_exact_tree() -> None:
    nodes = tree_from_stacks([((A, B), 3.0), ((A, C), 1.0), ((A,), 0.5), ((B,), 0.5)], CATS)
    rows = [(n.id, n.parent, n.label, n.value, n.self_s, n.category, n.depth) for n in nodes]
    assert rows == [
        ("total", "", "Total", 5.0, 0.0, "", 0),
        ("n1", "total", "a", 4.5, 0.5, "X", 1),
        ("n2", "n1", "b", 3.0, 3.0, "Y", 2),
        ("n3", "n1", "c", 1.0, 1.0, "Z", 2),
        ("n4", "total", "b", 0.5, 0.5, "Y", 1),
    ]


def test_text_tree_renders_like_the_seed() -> None:
    nodes = tree_from_stacks([((A, B), 3.0), ((A, C), 1.0), ((A,), 0.5), ((B,), 0.5)], CATS)
    assert text_tree(nodes) == "\n".join(
        [
            "Total: 5.000s",
            "├─ a: 4.500s (90.0%) [X]",
            "│   ├─ b: 3.000s (60.0%) [Y]",
            "│   ├─ c: 1.000s (20.0%) [Z]",
            "│   └─ self: 0.500s (10.0%)",
            "├─ b: 0.500s (10.0%) [Y]",
            "└─ other: 0.000s",
        ]
    )
    assert text_tree(nodes, depth=1).splitlines()[1:] == [
        "├─ a: 4.500s (90.0%) [X]",
        "├─ b: 0.500s (10.0%) [Y]",
        "└─ other: 0.000s",
    ]
    assert text_tree(nodes, min_pct=15.0).splitlines()[-1] == "└─ other: 0.500s"


def test_a_chain_that_passes_its_time_on_is_one_line() -> None:
    nodes = tree_from_stacks([((A, B, C), 2.0), ((B,), 1.0)], CATS)
    assert text_tree(nodes).splitlines()[1] == "├─ a → b → c: 2.000s (66.7%) [Z]"


def test_small_nodes_are_pruned_and_the_node_count_capped_biggest_first() -> None:
    tiny = [((A, ("m.py", 100 + i, f"f{i}")), 0.001) for i in range(100)]
    nodes = tree_from_stacks([((A, B), 1.0), *tiny], CATS)
    assert [n.label for n in nodes] == ["Total", "a", "b"]
    assert nodes[1].value == pytest.approx(1.1)
    capped = tree_from_stacks([((A, B), 1.0), *tiny], CATS, min_share=0.0, max_nodes=5)
    assert [n.label for n in capped][:3] == ["Total", "a", "b"]
    assert len(capped) == 5


def test_cprofile_tree_follows_the_caller_edges_exactly_when_there_is_one_path(
    tick: Tick,
) -> None:
    raw, _ = run_profiled([workloads.top], timer=tick)
    nodes = tree_from_stats(raw.stats, {k: "W" for k in raw.stats})
    # Every timer reading is 1 ms: top 3 ms self, mid 2 x 4 ms, leaf 6 x 1 ms.
    shape = [(n.label, n.depth, round(n.value, 6), round(n.self_s, 6)) for n in nodes]
    assert shape == [
        ("Total", 0, 0.017, 0.0),
        ("top", 1, 0.017, 0.003),
        ("mid", 2, 0.014, 0.008),
        ("leaf", 3, 0.006, 0.006),
    ]


def test_cprofile_tree_splits_a_shared_callee_by_edge_time() -> None:
    raw, _ = run_profiled([wl.diamond])
    nodes = tree_from_stats(raw.stats, {k: "W" for k in raw.stats})
    shared = next(k for k in raw.stats if k[2] == "shared")
    edges = {caller[2]: edge[3] for caller, edge in raw.stats[shared][4].items()}
    parents = {n.id: n.label for n in nodes}
    under = {parents[n.parent]: n.value for n in _by_label(nodes, "shared")}
    assert under == {
        "caller_a": pytest.approx(edges["caller_a"]),
        "caller_b": pytest.approx(edges["caller_b"]),
    }
    _check_children_fit(nodes)


def test_cprofile_tree_does_not_descend_into_recursion() -> None:
    raw, _ = run_profiled([lambda: wl.countdown(30)])
    nodes = tree_from_stats(raw.stats, {k: "W" for k in raw.stats}, min_share=0.0)
    assert len(_by_label(nodes, "countdown")) == 1
    by_id = {n.id: n for n in nodes}
    for node in nodes:
        seen: list[FuncKey | None] = []
        parent = node.parent
        while parent:
            seen.append(by_id[parent].key)
            parent = by_id[parent].parent
        assert node.key is None or node.key not in seen


def test_children_are_clamped_to_their_parent() -> None:
    stats = {
        A: (1, 1, 0.0, 1.0, {}),
        B: (1, 1, 0.8, 0.8, {A: (1, 1, 0.8, 0.8)}),
        C: (1, 1, 0.7, 0.7, {A: (1, 1, 0.7, 0.7)}),
    }
    nodes = tree_from_stats(stats, CATS)  # B and C claim 1.5 s of A's 1.0 s
    _check_children_fit(nodes)
    b, c = _by_label(nodes, "b")[0], _by_label(nodes, "c")[0]
    assert b.value / c.value == pytest.approx(0.8 / 0.7)
    assert b.value + c.value == pytest.approx(1.0)


def test_trees_of_real_runs_always_fit_and_categories_come_from_the_caller() -> None:
    sampled, _ = run_sampled([wl.three_to_one_calls], interval=0.0005)
    category_of, _ = classify_all(sampled.stats, Ruleset())
    nodes = tree_from_stacks(sampled.stacks, category_of)
    _check_children_fit(nodes)
    assert nodes[0].value == pytest.approx(sampled.sampled_s)
    assert {n.category for n in nodes[1:]} <= set(category_of.values())
    raw, _ = run_profiled([wl.three_to_one_calls])
    traced = tree_from_stats(raw.stats, {k: "only" for k in raw.stats})
    _check_children_fit(traced)
    assert {n.category for n in traced[1:]} == {"only"}


def test_icicle_is_a_valid_plotly_figure_coloured_by_category() -> None:
    nodes = tree_from_stacks([((A, B), 3.0), ((A, C), 1.0), ((A,), 0.5), ((B,), 0.5)], CATS)
    figure = icicle_figure(nodes, "where the time went", order=["Y", "X", "Z"])
    go.Figure(figure)  # plotly validates every property
    trace = figure["data"][0]
    assert trace["type"] == "icicle" and trace["branchvalues"] == "total"
    assert trace["ids"] == [n.id for n in nodes]
    assert trace["parents"] == [n.parent for n in nodes]
    colors = category_colors(["Y", "X", "Z"])
    assert trace["marker"]["colors"][1:] == [colors[n.category] for n in nodes[1:]]
    assert figure["layout"]["title"]["text"] == "where the time went"
