"""Open a saved profile in snakeviz where the browser can reach a local server."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote


def unreachable_reason(env: Mapping[str, str] | None = None) -> str | None:
    """Why a browser cannot reach a server started by this kernel, or None if it can."""
    env = os.environ if env is None else env
    if "KAGGLE_KERNEL_RUN_TYPE" in env or Path("/kaggle/input").is_dir():
        return "this is a Kaggle notebook: the browser cannot reach a server in the kernel"
    if "COLAB_RELEASE_TAG" in env or "google.colab" in sys.modules:
        return "this is Colab: the browser cannot reach a server in the kernel"
    if "BINDER_SERVICE_HOST" in env or "JUPYTERHUB_SERVICE_PREFIX" in env:
        return "this kernel runs behind JupyterHub/Binder: a local port is not reachable"
    if "SSH_CONNECTION" in env:
        return "this kernel runs on a remote machine (SSH): its local port is not your browser's"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def open_snakeviz(prof: Path) -> str:
    """Start snakeviz on `prof` and say where it serves, or say plainly why not."""
    reason = unreachable_reason()
    if reason is not None:
        return (
            f"snakeviz not started: {reason}. Download {prof.name} and run "
            f"`snakeviz {prof.name}` on your own machine, or read the call tree in this report."
        )
    if importlib.util.find_spec("snakeviz") is None:
        return "snakeviz not started: it is not installed (pip install snakeviz)."
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "snakeviz", "-s", "-H", "127.0.0.1", "-p", str(port), str(prof)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/snakeviz/{quote(str(prof.resolve()), safe='')}"
    return f"snakeviz serves {prof.name} at {url} (process {process.pid}; stop it with kill {process.pid})."
