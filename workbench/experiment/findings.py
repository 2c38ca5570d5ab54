"""Findings the seeds learned the hard way, detected from the profile and the store.

* ``gpu-never-ran``: GPU code that is defined or imported but never executed in the run
  (seed 003: "GPU operations never executed (orphaned code)"). Found from the profile (which
  functions ran), the source of the profiled files (which functions drive the GPU), the
  notebook namespace (functions defined in cells, GPU modules imported) and, when given,
  execution counters per backend (the router's).
* ``overhead-without-benefit``: a code path the candidate added costs more than the run
  gained ("overhead without benefit is negative optimization").
* ``dominant-category``: a category holds over half the time and no experiment changed it
  ("GPU acceleration needs to target the 94%, not the 5.8%"); not said to an experiment
  whose change targets a function of that category (:func:`workbench.experiment.targets.targeted_categories`).

Which functions "drive the GPU" is read from their source: a function whose name, or an
attribute access in its body (``cp.asarray``, ``self.gpu.run``), names cupy, CUDA, a GPU, or
a module imported from a GPU package. This is a heuristic: each finding lists the functions
and lines it is based on.
"""

from __future__ import annotations

import ast
import os
import re
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from workbench.profiling.categories import GPU_PACKAGES

GPU_TOKEN = re.compile(r"gpu|cuda|cupy|^_?cp$", re.IGNORECASE)
GPU_CATEGORY = re.compile(r"gpu|cuda|cupy", re.IGNORECASE)
_CELL_FILE = re.compile(r"^<ipython-input-|^<workbench-cell-|[/\\](ipykernel|xpython)_\d+[/\\]")
DOMINANT_PCT = 50.0
_NOT_USER = ("stdlib", "native", "library:")


