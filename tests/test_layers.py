"""The layering, checked by walking every import of workbench/ (ast, imports inside
functions and under TYPE_CHECKING included), and what ``import workbench`` loads."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"
CORE = ("profiling", "experiment", "store", "route", "calibration", "gpu", "machine")
FRONTEND_LIBRARIES = ("IPython", "ipywidgets", "plotly")
HEAVY = ("IPython", "plotly", "ipywidgets", "cupy", "scipy", "pyinstrument", "line_profiler")


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, and whether at module level."""

    module: str
    target: str
    line: int
    top_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_nodes(tree: ast.Module) -> set[int]:
    """ids of the import nodes that run when the module is imported (not in functions)."""
    found: set[int] = set()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.add(id(node))
        stack.extend(ast.iter_child_nodes(node))
    return found


def imports_of(path: Path, known: set[str]) -> list[Import]:
    """Every import in the file; `from a import b` names a.b when that is a module."""
    name = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top = _top_level_nodes(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            out.append(Import(name, target, node.lineno, id(node) in top))
    return out


def all_imports() -> list[Import]:
    files = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(p) for p in files}
    return [found for path in files for found in imports_of(path, known)]


def internal_graph() -> dict[str, set[str]]:
    """workbench module -> the workbench modules it imports (never its own package)."""
    files = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(p) for p in files}
    graph: dict[str, set[str]] = {name: set() for name in known}
    for found in all_imports():
        target = found.target
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != found.module:
            graph[found.module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_the_package() -> None:
    assert cycles(internal_graph()) == []


def test_the_core_never_imports_the_user_interface() -> None:
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in all_imports()
        if any(in_package(i.module, f"workbench.{p}") for p in CORE)
        and in_package(i.target, "workbench.ui")
    ]
    assert bad == []


def test_only_ui_and_figures_import_frontend_libraries_at_module_level() -> None:
    allowed = ("workbench.ui", "workbench.report.figures")
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in all_imports()
        if i.top_level
        and any(in_package(i.target, lib) for lib in FRONTEND_LIBRARIES)
        and not any(in_package(i.module, a) for a in allowed)
    ]
    assert bad == []


def test_the_router_never_imports_calibration() -> None:
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in all_imports()
        if in_package(i.module, "workbench.route") and in_package(i.target, "workbench.calibration")
    ]
    assert bad == []


def loaded_after(statement: str) -> set[str]:
    """Top-level names of the modules a fresh interpreter has loaded after `statement`."""
    code = f"import sys\n{statement}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import workbench",
        "import workbench.experiment.session",  # the core a magic calls
        "import workbench.report.markdown, workbench.report.html, workbench.report.text",
    ],
)
def test_importing_the_core_loads_no_heavy_or_frontend_library(statement: str) -> None:
    loaded = loaded_after(statement)
    assert "workbench" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_every_package_the_layering_names_exists() -> None:
    # CORE named "calibrate" after the folder became calibration/: its checks passed
    # without looking at it.
    missing = [
        name
        for name in (*CORE, "route", "calibration", "ui")
        if not (PACKAGE / name).is_dir() and not (PACKAGE / f"{name}.py").is_file()
    ]
    assert missing == []


def test_the_readme_layout_maps_every_folder_of_the_package() -> None:
    # The Layout listed calibrate/, a folder that does not exist (it is calibration/).
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1]
    named = set(re.findall(r"^  (\w+)/ ", layout, flags=re.MULTILINE))
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert sorted(folders - named) == []
    assert sorted(named - folders) == []
