"""The notebooks in a real JupyterLab, in a real browser (Debian's chromium via Playwright).

Two ways in: notebooks run cell by cell in Lab (their outputs are trusted), and notebooks
executed beforehand by a kernel (nbclient, as CI or papermill would), opened as a signed
(trusted) copy and an unsigned (untrusted) copy, and as a copy without plotly's mimetype
(a frontend that cannot draw it). In each: the charts are drawn, the tables keep their
styling, and nothing is wider than the output at 1280 px.

Skipped, with the reason, where chromium or Playwright is missing, unless
WORKBENCH_REQUIRE_BROWSER=1 (set by .ci/run): then a missing browser fails the run.
Screenshots of each notebook's main output are kept under reports/browser/.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from lab_browser import (
    CHROMIUM,
    LabServer,
    copy_notebook,
    lab,
    move_slider,
    open_and_run,
    open_notebook,
    overflowing_outputs,
    save_output_screenshot,
    save_screenshot,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TUNING = NOTEBOOKS / "tuning.ipynb"
REQUIRED = os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1"
PLOTLY = "application/vnd.plotly.v1+json"
WIDTH = 1280  # the width the outputs must fit without scrolling sideways
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden) "
Executed = Callable[[str], tuple[Any, Path]]


def missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (WORKBENCH_REQUIRE_BROWSER=1: the browser test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[LabServer]:
    if importlib.util.find_spec("jupyterlab") is None:
        missing("JupyterLab is not installed: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("lab-root")
    with lab(root, tmp_path_factory.mktemp("lab-state")) as running:
        print(f"jupyter lab on port {running.port}, root {root}, log {running.log}")
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium "
            "chromium-driver; `make test` does it when run as root or with sudo)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Python Playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": WIDTH, "height": 2600})
    tab = context.new_page()
    yield tab
    context.close()


def report_outputs(page: Any) -> Any:
    """The rendered HTML outputs that are workbench reports."""
    return page.locator(PANEL + ".jp-OutputArea-output:has(.wb-report)")


def cell_outputs(page: Any, text: str) -> Any:
    """The output area of the first code cell whose source holds `text`."""
    cell = page.locator(PANEL + ".jp-CodeCell", has=page.locator(".jp-InputArea", has_text=text))
    return cell.first.locator(".jp-OutputArea")


BAR_SIZES = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .wb-report span.bar')].map(b => {
    const s = getComputedStyle(b); return [s.display, b.offsetWidth, b.offsetHeight];
  })"""
STATIC_CHARTS = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .wb-chart img')].map(i => [i.complete, i.naturalWidth])"""


def assert_reads_at_1280(page: Any) -> None:
    """Every output fits its width: nothing scrolls sideways."""
    wide = overflowing_outputs(page)
    assert wide == [], f"outputs wider than the notebook at {WIDTH} px: {wide}"


def assert_styled_tables(page: Any) -> None:
    """The in-table bars are drawn (inline styles, kept by the sanitizer)."""
    bars = page.evaluate(BAR_SIZES)
    assert bars, "no in-table bar in the reports"
    assert all(d == "inline-block" and w > 0 and h == 10 for d, w, h in bars), bars


def test_quickstart_runs_in_jupyterlab_and_draws_the_plotly_chart(
    server: LabServer, page: Any
) -> None:
    name = copy_notebook(NOTEBOOKS / "quickstart.ipynb", server.root)
    open_and_run(page, server, name)
    # The report's chart is drawn by plotly.js in the page: an SVG, not just a script tag.
    # It is an output of plotly's mimetype, which JupyterLab's plotly renderer draws (the
    # output element itself is the plot).
    charts = page.locator(".jp-OutputArea .js-plotly-plot .main-svg")
    charts.first.wait_for(state="attached", timeout=60_000)
    assert charts.count() >= 2  # the category bars, then the deeper pass's icicle
    bars = page.locator(".jp-OutputArea .js-plotly-plot .main-svg .trace.bars")
    assert bars.count() >= 1
    tables = page.locator(".jp-OutputArea-output table")
    assert "Framework" in " ".join(tables.all_text_contents())
    # The explanations are open under the first report, folded under the second.
    folds = page.locator(PANEL + "details[data-once='profile']")
    assert folds.count() == 2
    assert [folds.nth(i).evaluate("d => d.open") for i in range(2)] == [True, False]
    # The line pass showed its progress bar (tqdm.auto: a widget in a kernel).
    assert cell_outputs(page, "--lines 3").locator(".widget-hprogress").count() == 1
    assert_styled_tables(page)
    assert_reads_at_1280(page)
    save_screenshot(page, "quickstart", show=charts.first)
    save_output_screenshot(page, "quickstart-report", report_outputs(page).first)


