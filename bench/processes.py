"""Starting and stopping the servers the benchmarks measure (loopback only)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(python: str, app: str, port: int, workers: int) -> list[str]:
    """The command line serving a WSGI app on 127.0.0.1 with the repository's
    gunicorn.conf.py (read from the working directory, ROOT), as production runs it."""
    return [python, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", app]


def start(argv: list[str], env: dict[str, str], port: int, probe: str = "/") -> subprocess.Popen:
    """Start a server in its own process group and wait until ``probe`` answers."""
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2):
                return process
        except OSError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"{' '.join(argv)} did not start")


def stop(process: subprocess.Popen) -> None:
    """Stop a server started by :func:`start` (its whole process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
