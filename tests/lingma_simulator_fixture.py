"""Pytest plugin: the Lingma simulator as a real process on a free port.

`lingma_simulator` (session scope) starts one for the whole run; `lingma_sim` hands it to a test
with faults cleared and the default stream shape and fast pacing restored.
`make_lingma_simulator(path)` starts a private one (for example to restart it on the same data
directory); stop it with `.stop()`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.simulator_process import SimulatorProcess, free_port, start_simulator

LINGMA_TOKEN = "sim-lingma-token"
LINGMA_ORGANIZATION_ID = "sim-org"
FAST = {"tokens_per_second": 2000, "first_token_ms": 0}
DEFAULT_SHAPE = {"text_mode": "incremental", "end_marker": "none"}


class LingmaSimulatorHandle(SimulatorProcess):
    """A running Lingma simulator and the control calls tests make on it."""

    label = "Lingma simulator"

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        base_url: str,
        token: str,
        organization_id: str,
        data_dir: Path,
        log_path: Path,
    ) -> None:
        super().__init__(process, base_url, log_path, headers={"x-yunxiao-token": token})
        self.token = token
        self.organization_id = organization_id
        self.data_dir = data_dir

    def inject(self, **fault: Any) -> None:
        """Queues a fault, e.g. `inject(kind="cut", after_events=3)`."""
        self._control("POST", "/_simulator/faults", json=fault)

    def requests(self) -> list[dict[str, Any]]:
        """The calls received, oldest first: `{requestId, method, path, query, headers, body,
        status}` (never the token)."""
        result: list[dict[str, Any]] = self._control("GET", "/_simulator/requests")
        return result

    def knowledge_bases(self) -> list[dict[str, Any]]:
        """Every knowledge base of the organisation, as the public list API returns them."""
        path = f"/oapi/v1/lingma/organizations/{self.organization_id}/knowledgeBases"
        result: list[dict[str, Any]] = self._control(
            "GET", path, params={"perPage": 100, "orderBy": "gmt_created", "sort": "asc"}
        )
        return result


def make_lingma_simulator(
    data_dir: Path,
    *,
    token: str = LINGMA_TOKEN,
    organization_id: str = LINGMA_ORGANIZATION_ID,
    port: int | None = None,
    **pacing: Any,
) -> LingmaSimulatorHandle:
    """Starts a simulator on `data_dir` and waits for it to answer; the caller must `.stop()` it."""
    settings = {**FAST, **pacing}
    port = port or free_port()
    options = [
        *["--token", token, "--organization-id", organization_id],
        *["--tokens-per-second", str(settings["tokens_per_second"])],
        *["--first-token-ms", str(settings["first_token_ms"])],
    ]
    process, log_path = start_simulator(
        "platforms.lingma.simulator", options, data_dir=data_dir, port=port
    )
    handle = LingmaSimulatorHandle(
        process, f"http://127.0.0.1:{port}", token, organization_id, data_dir, log_path
    )
    handle.wait_until_healthy()
    return handle


@pytest.fixture(scope="session")
def lingma_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LingmaSimulatorHandle]:
    handle = make_lingma_simulator(tmp_path_factory.mktemp("lingma-simulator"))
    yield handle
    handle.stop()


@pytest.fixture
def lingma_sim(lingma_simulator: LingmaSimulatorHandle) -> LingmaSimulatorHandle:
    lingma_simulator.clear_faults()
    lingma_simulator.configure(**FAST, **DEFAULT_SHAPE)
    return lingma_simulator
