"""The pattern scanner reads source with ast; recommendations use live sizes and profiles."""

from __future__ import annotations

import builtins
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench.demo.dsl
from workbench.errors import RouteError
from workbench.profiling.run import Options, compile_source, profile_steps
from workbench.route import Complexity, Router, seed_profile
from workbench.route.recommend import COLUMNS, recommendations, safe_value
from workbench.route.scanner import scan_file, scan_module, scan_source

CELL = """\
import numpy as np
from functools import reduce

a = np.random.rand(60, 60)
b = np.random.rand(60, 60)
v = [float(i) for i in range(500)]
w = list(range(500))

def matmul_loops(x, y, n):
    out = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            for k in range(n):
                out[i][j] += x[i][k] * y[k][j]
    return out

def dot(xs, ys):
    total = 0.0
    for i in range(len(xs)):
        total += xs[i] * ys[i]
    return total

def fold(xs):
    acc = 0
    for x in xs:
        acc += x
    return acc

def scale(xs):
    out = []
    for x in xs:
        out.append(x * 2.0)
    return out

c = a @ b
d = np.dot(a, b)
e = a + b * 2
s = a.sum()
t = sum(v)
m = max(v)
p = sum(x * y for x, y in zip(v, w))
q = [x + y for x, y in zip(v, w)]
r = list(map(lambda x: x * 3, v))
z = reduce(lambda s, x: s + x, v)
f = np.einsum("ij,jk->ik", a, b)
g = np.convolve(v, w)
i = 0
i += 1
label = "x" + "y"
big = max(3, 4)
for _ in range(3):
    fold(v)
    dot(v, w)
    scale(v)
"""

EXPECTED = {  # line: (pattern start, complexity, op, operands)
    11: ("nested loops (3 deep)", "High", "matmul", ("x", "y")),
    19: ("loop accumulating products", "Medium", "vdot", ("xs", "ys")),
    25: ("loop folding into acc", "Medium", "sum", ("xs",)),
    31: ("loop doing elementwise arithmetic", "Low", "multiply", ("xs",)),
    35: ("a @ b", "High", "matmul", ("a", "b")),
    36: ("np.dot()", "High", "dot", ("a", "b")),
    37: ("elementwise * + on arrays", "Low", "add", ("a", "b")),
    38: ("a.sum()", "Medium", "sum", ("a",)),
    39: ("sum()", "Medium", "sum", ("v",)),
    40: ("max()", "Medium", "max", ("v",)),
    41: ("sum() of products (dot product)", "Medium", "vdot", ("v", "w")),
    42: ("comprehension with arithmetic", "Low", "add", ("v", "w")),
    43: ("map()", "Low", "multiply", ("v",)),
    44: ("reduce()", "Medium", "sum", ("v",)),
    45: ("np.einsum()", "High", "einsum", ("a", "b")),
    46: ("np.convolve()", "High", "convolve", ("v", "w")),
}


def test_scan_source_finds_each_pattern_with_its_complexity_and_nothing_else() -> None:
    findings = scan_source(CELL)
    found = {f.line: (f.pattern, str(f.complexity), f.op, f.operands) for f in findings}
    assert set(found) == set(EXPECTED)  # no `i += 1`, string +, max(3, 4), user `dot(...)`
    for line, (pattern, complexity, op, operands) in EXPECTED.items():
        assert found[line][0].startswith(pattern), (line, found[line])
        assert found[line][1:] == (complexity, op, operands), line
    by_line = {f.line: f for f in findings}
    assert by_line[19].function == "dot" and by_line[19].function_lines == (17,)
    assert by_line[35].function is None and by_line[35].code == "c = a @ b"
    assert dict(by_line[25].bound) == {"xs": ("v",)}


def test_scanner_reads_ast_not_text() -> None:
    source = 'note = "a @ b and np.dot(x, y)"\n# m = a @ b\nx = 1\n'
    assert scan_source(source) == []
    decorated = "import numpy as np\n@staticmethod\ndef f(a, b):\n    return a @ b\n"
    (finding,) = scan_source(decorated)
    assert finding.function_lines == (2, 3) and finding.complexity is Complexity.HIGH


def test_magics_are_skipped_and_bad_source_is_a_clear_error(tmp_path: Path) -> None:
    assert [f.line for f in scan_source("%time x = 1\nimport numpy as np\ny = np.dot(x, x)\n")] == [
        3
    ]
    with pytest.raises(RouteError, match="line 1"):
        scan_source("def (:\n")
    with pytest.raises(RouteError, match="cannot read"):
        scan_file(tmp_path / "missing.py")