def test_experiment_shows_the_rounds_progress_and_the_postmortem(
    server: LabServer, page: Any
) -> None:
    name = copy_notebook(NOTEBOOKS / "experiment.ipynb", server.root)
    open_and_run(page, server, name)
    candidate = cell_outputs(page, "--candidate memo")
    assert candidate.locator(".widget-hprogress").count() == 1  # the rounds' bar
    assert "vs baseline 'v1'" in candidate.inner_text()
    postmortem = cell_outputs(page, "--postmortem")
    text = postmortem.inner_text()
    assert "Postmortem written to postmortem.md" in text and "Status:" in text
    assert "Blocked" not in text
    assert_reads_at_1280(page)
    save_output_screenshot(page, "experiment-verdict", candidate)
    save_output_screenshot(page, "experiment-postmortem", postmortem)


def test_own_code_shows_its_modules_as_categories_in_jupyterlab(
    server: LabServer, page: Any
) -> None:
    name = copy_notebook(NOTEBOOKS / "own_code.ipynb", server.root)
    open_and_run(page, server, name)
    report = report_outputs(page).first
    text = report.inner_text()
    assert "user:shapes" in text and "user:search" in text
    assert_reads_at_1280(page)
    save_output_screenshot(page, "own_code-report", report)


def strip_plotly(notebook: Any) -> Any:
    """The notebook as a frontend without plotly's renderer sees it: no plotly mimetype."""
    bare = copy.deepcopy(notebook)
    for cell in bare.cells:
        for out in cell.get("outputs", []):
            out.get("data", {}).pop(PLOTLY, None)
    return bare


def plotly_outputs(notebook: Any) -> int:
    return sum(
        PLOTLY in out.get("data", {}) for cell in notebook.cells for out in cell.get("outputs", [])
    )


@pytest.mark.parametrize(
    "name", ["quickstart.ipynb", "experiment.ipynb", "own_code.ipynb", "kaggle.ipynb"]
)
def test_an_executed_notebook_draws_trusted_and_untrusted(
    server: LabServer, page: Any, executed_notebooks: Executed, name: str
) -> None:
    notebook, _ = executed_notebooks(name)
    stem = Path(name).stem
    charts = plotly_outputs(notebook)
    assert charts >= 1
    for kind in ("trusted", "untrusted", "no-plotly"):
        if kind == "no-plotly" and name != "quickstart.ipynb":
            continue
        copy_name = f"{stem}-{kind}.ipynb"
        path = server.root / copy_name
        shown = strip_plotly(notebook) if kind == "no-plotly" else copy.deepcopy(notebook)
        # Each copy differs in content: a signature is kept per content digest.
        shown.metadata["title"] = copy_name
        nbformat.write(shown, path)
        if kind == "trusted":
            server.sign(path)
        trusted = server.trusted_cells(copy_name)
        assert all(trusted) if kind == "trusted" else not any(trusted), (kind, trusted)
        open_notebook(page, server, copy_name)
        report_outputs(page).first.wait_for(timeout=60_000)
        if kind == "no-plotly":
            # The static SVG images, loaded, one per chart.
            page.wait_for_function(
                "n => document.querySelectorAll("
                "'.jp-NotebookPanel:not(.lm-mod-hidden) .wb-chart img').length >= n",
                arg=charts,
                timeout=60_000,
            )
            page.wait_for_function(
                "() => [...document.querySelectorAll("
                "'.jp-NotebookPanel:not(.lm-mod-hidden) .wb-chart img')]"
                ".every(i => i.complete && i.naturalWidth > 0)",
                timeout=60_000,
            )
            drawn = page.evaluate(STATIC_CHARTS)
            assert len(drawn) == charts and all(ok and w > 0 for ok, w in drawn), drawn
        else:
            # The plotly renderer's node is the output element itself.
            plots = page.locator(PANEL + ".jp-OutputArea .js-plotly-plot .main-svg")
            page.wait_for_function(
                "n => document.querySelectorAll("
                "'.jp-NotebookPanel:not(.lm-mod-hidden) .js-plotly-plot .main-svg').length >= n",
                arg=charts,
                timeout=60_000,
            )
            assert plots.count() >= charts
        assert_styled_tables(page)
        assert_reads_at_1280(page)
        save_output_screenshot(page, f"{stem}-{kind}", report_outputs(page).first)
        if kind != "no-plotly":
            chart = page.locator(PANEL + ".jp-OutputArea .js-plotly-plot").first
            save_output_screenshot(page, f"{stem}-{kind}-chart", chart)
        else:
            save_output_screenshot(
                page, f"{stem}-{kind}-chart", page.locator(PANEL + ".wb-chart").first
            )


