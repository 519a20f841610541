"""`make run` starts the whole product in one foreground command, keeps it up and stops all of it.

Most cases run scripts/supervise.py (the supervisor `make run` uses) on a Procfile of small
Python programs; two start the real product.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Ignores SIGTERM, so only the SIGKILL after the grace period stops it.
STUBBORN = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").close()
time.sleep(600)
"""
# Leaves a grandchild behind when it is terminated.
SPAWNER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[1], "w").close()
time.sleep(600)
"""


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


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _wait_until(predicate, deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def _left_behind(tmp_path: Path) -> set[int]:
    """Live processes started for this test, wherever they were reparented: all of them, and
    only they, inherited DATA_DIR=tmp_path."""
    marker = f"\0DATA_DIR={tmp_path}\0".encode()
    pids = set()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError):
            if marker in b"\0" + environ.read_bytes():
                pids.add(int(environ.parent.name))
    return {pid for pid in pids if _alive(pid)}


def _serves_login(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and b"password" in response.read()
    except OSError:
        return False


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # The embedded defaults (SQLite, filesystem broker) in a data folder of the test's own.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.pop("XINGCHEN_BASE_URL", None)
    return {**env, "DATA_DIR": str(tmp_path), **extra}


@contextlib.contextmanager
def _started(argv: list[str], tmp_path: Path, **popen: object) -> Iterator[subprocess.Popen]:
    """Start `argv` in a session of its own, logging to tmp_path/run.log; kill what is left."""
    popen.setdefault("env", _env(tmp_path))
    with open(tmp_path / "run.log", "wb") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )
    try:
        yield proc
    finally:
        for pid in _left_behind(tmp_path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()


def _procfile(tmp_path: Path, services: dict[str, list[str]]) -> Path:
    path = tmp_path / "Procfile"
    path.write_text("".join(f"{name}: {shlex.join(argv)}\n" for name, argv in services.items()))
    return path


def _script(tmp_path: Path, name: str, code: str) -> list[str]:
    (tmp_path / f"{name}.py").write_text(code)
    return [sys.executable, str(tmp_path / f"{name}.py"), str(tmp_path / f"{name}.ready")]


def _supervise(tmp_path: Path, *, grace: float = 2.0) -> list[str]:
    """The supervisor on a stubborn service and one that starts a grandchild."""
    procfile = _procfile(
        tmp_path,
        {
            "stubborn": _script(tmp_path, "stubborn", STUBBORN),
            "spawner": _script(tmp_path, "spawner", SPAWNER),
        },
    )
    return [sys.executable, "scripts/supervise.py", str(procfile), "--grace", str(grace)]


def _log(tmp_path: Path) -> str:
    return (tmp_path / "run.log").read_text()


def _services_ready(tmp_path: Path, supervisor_pid: int) -> None:
    ready = ("stubborn.ready", "spawner.ready")
    assert _wait_until(lambda: all((tmp_path / name).exists() for name in ready), 30)
    assert len(_descendants(supervisor_pid)) >= 3  # stubborn, spawner and its grandchild


def test_ctrl_c_stops_every_service_and_what_they_started(tmp_path):
    with _started(_supervise(tmp_path), tmp_path) as proc:
        _services_ready(tmp_path, proc.pid)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert _wait_until(lambda: not _left_behind(tmp_path), 10)
        assert "stubborn did not stop within 2 s; killing it." in _log(tmp_path)


def test_a_second_sigterm_does_not_interrupt_the_clean_up(tmp_path):
    with _started(_supervise(tmp_path, grace=5), tmp_path) as proc:
        _services_ready(tmp_path, proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert _wait_until(lambda: "Stopping (SIGTERM)" in _log(tmp_path), 10)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert _wait_until(lambda: not _left_behind(tmp_path), 10)
        log = _log(tmp_path)
        assert "Already stopping (SIGTERM ignored)." in log
        assert "stubborn did not stop within 5 s; killing it." in log


def test_a_hang_up_of_the_terminal_stops_everything(tmp_path):
    # As `make run` in a terminal that closes: SIGHUP to the process group of make and the
    # supervisor, where a shell stands for make.
    shell = ["/bin/sh", "-c", '"$@"; echo "supervisor exited with $?"', "sh", *_supervise(tmp_path)]
    with _started(shell, tmp_path) as proc:
        _services_ready(tmp_path, proc.pid)
        os.killpg(proc.pid, signal.SIGHUP)
        proc.wait(timeout=30)
        assert _wait_until(lambda: not _left_behind(tmp_path), 10)
        assert "Stopping (SIGHUP)" in _log(tmp_path)


def test_services_die_with_a_killed_supervisor_celery_pool_included(tmp_path):
    worker = [sys.executable, "-m", "celery", "-A", "project", "worker", "--concurrency", "2"]
    procfile = _procfile(
        tmp_path, {"worker": worker, "stubborn": _script(tmp_path, "stubborn", STUBBORN)}
    )
    with _started([sys.executable, "scripts/supervise.py", str(procfile)], tmp_path) as proc:

        def pool_started() -> bool:
            workers = [pid for pid in _descendants(proc.pid) if "celery" in _cmdline(pid)]
            return any(len(_descendants(pid)) >= 2 for pid in workers)

        assert _wait_until(pool_started, 60), _log(tmp_path)[-3000:]
        assert _wait_until((tmp_path / "stubborn.ready").exists, 10)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait_until(lambda: not _left_behind(tmp_path), 10)


def test_services_get_default_signal_handling_when_started_as_a_background_job(tmp_path):
    ignored = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)

    def like_a_background_job() -> None:  # `make run &` in a script, under nohup
        for signum in ignored:
            signal.signal(signum, signal.SIG_IGN)

    procfile = _procfile(tmp_path, {"sleeper": ["sleep", "600"]})
    argv = [sys.executable, "scripts/supervise.py", str(procfile)]
    with _started(argv, tmp_path, preexec_fn=like_a_background_job) as proc:

        def sleepers() -> set[int]:  # once exec'd: until then it is a copy of the supervisor
            return {pid for pid in _descendants(proc.pid) if _cmdline(pid).startswith("sleep")}

        assert _wait_until(sleepers, 10)
        (sleeper,) = sleepers()
        status = dict(
            line.split(":\t") for line in Path(f"/proc/{sleeper}/status").read_text().splitlines()
        )
        for mask in ("SigIgn", "SigBlk"):
            for signum in (*ignored, signal.SIGTERM):
                assert not int(status[mask], 16) & (1 << (signum - 1)), (mask, signum)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert _wait_until(lambda: not _alive(sleeper), 10)


def test_a_service_that_keeps_crashing_is_restarted_ever_more_slowly(tmp_path):
    procfile = _procfile(tmp_path, {"crasher": [sys.executable, "-c", "raise SystemExit(3)"]})
    with _started([sys.executable, "scripts/supervise.py", str(procfile)], tmp_path) as proc:
        second = "crasher exited with code 3; restarting in 2 s"
        assert _wait_until(lambda: second in _log(tmp_path), 30), _log(tmp_path)
        first = "crasher exited with code 3; restarting in 1 s"
        assert _log(tmp_path).index(first) < _log(tmp_path).index(second)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


@pytest.fixture
def product(tmp_path) -> Iterator[tuple[subprocess.Popen, int]]:
    """`make run` on a fresh data folder and free ports, once it serves the login page."""
    port = _free_port()
    env = _env(
        tmp_path,
        PORT=str(port),
        XINGCHEN_SIMULATOR_PORT=str(_free_port()),
        DMS_SIMULATOR_PORT=str(_free_port()),
        LINGMA_SIMULATOR_PORT=str(_free_port()),
        XINGCHEN_API_KEY="",
        DMS_ACCESS_KEY_ID="",
        LINGMA_TOKEN="",
        DJANGO_SUPERUSER_PASSWORD="",
    )
    with _started([sys.executable, "scripts/run.py"], tmp_path, env=env) as proc:
        served = _wait_until(lambda: _serves_login(f"http://127.0.0.1:{port}/accounts/login/"), 120)
        assert served, _log(tmp_path)[-3000:]
        assert _wait_until(lambda: "Persona Studio is running" in _log(tmp_path), 30)
        yield proc, port


def test_run_serves_the_login_page_and_ctrl_c_leaves_no_process(product, tmp_path):
    proc, _ = product
    assert "Created admin account 'admin' with password:" in _log(tmp_path)
    children = _descendants(proc.pid)
    assert len(children) >= 6  # three simulators, worker, beat, daphne
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert _wait_until(lambda: not _left_behind(tmp_path), 20)
    # Celery's pool was not killed under its main process, which would have logged it.
    assert "exited with 'signal" not in _log(tmp_path)


def test_a_killed_daphne_is_restarted_and_serves_again(product, tmp_path):
    proc, port = product

    def daphnes() -> set[int]:
        return {pid for pid in _descendants(proc.pid) if "-m daphne" in _cmdline(pid)}

    (killed,) = daphnes()
    os.kill(killed, signal.SIGKILL)
    assert _wait_until(lambda: daphnes() - {killed}, 30), _log(tmp_path)[-3000:]
    assert _wait_until(lambda: _serves_login(f"http://127.0.0.1:{port}/accounts/login/"), 60)
    assert "daphne exited with code -9; restarting in 1 s" in _log(tmp_path)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert _wait_until(lambda: not _left_behind(tmp_path), 20)
