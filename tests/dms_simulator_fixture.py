"""Pytest plugin: the DMS ChatWithDesensitizeSSE simulator as a real process on a free port.

`dms_simulator` (session scope) starts one for the whole run with fixed credentials;
`dms_sim` hands it to a test with faults cleared and the fast pacing restored.
`make_dms_simulator(path)` starts a private one; stop it with `.stop()`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.simulator_process import SimulatorProcess, free_port, start_simulator

ACCESS_KEY_ID = "sim-dms-id"
ACCESS_KEY_SECRET = "sim-dms-secret"
INSTANCE_ID = 1001
FAST = {"tokens_per_second": 2000, "first_token_ms": 0}


class DmsSimulatorHandle(SimulatorProcess):
    """A running DMS simulator and the control calls tests make on it."""

    label = "DMS simulator"

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        super().__init__(process, f"http://127.0.0.1:{port}", log_path)
        self.host = f"127.0.0.1:{port}"
        self.access_key_id = ACCESS_KEY_ID
        self.access_key_secret = ACCESS_KEY_SECRET
        self.instance_id = INSTANCE_ID

    def inject(self, **fault: Any) -> None:
        """Queues a fault for the next chat request, e.g. `inject(kind="cut", after_events=3)`."""
        self._control("POST", "/_simulator/faults", json=fault)

    def requests(self) -> list[dict[str, Any]]:
        """The requests received, oldest first (see the simulator's docstring)."""
        result: list[dict[str, Any]] = self._control("GET", "/_simulator/requests")
        return result


def make_dms_simulator(data_dir: Path) -> DmsSimulatorHandle:
    """Starts a simulator on `data_dir` and waits for it; the caller must `.stop()` it."""
    port = free_port()
    options = [
        *["--access-key-id", ACCESS_KEY_ID, "--access-key-secret", ACCESS_KEY_SECRET],
        *["--instance-id", str(INSTANCE_ID)],
        *["--tokens-per-second", str(FAST["tokens_per_second"])],
        *["--first-token-ms", str(FAST["first_token_ms"])],
    ]
    process, log_path = start_simulator(
        "platforms.dms.simulator", options, data_dir=data_dir, port=port
    )
    handle = DmsSimulatorHandle(process, port, log_path)
    handle.wait_until_healthy()
    return handle


@pytest.fixture(scope="session")
def dms_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmsSimulatorHandle]:
    handle = make_dms_simulator(tmp_path_factory.mktemp("dms-simulator"))
    yield handle
    handle.stop()


@pytest.fixture
def dms_sim(dms_simulator: DmsSimulatorHandle) -> DmsSimulatorHandle:
    dms_simulator.clear_faults()
    dms_simulator.configure(**FAST)
    return dms_simulator