@dataclass(frozen=True)
class Finding:
    """One finding: a kind, a one-line title, the detail, and the evidence it rests on."""

    kind: str
    title: str
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def sentence(self) -> str:
        """Title and detail as one note line."""
        return f"Finding: {self.title}. {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored with the run."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict`."""
        return cls(
            str(data["kind"]), str(data["title"]), str(data["detail"]), dict(data["evidence"])
        )


@dataclass(frozen=True)
class GpuFunction:
    """A function whose source drives the GPU."""

    file: str
    line: int
    name: str
    qualname: str

    def where(self) -> str:
        """``gpu_batch.py:108 GpuBatch.transform``."""
        return f"{os.path.basename(self.file)}:{self.line} {self.qualname}"


def _is_gpu_module(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in GPU_PACKAGES) or bool(
        GPU_CATEGORY.search(name.rsplit(".", 1)[-1])
    )


def _body_tokens(body: list[ast.stmt], gpu_names: set[str]) -> set[str]:
    """Names a function body reaches the GPU through: every object an attribute is read
    from (``cp`` and ``gpu`` in ``cp.asarray``, ``self.gpu.run``), and module-level GPU
    names it uses. Annotations and plain attribute reads (``self.gpu_used``) do not count."""
    tokens: set[str] = set()
    for node in _walk_without_annotations(body):
        if isinstance(node, ast.Attribute):
            base = node.value
            while isinstance(base, ast.Attribute):
                tokens.add(base.attr)
                base = base.value
            if isinstance(base, ast.Name):
                tokens.add(base.id)
        elif isinstance(node, ast.Name) and node.id in gpu_names:
            tokens.add(node.id)
    return tokens


def _walk_without_annotations(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node under `body`, leaving out annotations (``x: GpuBatch = ...``)."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        children: list[ast.AST]
        if isinstance(node, ast.AnnAssign):
            children = [node.target] + ([node.value] if node.value is not None else [])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            children = list(node.body)
        else:
            children = list(ast.iter_child_nodes(node))
        stack.extend(reversed(children))


class SourceIndex:
    """GPU functions per source file, parsed once per file version (path, mtime, size)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[int, int], bool, list[GpuFunction]]] = {}

    def gpu_functions(self, path: str, *, gpu_category: bool = False) -> list[GpuFunction]:
        """The GPU-driving functions defined in the file at `path` ([] when unreadable).

        A file counts only when it imports something GPU-related, or when its code is in a
        GPU category of the profile (`gpu_category`).
        """
        try:
            info = os.stat(path)
        except OSError:
            return []
        version = (info.st_mtime_ns, info.st_size)
        cached = self._cache.get(path)
        if cached is None or cached[0] != version:
            cached = (version, *self._scan(path))
            self._cache[path] = cached
        _, related, found = cached
        return found if related or gpu_category else []

    def _scan(self, path: str) -> tuple[bool, list[GpuFunction]]:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            return False, []
        if not GPU_TOKEN.search(text):
            return False, []
        try:
            tree = ast.parse(text, filename=path)
        except SyntaxError:
            return False, []
        related, aliases = _gpu_imports(tree)
        defined = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and GPU_TOKEN.search(node.name)
        }
        found: list[GpuFunction] = []
        _collect(tree, path, "", aliases | defined, found)
        return related, found


def _gpu_imports(tree: ast.Module) -> tuple[bool, set[str]]:
    """Whether the file imports anything GPU-related, and the names those imports bind."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(
                alias.asname or alias.name.split(".")[0]
                for alias in node.names
                if _is_gpu_module(alias.name)
            )
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            package = any(base == p or base.startswith(p + ".") for p in GPU_PACKAGES)
            names.update(
                alias.asname or alias.name
                for alias in node.names
                if package or GPU_TOKEN.search(alias.asname or alias.name)
            )
    return bool(names), names


def _collect(
    node: ast.AST, path: str, prefix: str, gpu_names: set[str], out: list[GpuFunction]
) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            _collect(child, path, f"{prefix}{child.name}.", gpu_names, out)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = prefix + child.name
            tokens = _body_tokens(child.body, gpu_names)
            if GPU_TOKEN.search(child.name) or any(
                GPU_TOKEN.search(t) or t in gpu_names for t in tokens
            ):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                out.append(GpuFunction(path, first, child.name, qualname))
            _collect(child, path, f"{qualname}.<locals>.", gpu_names, out)


def _code_tokens(code: types.CodeType) -> set[str]:
    tokens = set(code.co_names) | {code.co_name}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            tokens |= _code_tokens(const)
    return tokens


def _namespace_gpu(namespace: Mapping[str, Any]) -> tuple[list[GpuFunction], list[str]]:
    """GPU functions defined in notebook cells, and GPU modules the namespace holds."""
    modules = sorted(
        name
        for name, value in namespace.items()
        if isinstance(value, types.ModuleType)
        and _is_gpu_module(value.__name__)
        and any(value.__name__.startswith(p) for p in GPU_PACKAGES)
    )
    functions = []
    for name, value in namespace.items():
        if not isinstance(value, types.FunctionType) or name.startswith("_"):
            continue
        code = value.__code__
        if not _CELL_FILE.search(code.co_filename):
            continue
        tokens = _code_tokens(code)
        if any(GPU_TOKEN.search(t) or t in modules for t in tokens):
            functions.append(
                GpuFunction(code.co_filename, code.co_firstlineno, code.co_name, value.__qualname__)
            )
    return functions, modules


def _project_file(path: str, module: str) -> bool:
    """A file of the user's code: not native, not a cell, not the workbench's own modules."""
    if path == "~" or path.startswith("<"):
        return False
    return not (module.startswith("workbench.") and not module.startswith("workbench.demo"))


def gpu_never_ran(
    functions: pd.DataFrame,
    categories: pd.DataFrame,
    *,
    namespace: Mapping[str, Any] | None = None,
    counters: Mapping[str, int] | None = None,
    index: SourceIndex | None = None,
) -> list[Finding]:
    """GPU code defined or imported but never executed in this run (see the module doc)."""
    index = index or SourceIndex()
    file_of = functions["file"].tolist()
    category_of = functions["category"].tolist()
    module_of = functions["module"].tolist()
    ran = set(zip(file_of, functions["line"].tolist(), functions["name"].tolist(), strict=True))
    category_names = categories["category"].tolist()
    names_calls = list(zip(category_names, categories["calls"].tolist(), strict=True))
    gpu_names = {c for c, _ in names_calls if GPU_CATEGORY.search(str(c))}
    gpu_files: set[str] = set()
    project: set[str] = set()
    for file, category, module in zip(file_of, category_of, module_of, strict=True):
        in_gpu_cat = category in gpu_names
        if file == "~" or not (in_gpu_cat or not category.startswith(_NOT_USER)):
            continue
        if in_gpu_cat:
            gpu_files.add(file)
        if _project_file(file, module):
            project.add(file)
    files = sorted(project)
    gpu_functions = [
        fn for path in files for fn in index.gpu_functions(path, gpu_category=path in gpu_files)
    ]
    modules: list[str] = []
    if namespace is not None:
        cell_functions, modules = _namespace_gpu(namespace)
        gpu_functions += cell_functions
    idle = [fn for fn in gpu_functions if (fn.file, fn.line, fn.name) not in ran]
    executed = [fn for fn in gpu_functions if (fn.file, fn.line, fn.name) in ran]
    zero_counters = {k: v for k, v in (counters or {}).items() if GPU_CATEGORY.search(k) and v == 0}
    other_ops = sum(v for k, v in (counters or {}).items() if not GPU_CATEGORY.search(k))
    builtin_calls = [int(n) for c, n in names_calls if c == "GPU"]
    idle_modules = modules if not builtin_calls or sum(builtin_calls) == 0 else []
    if not idle and not idle_modules and not zero_counters:
        return []
    gpu_cats = categories[categories["category"].isin(gpu_names)]
    gpu_calls = int(gpu_cats["calls"].sum()) if len(gpu_cats) else 0
    gpu_pct = float(gpu_cats["pct"].sum()) if len(gpu_cats) else 0.0
    parts = []
    if idle:
        names = ", ".join(fn.where() for fn in sorted(idle, key=lambda f: (f.file, f.line))[:8])
        more = f" and {len(idle) - 8} more" if len(idle) > 8 else ""
        parts.append(
            f"{len(idle)} function(s) that drive the GPU were defined but never called: {names}{more}"
        )
    if executed:
        parts.append(
            f"{len(executed)} GPU-related function(s) did run ({', '.join(sorted({fn.qualname for fn in executed})[:5])})"
        )
    if len(gpu_cats):
        listed = ", ".join(
            f"'{c}' {p:.2f}% of self time, {n:,} calls"
            for c, p, n in zip(
                gpu_cats["category"], gpu_cats["pct"], gpu_cats["calls"], strict=True
            )
        )
        parts.append(f"GPU categories: {listed}")
    if idle_modules:
        parts.append(
            f"the namespace imports {', '.join(idle_modules)}, but no CuPy/GPU-package function ran"
        )
    if zero_counters:
        parts.append(
            f"execution counters show 0 GPU calls ({', '.join(sorted(zero_counters))}) against {other_ops:,} on other backends"
        )
    return [
        Finding(
            "gpu-never-ran",
            "GPU code never executed",
            "; ".join(parts)
            + ". GPU code that does not run adds only cost: put it on the hot path or remove it.",
            {
                "idle": [fn.where() for fn in sorted(idle, key=lambda f: (f.file, f.line))],
                "executed": sorted(fn.where() for fn in executed),
                "gpu_calls": gpu_calls,
                "gpu_pct": gpu_pct,
                "modules": idle_modules,
                "counters": dict(counters or {}),
            },
        )
    ]


def overhead_without_benefit(
    functions: pd.DataFrame, gained_s: float, scale: float = 1.0, noise_s: float = 0.0
) -> list[Finding]:
    """The candidate's new code path costs more than the run gained.

    `functions` is a comparison's functions table (status 'new' marks added code);
    `gained_s` is the baseline's time minus the candidate's (plain runs); `scale` turns
    profiled seconds into plain seconds; `noise_s` is the smallest cost worth reporting.
    """
    added = functions[functions["status"] == "new"]
    cost = float(added["self_b"].sum()) * scale
    if added.empty or cost <= max(noise_s, gained_s, 0.0):
        return []
    top = added.sort_values("self_b", ascending=False, kind="stable").head(5)
    names = ", ".join(
        f"{n} ({s * scale:.3f} s)" for n, s in zip(top["name"], top["self_b"], strict=True)
    )
    verb = f"gained only {gained_s:.3f} s" if gained_s > 0 else f"got {-gained_s:.3f} s slower"
    return [
        Finding(
            "overhead-without-benefit",
            "overhead without benefit",
            f"the candidate added {len(added)} function(s) costing about {cost:.3f} s per run "
            f"({names}), and the run {verb}: every new code path must pay for itself.",
            {"added_s": cost, "gained_s": gained_s, "functions": list(top["name"])},
        )
    ]


def dominant_category(
    categories: pd.DataFrame,
    worked_on: Iterable[str],
    *,
    experiments: int,
    threshold_pct: float = DOMINANT_PCT,
) -> list[Finding]:
    """Categories over `threshold_pct` of self time that no experiment changed.

    Reported only once there are experiments: before that nothing is being worked on yet.
    """
    if experiments == 0:
        return []
    touched = set(worked_on)
    out = []
    for rec in categories.to_dict("records"):
        pct = float(rec["pct"])
        # The share Amdahl's wins use elsewhere in the report: corrected where there is one.
        share = float(rec.get("corrected_pct", pct))
        if share != share:  # NaN: no corrected share
            share = pct
        if share > threshold_pct and rec["category"] not in touched:
            halved = 1.0 / (1.0 - share / 200.0)
            held = f"{pct:.1f}% of self time"
            if "corrected_pct" in rec and abs(share - pct) >= 0.05:
                held = f"{share:.1f}% of the time (corrected; {pct:.1f}% of self time as profiled)"
            out.append(
                Finding(
                    "dominant-category",
                    f"'{rec['category']}' dominates and is not being worked on",
                    f"It holds {held}, but none of the {experiments} experiment(s) "
                    f"changed it beyond the noise; halving it would make the whole run {halved:.2f}x "
                    "faster (Amdahl), more than any change to the rest can give.",
                    {"category": rec["category"], "pct": pct, "halved_speedup": halved},
                )
            )
    return out
