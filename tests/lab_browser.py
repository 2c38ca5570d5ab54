"""Drive a real JupyterLab in a real browser: a server on loopback, Debian's chromium
through Python Playwright, and helpers to run a notebook and move its widgets.

Used by tests/test_browser.py. Nothing is downloaded: the browser is the system's
(/usr/bin/chromium, installed by `make test` through apt when missing).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 180.0
#: Where screenshots go: kept after the test run (reports/ is not committed).
SCREENSHOTS = REPO / "reports" / "browser"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LabServer:
    """A running `jupyter lab` serving `root` on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    root: Path
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, name: str) -> str:
        """The notebook alone in a fresh workspace (`reset`: no tabs from earlier pages)."""
        return f"{self.base}/lab/tree/{name}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET", body: Any = None, timeout: float = 5.0) -> Any:
        """Call the server's REST API with the token; the decoded JSON (None if empty)."""
        request = urllib.request.Request(
            f"{self.base}/api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    @property
    def data_dir(self) -> Path:
        """The server's Jupyter data folder: its notebook secret and signatures."""
        return self.log.parent / "data"

    def sign(self, path: Path) -> None:
        """Trust the notebook at `path` for this server, as `jupyter trust` would."""
        import nbformat
        from nbformat.sign import NotebookNotary

        notebook = nbformat.read(path, as_version=4)
        NotebookNotary(data_dir=str(self.data_dir)).sign(notebook)

    def trusted_cells(self, name: str) -> list[bool]:
        """What the server says of each code cell of notebook `name`: trusted or not."""
        model = self.api(f"contents/{name}?content=1", timeout=30)
        cells = model["content"]["cells"]
        return [bool(c["metadata"].get("trusted")) for c in cells if c["cell_type"] == "code"]


def _lab_settings(folder: Path) -> None:
    """User settings for the test server: every cell stays in the DOM (no windowing), so
    the test sees all prompts and outputs without scrolling; no news toast over the page."""
    settings = {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for plugin, values in settings.items():
        path = folder / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def start_lab(root: Path, state: Path, timeout: float = START_TIMEOUT_S) -> LabServer:
    """Start `jupyter lab` on a free loopback port with a random token, serving `root`.

    Config, runtime files, settings and workspaces live under `state`, so neither the
    user's Jupyter setup nor an earlier run changes what the test sees. Returns once
    /api/status answers; raises RuntimeError with the server log if it exits or is slow.
    """
    for sub in ("config", "runtime", "settings", "workspaces", "data"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    _lab_settings(state / "settings")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTER_DATA_DIR": str(state / "data"),  # the notary's secret: see LabServer.sign
        "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
        "JUPYTER_PLATFORM_DIRS": "1",
        # Kernels import the workbench of this checkout, whatever else is installed.
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    }
    env.pop("PLOTLY_RENDERER", None)  # the kernel picks plotly's notebook renderer itself
    port = free_port()
    token = secrets.token_hex(16)
    log = state / "jupyter-lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() can end it all
        )
    server = LabServer(process, port, token, root, log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {process.returncode}:\n{server.log_tail()}"
            )
        try:
            server.api("status", timeout=2.0)
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            stop_lab(server)
            raise RuntimeError(
                f"jupyter lab did not answer within {timeout:g} s:\n{server.log_tail()}"
            )
        time.sleep(0.2)


def stop_lab(server: LabServer, timeout: float = 30.0) -> None:
    """Shut the kernels and the server down through the API, then make sure the process
    group is gone (SIGTERM, then SIGKILL). Kernels run in their own sessions, so they
    are shut down by id first; none is left behind."""
    if server.process.poll() is None:
        try:
            for kernel in server.api("kernels"):
                server.api(f"kernels/{kernel['id']}", method="DELETE", timeout=timeout)
            server.api("shutdown", method="POST")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            print(f"jupyter lab API shutdown failed ({exc}); terminating it", file=sys.stderr)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            server.process.wait(timeout=timeout)
            break
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, sig)
    server.process.wait(timeout=timeout)
    # Stragglers in the server's process group (the server itself has exited).
    with suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)


