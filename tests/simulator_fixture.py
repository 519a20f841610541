"""Pytest plugin: the Xingchen simulator as a real process on a free port.

`simulator` (session scope) starts one for the whole run; `sim` hands it to a test with faults
cleared and the fast pacing restored. `make_simulator(path)` starts a private one (for example to
restart it on the same data directory); stop it with `.stop()`. `file_server` serves a folder
over HTTP, for the URLs the simulator fetches (avatars, workbooks).
"""

from __future__ import annotations

import functools
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.simulator_process import SimulatorProcess, free_port, start_simulator

API_KEY = "sim-test-key"
FAST = {"tokens_per_second": 2000, "first_token_ms": 0}


class SimulatorHandle(SimulatorProcess):
    """A running Xingchen simulator and the control calls tests make on it."""

    label = "Xingchen simulator"

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        base_url: str,
        api_key: str,
        data_dir: Path,
        log_path: Path,
    ) -> None:
        super().__init__(
            process, base_url, log_path, headers={"Authorization": f"Bearer {api_key}"}
        )
        self.api_key = api_key
        self.data_dir = data_dir

    def inject(self, servicename: str, **fault: Any) -> None:
        """Queues a fault, e.g. `inject("aca-chat-send-sse", kind="cut", after_events=3)`."""
        self._control("POST", "/_simulator/faults", json={"servicename": servicename, **fault})

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


def make_simulator(
    data_dir: Path, *, api_key: str = API_KEY, port: int | None = None, **pacing: Any
) -> SimulatorHandle:
    """Starts a simulator on `data_dir` and waits for it to answer; the caller must `.stop()` it."""
    settings = {**FAST, **pacing}
    port = port or free_port()
    options = [
        *["--api-key", api_key, "--tokens-per-second", str(settings["tokens_per_second"])],
        *["--first-token-ms", str(settings["first_token_ms"])],
    ]
    process, log_path = start_simulator(
        "platforms.xingchen.simulator", options, data_dir=data_dir, port=port
    )
    handle = SimulatorHandle(process, f"http://127.0.0.1:{port}", api_key, data_dir, log_path)
    handle.wait_until_healthy()
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
