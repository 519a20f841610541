"""A real Celery worker process of its own (queue, data folder, broker), for tests that kill it.

It runs on the broker of the test run's settings: the filesystem broker in its own data folder
on the embedded defaults, Redis when REDIS_URL is set, and on the test database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from project.celery import app as celery_app
from tests.conftest import current_database_url
from tests.simulator_fixture import ROOT, SimulatorHandle


class WorkerProcess:
    """`celery -A project worker` (prefork, as `make run` starts it) in its own process group."""

    def __init__(self, data_dir: Path, simulator: SimulatorHandle) -> None:
        self.data_dir = data_dir
        self.queue = f"studio-test-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": current_database_url(),
            "XINGCHEN_API_KEY": simulator.api_key,
            "XINGCHEN_BASE_URL": simulator.base_url,
            "CELERY_QUEUE": self.queue,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        for folder in ("queue", "processed", "control"):
            (data_dir / "broker" / folder).mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        log = self.data_dir / f"worker-{len(self.logs) + 1}.log"
        self.logs.append(log)
        command = [
            sys.executable, "-m", "celery", "-A", "project", "worker",
            "--queues", self.queue, "--concurrency", "1", "--loglevel", "INFO",
        ]  # fmt: skip
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes, as an OOM kill or `kill -9` would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()

    def send(self, task_name: str, *args: Any) -> None:
        """Queues a task on this worker's queue, through the broker it reads."""
        options = {}
        if not settings.REDIS_URL:
            broker = self.data_dir / "broker"
            options = {
                "data_folder_in": str(broker / "queue"),
                "data_folder_out": str(broker / "queue"),
                "processed_folder": str(broker / "processed"),
                "control_folder": str(broker / "control"),
            }
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = False
        try:
            with celery_app.connection_for_write(transport_options=options) as conn:
                celery_app.send_task(task_name, args=args, queue=self.queue, connection=conn)
        finally:
            celery_app.conf.task_always_eager = eager

    def log(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs)