@contextmanager
def lab(root: Path, state: Path) -> Iterator[LabServer]:
    """`start_lab` ... `stop_lab`, whatever happens in between."""
    server = start_lab(root, state)
    try:
        yield server
    finally:
        stop_lab(server)


def copy_notebook(source: Path, root: Path) -> str:
    """Copy a notebook into the server's root; its name there."""
    shutil.copy2(source, root / source.name)
    return source.name


# ---- in the page ---------------------------------------------------------------------

IDLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"
ERRORS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
# "done" when every code cell of the open notebook shows an execution count ("[3]:");
# "stopped" when none is running ("[*]:") but an error output stopped the run.
RUN_STATE = """() => {
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
  const prompts = [...document.querySelectorAll(panel + '.jp-CodeCell .jp-InputArea-prompt')]
    .map(p => p.textContent);
  if (prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t))) return 'done';
  const errors = [...document.querySelectorAll(panel + ERRORS)]
    .filter(e => /Traceback|Error/.test(e.textContent));
  if (errors.length > 0 && !prompts.some(t => t.includes('*'))) return 'stopped';
  return '';
}""".replace("ERRORS", json.dumps(ERRORS))


def open_notebook(page: Any, server: LabServer, name: str, timeout: float = RUN_TIMEOUT_S) -> None:
    """Open notebook `name` in JupyterLab and wait until its kernel is idle and its tab is
    the current one (its saved outputs are rendered by then)."""
    ms = timeout * 1000
    # A kernel session started beforehand: Lab connects to it instead of asking, in a
    # dialog, which kernel to start (it asks when the page loads before the kernel specs).
    server.api(
        "sessions",
        method="POST",
        body={"path": name, "name": name, "type": "notebook", "kernel": {"name": "python3"}},
        timeout=timeout,
    )
    page.goto(server.notebook_url(name), timeout=ms)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=ms)
    accept_kernel_dialog(page)
    page.wait_for_selector(IDLE, timeout=ms)  # the kernel has started
    current_tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    current_tab.filter(has_text=name).wait_for(timeout=ms)


def open_and_run(page: Any, server: LabServer, name: str, timeout: float = RUN_TIMEOUT_S) -> None:
    """Open notebook `name` in JupyterLab, wait for its kernel, run every cell through the
    Run menu and wait until each code cell has an execution count and the kernel is idle.
    Raises AssertionError naming the cell if an error output appears."""
    ms = timeout * 1000
    open_notebook(page, server, name, timeout)
    page.locator(".jp-NotebookPanel .jp-Cell").first.click()  # the notebook has the focus
    run_menu(page, "Run All Cells")
    try:
        state = wait_for_run(page, ms)
    except Exception:
        save_screenshot(page, f"failed-{Path(name).stem}")
        raise
    errors = page.locator(ERRORS).all_text_contents()
    tracebacks = [t for t in errors if "Traceback" in t or "Error" in t]
    if state != "done" or tracebacks:
        save_screenshot(page, f"failed-{Path(name).stem}")
        raise AssertionError(f"{name} stopped with an error in the browser:\n{tracebacks}")


def accept_kernel_dialog(page: Any, wait_ms: float = 3000) -> None:
    """Lab asks which kernel to start when the page loads before its kernel specs (seen on
    a loaded machine despite the session started beforehand): take the one it offers."""
    button = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    with suppress(Exception):
        button.wait_for(state="visible", timeout=wait_ms)
        button.click()


