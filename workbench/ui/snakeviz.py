"""Open a saved profile in snakeviz where the browser can reach a local server.

Every start says where the server listens and how to stop it (also under ``-q``: the
line goes to stdout). A server belongs to the kernel that started it: :class:`Servers`
stops its servers when the kernel exits (atexit), and each server also watches the
kernel's process and stops by itself once the kernel is gone (a kernel killed outright
runs no exit handlers). Run as ``python -m workbench.ui.snakeviz PID SNAKEVIZ-ARGS...``,
this module is that watching server.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

WATCH_INTERVAL_S = 1.0


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


class Servers:
    """The snakeviz servers one kernel started; all stopped when the kernel exits."""

    def __init__(self) -> None:
        self.running: dict[int, subprocess.Popen[bytes]] = {}
        atexit.register(self.stop_all)

    def open(self, prof: Path) -> str:
        """Start snakeviz on `prof` and say where it serves and how to stop it, or say
        plainly why it was not started."""
        reason = unreachable_reason()
        if reason is not None:
            return (
                f"snakeviz not started: {reason}. Download {prof.name} and run "
                f"`snakeviz {prof.name}` on your own machine, or read the call tree in this "
                "report (--tree)."
            )
        if importlib.util.find_spec("snakeviz") is None:
            return "snakeviz not started: it is not installed (pip install snakeviz)."
        port = _free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workbench.ui.snakeviz",
                str(os.getpid()),
                "-s",
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
                str(prof),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.running[process.pid] = process
        url = f"http://127.0.0.1:{port}/snakeviz/{quote(str(prof.resolve()), safe='')}"
        return (
            f"snakeviz serves {prof.name} at {url} (process {process.pid}). It stops when "
            f"this kernel stops; to stop it now, run !kill {process.pid} in a cell."
        )

    def stop_all(self) -> list[int]:
        """Stop every server this kernel started; returns their process ids."""
        stopped = []
        for pid, process in list(self.running.items()):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
                stopped.append(pid)
            del self.running[pid]
        return stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(parent: int, interval_s: float = WATCH_INTERVAL_S) -> None:
    """End this process once `parent` (the kernel) is gone."""
    while _alive(parent) and os.getppid() == parent:
        time.sleep(interval_s)
    os._exit(0)


def serve(argv: list[str]) -> int:
    """snakeviz's own command line, in a process that stops when the kernel is gone."""
    parent, rest = int(argv[0]), argv[1:]
    threading.Thread(target=watch, args=(parent,), daemon=True).start()
    from snakeviz.cli import main

    return int(main(rest) or 0)


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
