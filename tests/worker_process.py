"""A real Celery worker process of its own (queue, data folder), for tests that kill it.

It runs on the broker of the test run's settings: on the embedded defaults the filesystem broker
in the test process's own broker folder (CELERY_BROKER_DIR), so that what the test process queues
reaches it; Redis when REDIS_URL is set. It uses the test database and the test's private media
folder, so the files it stores are the ones the test process serves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from project.celery import app as celery_app
from tests.conftest import current_database_url
from tests.simulator_fixture import SimulatorHandle
from tests.simulator_process import ROOT

READY_DEADLINE_SECONDS = 60.0


class WorkerProcess:
    """`celery -A project worker` (prefork, as `make run` starts it) in its own process group."""

    def __init__(
        self, data_dir: Path, simulator: SimulatorHandle, *, base_url: str | None = None
    ) -> None:
        self.data_dir = data_dir
        self.queue = f"studio-test-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": current_database_url(),
            "XINGCHEN_API_KEY": simulator.api_key,
            "XINGCHEN_BASE_URL": base_url or simulator.base_url,
            "CELERY_QUEUE": self.queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        }
        if not settings.REDIS_URL:
            self.env["CELERY_BROKER_DIR"] = str(settings.BROKER_DIR)
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        data_dir.mkdir(parents=True, exist_ok=True)

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

    def wait_ready(self) -> None:
        """Returns once the worker consumes its queue (and has resumed what a killed one held)."""
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while b"ready." not in self.logs[-1].read_bytes():
            assert self.process is not None
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("Celery worker did not start:\n" + self.log())
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes, as an OOM kill or `kill -9` would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()

    @contextmanager
    def routed_here(self) -> Iterator[None]:
        """Tasks this test process queues (`delay`, `delay_on_commit`) go to this worker."""
        conf = celery_app.conf
        before = conf.task_always_eager, conf.task_default_queue
        conf.task_always_eager, conf.task_default_queue = False, self.queue
        try:
            yield
        finally:
            conf.task_always_eager, conf.task_default_queue = before

    def send(self, task_name: str, *args: Any) -> None:
        """Queues a task on this worker's queue, through the broker it reads."""
        with self.routed_here(), celery_app.connection_for_write() as conn:
            celery_app.send_task(task_name, args=args, queue=self.queue, connection=conn)

    def log(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs)
