"""A daphne process serving the product on the test database: the "other server process" of
cross-process tests, and the server of browser tests.

Rows the test writes must be committed to be seen by it (transactional tests).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_DEADLINE_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
        self.proc = proc
        self.base_url = base_url
        self.log_path = log_path

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """Ends the process at once, as a crash would: nothing of it runs any cleanup."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _platform_env(dms, lingma) -> dict[str, str]:
    env: dict[str, str] = {}
    if dms is not None:
        env["DMS_ACCESS_KEY_ID"] = dms.access_key_id
        env["DMS_ACCESS_KEY_SECRET"] = dms.access_key_secret
        env["DMS_ENDPOINT"] = dms.base_url
        env["DMS_INSTANCE_ID"] = str(dms.instance_id)
    if lingma is not None:
        env["LINGMA_TOKEN"] = lingma.token
        env["LINGMA_ORGANIZATION_ID"] = lingma.organization_id
        env["LINGMA_BASE_URL"] = lingma.base_url
    return env


def start_daphne(
    *,
    database_url: str,
    simulator,
    data_dir: Path,
    env: dict[str, str] | None = None,
    dms=None,
    lingma=None,
) -> LiveServer:
    """Starts daphne on a free port and waits until it serves the login page; `dms` and
    `lingma` are the simulators of those platforms, when the server needs them."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "XINGCHEN_API_KEY": "",
        "XINGCHEN_SIM_API_KEY": simulator.api_key,
        "XINGCHEN_BASE_URL": simulator.base_url,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",
        **(_platform_env(dms, lingma)),
        **(env or {}),
    }
    log_path = data_dir / f"daphne-{port}.log"
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*command, "project.asgi:application"],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(proc, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{server.base_url}/accounts/login/", timeout=2)
            return server
        except OSError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("daphne did not start:\n" + server.log()[-4000:]) from exc
            time.sleep(0.1)
