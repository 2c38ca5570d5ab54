"""The notebooks in a real JupyterLab, in a real browser (Debian's chromium via Playwright).

Skipped, with the reason, where chromium or Playwright is missing, unless
WORKBENCH_REQUIRE_BROWSER=1 (set by .ci/run): then a missing browser fails the run.
Screenshots are kept under reports/browser/.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_browser import (
    CHROMIUM,
    LabServer,
    copy_notebook,
    lab,
    move_slider,
    open_and_run,
    save_screenshot,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TUNING = NOTEBOOKS / "tuning.ipynb"
REQUIRED = os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1"


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
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    context.close()


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
    assert charts.count() >= 1
    bars = page.locator(".jp-OutputArea .js-plotly-plot .main-svg .trace.bars")
    assert bars.count() >= 1
    tables = page.locator(".jp-OutputArea-output table")
    assert "Framework" in " ".join(tables.all_text_contents())
    save_screenshot(page, "quickstart", show=charts.first)


PLOT_SHAPES = """() => {
  const plot = document.querySelector('.jp-OutputArea-output .js-plotly-plot');
  return JSON.stringify((plot.layout || {}).shapes || []);
}"""
SHAPE_PATHS = """() => [...document.querySelectorAll(
  '.jp-OutputArea-output .js-plotly-plot .shapelayer path')].map(p => p.getAttribute('d'))"""


@pytest.mark.skipif(not TUNING.exists(), reason="notebooks/tuning.ipynb not written yet")
def test_moving_a_threshold_slider_moves_the_line_and_changes_the_regret(
    server: LabServer, page: Any
) -> None:
    name = copy_notebook(TUNING, server.root)
    open_and_run(page, server, name)
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