PLOT_SHAPES = """() => {
  const plot = document.querySelector('.jp-OutputArea-output .js-plotly-plot');
  return JSON.stringify((plot.layout || {}).shapes || []);
}"""
SHAPE_PATHS = """() => [...document.querySelectorAll(
  '.jp-OutputArea-output .js-plotly-plot .shapelayer path')].map(p => p.getAttribute('d'))"""
# What the tuner shows: the op or function selected, the chart's drawn title, how many
# shapes (shaded regions, threshold lines) are drawn, the status line.
TUNER_SHOWN = """() => {
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
  const select = document.querySelector(panel + '.widget-dropdown select');
  const plot = document.querySelector(panel + '.jp-OutputArea-output .js-plotly-plot');
  const title = plot && plot.querySelector('.gtitle');
  const status = document.querySelector(panel + '.wb-status');
  return {
    selected: select ? select.options[select.selectedIndex].text : null,
    title: title ? title.textContent : null,
    shapes: plot ? plot.querySelectorAll('.shapelayer path').length : 0,
    status: status ? status.innerText : '',
  };
}"""
# The first threshold slider: whether it can be moved, whether its number is shown.
SLIDER_STATE = """() => {
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
  const slider = document.querySelector(panel + '.widget-slider.wb-threshold');
  const handle = slider.querySelector('.noUi-target');
  const readout = slider.querySelector('.widget-readout');
  const state = document.querySelector(panel + '.wb-threshold-state');
  return {
    disabled: handle.hasAttribute('disabled'),
    readout: readout ? getComputedStyle(readout).display !== 'none' : false,
    state: state ? state.innerText : '',
  };
}"""


def tuner_shown(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(TUNER_SHOWN))


def wait_for_tuner(page: Any, test: str, arg: Any = None) -> None:
    """Wait until `test` (a JS function of TUNER_SHOWN's answer and `arg`) holds."""
    page.wait_for_function(
        f"arg => {{ const shown = ({TUNER_SHOWN})(); return ({test})(shown, arg); }}",
        arg=arg,
        timeout=120_000,
    )


