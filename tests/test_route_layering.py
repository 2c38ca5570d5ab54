"""Layering: route/ never imports calibrate/ (calibration builds on the router, not the
other way), and the core imports no IPython, ipywidgets, plotly or cupy at module level."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "workbench"
HEAVY = ("IPython", "ipywidgets", "plotly", "cupy", "cupyx")


def _imports(path: Path, top_level_only: bool) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_route_never_imports_calibrate() -> None:
    for path in sorted((PACKAGE / "route").glob("*.py")):
        found = [
            n for n in _imports(path, top_level_only=False) if n.startswith("workbench.calibrate")
        ]
        assert not found, f"{path.name} imports {found}"


def test_route_calibrate_and_gpu_import_no_heavy_package_at_module_level() -> None:
    for folder in ("route", "calibrate", "gpu"):
        for path in sorted((PACKAGE / folder).glob("*.py")):
            found = [n for n in _imports(path, top_level_only=True) if n.split(".")[0] in HEAVY]
            assert not found, f"{folder}/{path.name} imports {found} at module level"
