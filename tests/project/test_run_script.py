"""`make run` starts the whole product in one foreground command and Ctrl-C stops all of it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    children: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            children |= {child} | _descendants(child)
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_until(predicate, deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def _serves_login(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and b"password" in response.read()
    except OSError:
        return False


def test_run_serves_the_login_page_and_ctrl_c_leaves_no_process(tmp_path):
    port, sim_port = _free_port(), _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DATA_DIR": str(tmp_path),
        "PORT": str(port),
        "XINGCHEN_SIMULATOR_PORT": str(sim_port),
        "XINGCHEN_API_KEY": "",
        "DJANGO_SUPERUSER_PASSWORD": "",
    }
    env.pop("XINGCHEN_BASE_URL", None)
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        served = _wait_until(lambda: _serves_login(f"http://127.0.0.1:{port}/accounts/login/"), 120)
        assert served, log.read_text()[-3000:]
        assert _wait_until(lambda: "Persona Studio is running" in log.read_text(), 30)
        output = log.read_text()
        assert "Created admin account 'admin' with password:" in output
        children = _descendants(proc.pid)
        assert len(children) >= 4  # simulator, worker, beat, daphne
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert _wait_until(lambda: not any(_alive(pid) for pid in children), 20)
        # Celery's pool was shut down by its main process, not killed under its jobs.
        assert "exited with 'signal" not in log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