def run_menu(page: Any, item: str) -> None:
    """Click Run > `item` in the menu bar."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


# True when the kernel is idle, no cell runs, and some code cell never ran: the run stopped
# without an error (seen once on a loaded machine: the queued cells were never sent).
STALLED = """() => {
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
  const idle = document.querySelector(panel + ".jp-Notebook-ExecutionIndicator[data-status='idle']");
  const prompts = [...document.querySelectorAll(panel + '.jp-CodeCell .jp-InputArea-prompt')]
    .map(p => p.textContent);
  return Boolean(idle) && !prompts.some(t => t.includes('*')) && prompts.some(t => /\\[ \\]/.test(t));
}"""


def wait_for_run(page: Any, ms: float) -> str:
    """Wait until the run is done or stopped by an error; a run that stalls with cells never
    sent is resumed once from the first of them. Returns RUN_STATE's answer."""
    deadline = time.monotonic() + ms / 1000
    resumed = False
    while True:
        state = page.evaluate(RUN_STATE)
        if state:
            page.wait_for_selector(IDLE, timeout=ms)
            return str(state)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the notebook did not finish within {ms / 1000:g} s")
        if not resumed and page.evaluate(STALLED):
            page.wait_for_timeout(5000)  # give a slow kernel time to pick the queue up
            if page.evaluate(STALLED) and not page.evaluate(RUN_STATE):
                first = page.locator(
                    ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell",
                    has=page.locator(".jp-InputArea-prompt", has_text="[ ]"),
                ).first
                first.locator(".jp-InputArea-prompt").click()
                run_menu(page, "Run Selected Cell and All Below")
                resumed = True
        page.wait_for_timeout(500)


def move_slider(page: Any, css_class: str, presses: int = 3) -> str:
    """Move the first ipywidgets slider carrying `css_class` (set with `add_class`) with
    the keyboard, as a user would: focus its handle and press an arrow key `presses` times,
    right unless the handle is already at its maximum. Returns the key pressed."""
    handle = page.locator(f".widget-slider.{css_class} .noUi-handle").first
    handle.scroll_into_view_if_needed()
    now = float(handle.get_attribute("aria-valuenow") or "nan")
    top = float(handle.get_attribute("aria-valuemax") or "nan")
    key = "ArrowLeft" if now >= top else "ArrowRight"
    handle.focus()
    for _ in range(presses):
        handle.press(key)
    return key


# Outputs wider than the room they have (they would scroll sideways), as "cell N: W > C px".
OVERFLOWING = """() => {
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
  const cells = [...document.querySelectorAll(panel + '.jp-Cell')];
  const wide = [];
  cells.forEach((cell, index) => {
    cell.querySelectorAll('.jp-OutputArea-output').forEach(out => {
      if (out.scrollWidth > out.clientWidth + 1)
        wide.push(`cell ${index}: ${out.scrollWidth} > ${out.clientWidth} px`);
    });
  });
  const scroller = document.querySelector(panel + '.jp-WindowedPanel-outer');
  if (scroller && scroller.scrollWidth > scroller.clientWidth + 1)
    wide.push(`the notebook: ${scroller.scrollWidth} > ${scroller.clientWidth} px`);
  return wide;
}"""


def overflowing_outputs(page: Any) -> list[str]:
    """The outputs of the open notebook that do not fit their width (would scroll)."""
    return list(page.evaluate(OVERFLOWING))


def save_output_screenshot(page: Any, name: str, output: Any, folder: Path = SCREENSHOTS) -> Path:
    """A PNG under `folder` of the notebook panel scrolled so that the locator `output`
    starts at its top (the output, and what follows it as far as the panel reaches); its
    path is printed."""
    output.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)  # let plotly redraw what scrolled into view
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer").first
    box = panel.bounding_box()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), clip=box)
    print(f"screenshot: {path}")
    return path


def save_screenshot(page: Any, name: str, show: Any = None, folder: Path = SCREENSHOTS) -> Path:
    """A PNG of the page under `folder` (reports/browser/ by default), scrolled so that the
    locator `show` is in view when given; its path is printed."""
    if show is not None:
        show.scroll_into_view_if_needed()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