def test_scan_file_and_scan_module_read_real_sources(tmp_path: Path) -> None:
    path = tmp_path / "work.py"
    path.write_text(CELL)
    assert [f.line for f in scan_file(path)] == sorted(EXPECTED)
    findings = scan_module(workbench.demo.dsl)
    lines = Path(workbench.demo.dsl.__file__).read_text().splitlines()
    assert findings and all(lines[f.line - 1].strip() == f.code for f in findings)


def test_safe_value_never_calls_properties_or_getattr() -> None:
    calls = []

    class Sneaky:
        def __init__(self) -> None:
            self.data = np.ones(7)

        @property
        def expensive(self) -> np.ndarray:
            calls.append(1)
            return np.ones(3)

        def __getattr__(self, name: str) -> object:
            calls.append(name)
            return np.ones(5)

    ns = {"obj": Sneaky(), "np": np}
    assert isinstance(safe_value("obj.data", ns), np.ndarray)
    assert safe_value("obj.expensive", ns) is not ns["obj"].__dict__.get("expensive")
    from workbench.route.recommend import _MISSING

    assert safe_value("obj.expensive", ns) is _MISSING
    assert safe_value("obj.missing", ns) is _MISSING
    assert safe_value("obj.data.T", ns) is _MISSING  # a getset descriptor: not read
    assert safe_value("f(x)", ns) is _MISSING and safe_value("a[0]", {"a": [1]}) is _MISSING
    assert calls == []


def _profiled(source: str, filename: str) -> tuple[dict[str, object], pd.DataFrame]:
    namespace: dict[str, object] = {"__builtins__": builtins}
    report, error = profile_steps(compile_source(source, namespace, filename), Options())
    assert error is None
    return namespace, report.functions


def test_recommendations_use_live_sizes_and_profile_call_counts() -> None:
    namespace, functions = _profiled(CELL, "<cell-7>")
    frame = recommendations(CELL, "<cell-7>", namespace, functions, Router(gpu=False))
    assert list(frame.columns) == COLUMNS
    rows = frame.set_index("line")
    assert (
        rows.loc[35, "size"] == 3600
        and rows.loc[35, "residency"] == "host"
        and rows.loc[35, "runs"] == 1
    )
    assert rows.loc[19, "runs"] == 3 and rows.loc[19, "size"] == 500  # xs, ys bound to v, w
    assert "sizes from the calls in this cell: xs = v; ys = w" in rows.loc[19, "reason"]
    assert rows.loc[11, "runs"] == 0 and "never ran" in rows.loc[11, "reason"]
    assert "size unknown" in rows.loc[11, "reason"]  # matmul_loops was never called
    assert rows.loc[39, "residency"] == "host" and "lists" in rows.loc[39, "reason"]
    assert set(frame["backend"]) <= {"pure Python", "NumPy", "CuPy"}
    assert all(frame["reason"].str.len() > 20)
    assert rows.loc[35, "seed_table"] == "SIMD"  # High, 3,600 elements: between 1,000 and 10,000


def test_no_patterns_give_an_empty_frame_with_the_columns() -> None:
    frame = recommendations("x = 1\n", "<cell-8>", {}, None)
    assert frame.empty and list(frame.columns) == COLUMNS


def test_recommendations_after_optimize_in_a_real_shell(shell: InteractiveShell) -> None:
    shell.run_cell("import numpy as np\nimport json\n")
    cell = "a = np.ones((80, 80))\ndef f(x):\n    return x @ x\nfor _ in range(4):\n    f(a)\n"
    with capture_output():
        result = shell.run_cell(f"%%optimize -q -o rep\n{cell}")
    assert result.success  # type: ignore[attr-defined]
    report = shell.user_ns["rep"]
    functions = report.functions
    filename = functions.loc[functions["name"] == "f", "file"].iloc[0]
    frame = recommendations(cell, filename, shell.user_ns, functions, Router(gpu=False))
    (row,) = frame.itertuples()
    assert row.line == 3 and row.runs == 4 and row.size == 6400 and row.operands == "x"
    assert json.dumps(frame.to_dict(orient="records"), default=str)


def test_recommendations_use_the_users_calibrated_profile_when_there_is_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    from workbench.calibration.fit import fit
    from workbench.route.machine_profile import ProfileMismatchWarning
    from workbench.route.recommend import router_for

    assert router_for().profile.name == "seed"  # nothing calibrated here: the seed's
    sys.path.insert(0, str(Path(__file__).parent))
    from test_calibrate import synthetic

    path = fit(synthetic()).profile(name="mine").save(tmp_path / "machine-profile.json")
    monkeypatch.setenv("WORKBENCH_PROFILE", str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileMismatchWarning)  # cpu 'test' is not here
        router = router_for()
        from workbench.experiment.session import Session

        session_router = Session().router()  # what %%optimize's recommendations use
    assert router.profile.name == "mine" and router.policy == "calibrated"
    assert session_router.profile.name == "mine"
    assert router_for(seed_profile()).profile.name == "seed"