@pytest.mark.skipif(not TUNING.exists(), reason="notebooks/tuning.ipynb not written yet")
def test_the_tuner_in_jupyterlab_slider_benchmark_never_mode_and_reload(
    server: LabServer, page: Any
) -> None:
    name = copy_notebook(TUNING, server.root)
    open_and_run(page, server, name)
    assert (
        cell_outputs(page, "progress.steps('calibrating')").locator(".widget-hprogress").count()
        == 1
    )
    regret = page.locator(".wb-regret").first
    regret.wait_for(timeout=60_000)
    page.locator(".widget-slider.wb-threshold .noUi-handle").first.wait_for(timeout=60_000)
    page.locator(".jp-OutputArea-output .js-plotly-plot .shapelayer path").first.wait_for(
        state="attached", timeout=60_000
    )
    before_text = regret.inner_text()
    before_shapes = page.evaluate(PLOT_SHAPES)
    before_paths = page.evaluate(SHAPE_PATHS)
    assert "geo-mean regret" in before_text
    save_screenshot(page, "tuning-before", show=regret)

    # 1. A slider moved with the keyboard: the line, the shading and the regret follow.
    key = move_slider(page, "wb-threshold", presses=5)
    print(f"pressed {key} 5 times on the first .wb-threshold slider")
    # The kernel recomputes and sends the new figure back: wait for the readout to change.
    page.wait_for_function(
        "before => document.querySelector('.wb-regret').innerText !== before",
        arg=before_text,
        timeout=60_000,
    )
    page.wait_for_function(
        "before => JSON.stringify([...document.querySelectorAll("
        "'.jp-OutputArea-output .js-plotly-plot .shapelayer path')]"
        ".map(p => p.getAttribute('d'))) !== before",
        arg=json.dumps(before_paths),
        timeout=60_000,
    )
    after_text = regret.inner_text()
    assert "geo-mean regret" in after_text and after_text != before_text
    assert page.evaluate(PLOT_SHAPES) != before_shapes
    assert page.evaluate(SHAPE_PATHS) != before_paths
    save_screenshot(page, "tuning-after", show=regret)

    # 2. Run benchmark on the function shown (the demo's outline_all, swept in the notebook):
    # the chart is redrawn at once for it, the title naming it, with its shading.
    shown = tuner_shown(page)
    function = shown["selected"]
    assert function.endswith("outline_all") and shown["title"].startswith(function)
    budget = page.locator(PANEL + ".widget-text input[type='number']").first
    budget.fill("2")
    budget.press("Enter")
    page.locator(PANEL + "button", has_text="Run benchmark").first.click()
    wait_for_tuner(page, "s => s.status.startsWith('Measured:')")
    wait_for_tuner(page, "(s, f) => s.title && s.title.startsWith(f) && s.shapes >= 2", function)
    shown = tuner_shown(page)
    assert shown["selected"] == function, shown
    assert "CPU only" in shown["title"] and "-1" not in shown["title"], shown
    save_screenshot(page, "tuning-after-benchmark", show=page.locator(PANEL + ".wb-status"))

    # 3. The pure-Python threshold set to "never": its slider is off and says so in words.
    mode = page.locator(PANEL + ".widget-dropdown select").nth(3)
    assert mode.evaluate("s => [...s.options].map(o => o.text)")[0] == "never"
    mode.select_option(label="never")
    page.wait_for_function(f"() => ({SLIDER_STATE})().disabled", timeout=60_000)
    slider = page.evaluate(SLIDER_STATE)
    assert slider["disabled"] and not slider["readout"], slider
    assert slider["state"].startswith("never:"), slider
    save_screenshot(page, "tuning-never", show=page.locator(PANEL + ".wb-threshold-state").first)

    # 4. Another op picked, then the page reloaded on the running kernel: the widgets come
    # back from the kernel's state, showing the op picked last (not the group shown when
    # the tuner was displayed), with its shading.
    page.locator(PANEL + ".widget-dropdown select").first.select_option(label="sum")
    wait_for_tuner(page, "s => s.title && s.title.startsWith('sum') && s.shapes >= 1")
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    open_notebook(page, server, name)
    wait_for_tuner(page, "s => s.selected !== null && s.title !== null")
    page.wait_for_timeout(2000)  # let every view draw from the state it was given
    shown = tuner_shown(page)
    assert shown["selected"] == "sum", shown
    assert shown["title"].startswith("sum") and "CPU only" in shown["title"], shown
    assert shown["shapes"] >= 1, shown
    save_screenshot(page, "tuning-reloaded", show=page.locator(PANEL + ".wb-regret").first)
