"""Pytest plugin: the Xingchen simulator as a real process on a free port.

`simulator` (session scope) starts one for the whole run; `sim` hands it to a test with faults
cleared and the fast pacing restored. `make_simulator(path)` starts a private one (for example to
restart it on the same data directory); stop it with `.stop()`. `file_server` serves a folder
over HTTP, for the URLs the simulator fetches (avatars, workbooks).
"""

from __future__ import annotations

import functools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sim-test-key"
FAST = {"tokens_per_second": 2000, "first_token_ms": 0}
START_DEADLINE_SECONDS = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SimulatorHandle:
    """A running simulator process and the control calls tests make on it (sync httpx)."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        base_url: str,
        api_key: str,
        data_dir: Path,
        log_path: Path,
    ) -> None:
        self.process = process
        self.base_url = base_url
        self.api_key = api_key
        self.data_dir = data_dir
        self.log_path = log_path
        self._http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=10
        )

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code != 200:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def inject(self, servicename: str, **fault: Any) -> None:
        """Queues a fault, e.g. `inject("aca-chat-send-sse", kind="cut", after_events=3)`."""
        self._control("POST", "/_simulator/faults", json={"servicename": servicename, **fault})

    def clear_faults(self) -> None:
        self._control("DELETE", "/_simulator/faults")

    def configure(self, **config: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._control("POST", "/_simulator/config", json=config)
        return result

    def requests(self, servicename: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._control(
            "GET", "/_simulator/requests", params={"servicename": servicename}
        )
        return result

    def stamps(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Per streamed chat of `user_id` (all users when None), oldest first:
        `{"requestId", "userId", "events": [[chars_so_far, sent_at], ...]}`; recorded only
        while `configure(stamp_events=True)` is on."""
        params = {} if user_id is None else {"userId": user_id}
        result: list[dict[str, Any]] = self._control("GET", "/_simulator/stamps", params=params)
        return result

    def set_character_status(self, character_id: str, **statuses: str) -> dict[str, Any]:
        result: dict[str, Any] = self._control(
            "POST", f"/_simulator/characters/{character_id}/status", json=statuses
        )
        return result

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        self._http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _wait_until_healthy(handle: SimulatorHandle) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            break
        try:
            if httpx.get(f"{handle.base_url}/_simulator/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    handle.stop()
    raise RuntimeError(
        f"The Xingchen simulator did not become healthy (exit code {handle.process.returncode}):\n"
        + handle.log()[-4000:]
    )


def make_simulator(
    data_dir: Path, *, api_key: str = API_KEY, port: int | None = None, **pacing: Any
) -> SimulatorHandle:
    """Starts a simulator on `data_dir` and waits for it to answer; the caller must `.stop()` it."""
    settings = {**FAST, **pacing}
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"simulator-{port}.log"
    command = [
        sys.executable, "-m", "platforms.xingchen.simulator",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
        "--api-key", api_key,
        "--tokens-per-second", str(settings["tokens_per_second"]),
        "--first-token-ms", str(settings["first_token_ms"]),
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    handle = SimulatorHandle(process, f"http://127.0.0.1:{port}", api_key, data_dir, log_path)
    _wait_until_healthy(handle)
    return handle


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorHandle]:
    handle = make_simulator(tmp_path_factory.mktemp("xingchen-simulator"))
    yield handle
    handle.stop()


@pytest.fixture
def sim(simulator: SimulatorHandle) -> SimulatorHandle:
    simulator.clear_faults()
    simulator.configure(**FAST)
    return simulator


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder): files put in the folder are served at base URL + "/" + name."""
    root = tmp_path / "public"
    root.mkdir()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
