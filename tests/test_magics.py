"""%%optimize and %optimize through a real InteractiveShell, display outputs captured."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench import Report

CELL_WORK = """\
def leaf(x):
    return x + 1

def work(n):
    return sum(leaf(i) for i in range(n))
"""


def run(shell: InteractiveShell, source: str) -> tuple[object, list[dict[str, str]], str]:
    with capture_output() as cap:
        result = shell.run_cell(source)
    return result, [out.data for out in cap.outputs], cap.stdout


def test_cell_magic_shows_the_tables_then_the_chart_as_plotly_json_then_the_rest(
    shell: InteractiveShell,
) -> None:
    shell.run_cell(CELL_WORK)
    result, outputs, stdout = run(shell, "%%optimize\nwork(2000)\n")
    assert result.success  # type: ignore[attr-defined]
    tables, chart, rest = outputs
    assert {"text/html", "text/markdown", "text/plain"} <= set(tables)
    assert "<table " in tables["text/html"] and "| Category |" in tables["text/markdown"]
    assert "Plotly.newPlot" not in tables["text/html"] + rest["text/html"]  # no plotly.js
    figure = chart["application/vnd.plotly.v1+json"]
    assert [trace["name"] for trace in figure["data"]] == ["self", "inclusive"]
    assert figure["data"][0]["y"][0] == "user:<cell>"  # the biggest category on top
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"
    # Legend swatches differ: self is filled with the category's colour, inclusive outlined.
    self_trace, inclusive = figure["data"]
    assert self_trace["marker"]["color"][0] != inclusive["marker"]["color"]
    assert inclusive["marker"]["line"]["width"] > 0
    assert "Potential wins" in rest["text/html"] and "Potential wins" not in tables["text/html"]
    # nothing goes to a pager or stdout but the cell's value, its Out (as with %time)
    assert stdout == f"Out[{shell.execution_count - 1}]: {result.result!r}\n"  # type: ignore[attr-defined]


def test_chart_inline_is_one_self_contained_bundle(shell: InteractiveShell) -> None:
    shell.run_cell(CELL_WORK)
    _, outputs, _ = run(shell, "%%optimize --chart inline\nwork(2000)\n")
    (bundle,) = outputs
    assert {"text/html", "text/markdown", "text/plain"} == set(bundle)
    assert "<table " in bundle["text/html"] and "Plotly.newPlot" in bundle["text/html"]
    assert len(bundle["text/html"]) > 3_000_000  # plotly.js is in it


def test_output_variable_holds_the_report_whose_self_times_sum_to_the_total(
    shell: InteractiveShell,
) -> None:
    shell.run_cell(CELL_WORK)
    run(shell, "%%optimize -o r -c Leaf=func:^leaf$\nwork(3000)\n")
    report = shell.user_ns["r"]
    assert isinstance(report, Report)
    assert list(report.categories.columns)[:7] == [
        "category",
        "self_s",
        "inclusive_s",
        "pct",
        "calls",
        "functions",
        "est_overhead_s",
    ]
    assert report.categories["self_s"].sum() == pytest.approx(report.profiled_s, rel=0.01)
    cats = report.categories.set_index("category")
    assert cats.loc["Leaf", "calls"] == 3000
    assert cats.loc["Leaf", "rule"] == "Leaf = function '^leaf$' (-c)"


def test_functions_defined_in_cells_are_user_code(shell: InteractiveShell) -> None:
    shell.run_cell(CELL_WORK)
    run(shell, "%%optimize -q -o r\nwork(10)\n")
    functions = shell.user_ns["r"].functions.set_index("name")
    assert functions.loc["leaf", "category"] == "user:<cell>"
    assert functions.loc["leaf", "ncalls"] == 10
    assert "notebook cell" in functions.loc["leaf", "rule"]


def test_path_rule_from_the_magic_line_claims_a_module_file(
    shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mydsl.py").write_text("def rotate(g):\n    return g[::-1]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    shell.run_cell("import mydsl")
    run(shell, "%%optimize -q -o r -c DSL='*/mydsl.py'\nfor _ in range(7): mydsl.rotate([1, 2])\n")
    cats = shell.user_ns["r"].categories.set_index("category")
    assert cats.loc["DSL", "calls"] == 7
    assert cats.loc["DSL", "functions"] == 1
    sys.modules.pop("mydsl", None)


def test_line_magic_profiles_the_statement_as_typed(shell: InteractiveShell) -> None:
    shell.run_cell(CELL_WORK)
    result, outputs, _ = run(shell, "%optimize -q -o r  text = 'a  b'; work(5)")
    assert result.success  # type: ignore[attr-defined]
    assert outputs == []  # -q
    assert shell.user_ns["text"] == "a  b"  # spacing inside the literal kept
    assert shell.user_ns["r"].functions.set_index("name").loc["leaf", "ncalls"] == 5


def test_code_is_not_variable_expanded(shell: InteractiveShell) -> None:
    shell.user_ns["x"] = "EXPANDED"
    run(shell, "%optimize -q y = '{x} $x'")
    assert shell.user_ns["y"] == "{x} $x"


def test_cell_runs_once_and_its_last_expression_is_the_result(shell: InteractiveShell) -> None:
    shell.run_cell("runs = []")
    run(shell, "%%optimize -q -o r\nruns.append(1)\n6 * 7\n")
    assert shell.user_ns["runs"] == [1]
    assert shell.user_ns["r"].result == 42


def test_overhead_option_runs_twice_and_reports_a_measured_overhead(
    shell: InteractiveShell,
) -> None:
    shell.run_cell("runs = []")
    _, outputs, _ = run(shell, "%%optimize --overhead\nruns.append(1)\nsum(range(10000))\n")
    assert shell.user_ns["runs"] == [1, 1]
    text = outputs[0]["text/plain"]
    # A plain run no faster than the profiled one (a busy machine) is said as noise.
    assert "(measured: plain run" in text or "No inflation measurable: the plain run (" in text


def test_exception_shows_an_incomplete_report_and_is_reraised(shell: InteractiveShell) -> None:
    shell.run_cell(CELL_WORK)
    result, outputs, _ = run(shell, "%%optimize -o r\nwork(10)\nraise ValueError('boom')\n")
    error = result.error_in_exec  # type: ignore[attr-defined]
    assert isinstance(error, ValueError) and str(error) == "boom"
    assert len(outputs) == 3  # text, chart, text
    assert "INCOMPLETE: the code stopped with ValueError: boom" in outputs[0]["text/plain"]
    report = shell.user_ns["r"]
    assert not report.complete
    assert report.functions.set_index("name").loc["leaf", "ncalls"] == 10
    assert sys.getprofile() is None


def test_keyboard_interrupt_shows_the_partial_report(shell: InteractiveShell) -> None:
    shell.run_cell(CELL_WORK)
    result, outputs, _ = run(shell, "%%optimize -o r\nwork(10)\nraise KeyboardInterrupt\n")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)  # type: ignore[attr-defined]
    assert "INCOMPLETE: the code stopped with KeyboardInterrupt" in outputs[0]["text/plain"]
    assert sys.getprofile() is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--bogus", "unrecognized arguments: --bogus"),
        ("-c nolabel", "has no '='"),
        ("-c X=func:(", "not a valid regex"),
        ("--rules /no/such/file.toml", "cannot read rules file"),
        ("-o 1abc", "-o needs a variable name"),
        ("--top x", "invalid int value"),
    ],
)
def test_bad_options_are_one_line_usage_errors_and_the_cell_does_not_run(
    shell: InteractiveShell, line: str, message: str
) -> None:
    shell.run_cell("runs = []")
    with capture_output() as cap:
        result = shell.run_cell(f"%%optimize {line}\nruns.append(1)\n")
    assert not result.success
    assert type(result.error_in_exec).__name__ == "UsageError"
    assert message in str(result.error_in_exec)
    assert "Traceback" not in cap.stderr + cap.stdout
    assert shell.user_ns["runs"] == []


def test_malformed_rules_file_is_a_usage_error(shell: InteractiveShell, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[categories\n")
    result, _, _ = run(shell, f"%%optimize --rules {bad}\nx = 1\n")
    assert "not valid TOML" in str(result.error_in_exec)  # type: ignore[attr-defined]


def test_rules_file_option_reads_a_toml_table(shell: InteractiveShell, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[categories]\nLeaf = "func:^leaf$"\n')
    shell.run_cell(CELL_WORK)
    run(shell, f"%%optimize -q -o r --rules {rules}\nwork(4)\n")
    assert shell.user_ns["r"].categories.set_index("category").loc["Leaf", "calls"] == 4


def test_pyproject_categories_of_the_working_folder_apply(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    (isolated_cwd / "pyproject.toml").write_text(
        '[tool.workbench.categories]\nLeaf = "func:^leaf$"\n'
    )
    shell.run_cell(CELL_WORK)
    run(shell, "%%optimize -q -o r\nwork(4)\n")
    assert "Leaf" in set(shell.user_ns["r"].categories["category"])
    run(shell, "%%optimize -q -o r2 --no-pyproject\nwork(4)\n")
    assert "Leaf" not in set(shell.user_ns["r2"].categories["category"])


def test_empty_cell_reports_nothing_measured_without_nan(shell: InteractiveShell) -> None:
    result, outputs, _ = run(shell, "%%optimize -o r\n\n")
    assert result.success  # type: ignore[attr-defined]
    assert "nothing measurable ran" in outputs[0]["text/plain"]
    for text in outputs[0].values():
        assert "NaN" not in text
    assert shell.user_ns["r"].empty


def test_code_on_the_cell_magic_line_is_refused(shell: InteractiveShell) -> None:
    result, _, _ = run(shell, "%%optimize x = 1\ny = 2\n")
    assert "put the code in the cell" in str(result.error_in_exec)  # type: ignore[attr-defined]
    assert "y" not in shell.user_ns


def test_ipython_syntax_inside_the_cell_is_transformed(shell: InteractiveShell) -> None:
    result, _, _ = run(shell, "%%optimize -q -o r\nvalue = %time 1 + 1\n")
    assert result.success  # type: ignore[attr-defined]
    assert shell.user_ns["value"] == 2


def test_help_shows_the_options(shell: InteractiveShell) -> None:
    doc = shell.find_line_magic("optimize").__doc__ or ""
    for option in ("-o NAME", "--category", "--rules FILE", "--top N", "--overhead", "-q"):
        assert option in doc


def test_a_cell_with_a_body_and_a_last_expression_keeps_its_inclusive_time(
    shell: InteractiveShell,
) -> None:
    # The body and the last expression were two code objects both named
    # (cell, 1, '<module>'): pstats kept one, and the cell's inclusive time read 0 for
    # `out = run(...)` then `out` (arc-dsl's candidate cell: Incl. B 0.000).
    import workloads

    shell.user_ns["workloads"] = workloads
    run(shell, "%%optimize -q -o r\nx = 1\nout = workloads.mid(20000)\nout\n")
    report = shell.user_ns["r"]
    cats = report.categories.set_index("category")
    assert cats.loc["user:<cell>", "inclusive_s"] >= cats.loc["user:workloads", "inclusive_s"]
    cell = report.functions[report.functions["category"] == "user:<cell>"]
    assert sorted(cell["line"]) == [1, 3]  # the body from line 1, the expression at its line
    result, _, _ = run(shell, "%%optimize -q\nx = 1\n\n1 / 0\n")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    tb = result.error_in_exec.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_lineno == 3  # the line it is on
