"""A bundled simulator (Xingchen, DMS, Lingma) run as a real process on a free port, and the
control calls every one of them answers (`/_simulator/...`, sync httpx)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_DEADLINE_SECONDS = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SimulatorProcess:
    """A running simulator; subclasses add the calls of their own control API."""

    label = "simulator"

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        base_url: str,
        log_path: Path,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.process = process
        self.base_url = base_url
        self.log_path = log_path
        self._http = httpx.Client(base_url=base_url, headers=headers or {}, timeout=10)

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code != 200:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def clear_faults(self) -> None:
        self._control("DELETE", "/_simulator/faults")

    def configure(self, **config: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._control("POST", "/_simulator/config", json=config)
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

    def wait_until_healthy(self) -> None:
        """Returns once the simulator answers; stops it and raises when it never does."""
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.base_url}/_simulator/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"The {self.label} did not become healthy (exit code {self.process.returncode}):\n"
            + self.log()[-4000:]
        )


def start_simulator(
    module: str, options: list[str], *, data_dir: Path, port: int
) -> tuple[subprocess.Popen[bytes], Path]:
    """Starts `python -m <module>` on 127.0.0.1:`port` with `data_dir`; (process, its log)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"{module.split('.')[1]}-simulator-{port}.log"
    command = [
        *[sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port)],
        *["--data-dir", str(data_dir), *options],
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return process, log_path
