"""Helpers for job tests: chat turns over the real socket, waiting for a job to end, and a gate
that can hold a worker's picture polls in the middle of their upstream call (or answer them)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync

from conversations import streaming
from conversations.models import ChatSession, Message
from jobs.models import Job
from tests.conversations.helpers import Frame, open_socket, send_and_finish
from tests.worker_process import WorkerProcess

DEADLINE_SECONDS = 60.0
DRAWS = [{"name": "text_to_image_plugin", "enabled": True}]


def wait_until(condition: Callable[[], Any], what: str, *, log: Callable[[], str] = str) -> Any:
    """`condition()`'s first truthy value, polled until a deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up waiting until {what}.\n{log()}")
        time.sleep(0.1)


def job_of(reply: Message) -> Job:
    return Job.objects.prefetch_related("files").get(message=reply)


def job_ended(job: Job, worker: WorkerProcess | None = None) -> Job:
    """The job once it left queued/running."""

    def ended() -> Job | None:
        fresh = Job.objects.prefetch_related("files").get(pk=job.pk)
        return None if fresh.is_active() else fresh

    return wait_until(ended, f"job {job.pk} ends", log=worker.log if worker else str)


async def _talk(user, session_id: int, text: str) -> list[Frame]:
    socket = await open_socket(user, session_id)
    try:
        frames = await send_and_finish(socket, text)
    finally:
        await socket.disconnect()
    await streaming.wait_for_generations(timeout=20)
    return frames


def chat_turn(user, session: ChatSession, text: str) -> tuple[Message, Frame]:
    """Sends `text` through the chat socket; returns the finished reply and its `done` frame."""
    frames = async_to_sync(_talk)(user, session.pk, text)
    done = next(frame for frame in frames if frame["type"] == "done")
    return Message.objects.get(pk=done["message_id"]), done


class PollGate:
    """A proxy to the simulator that lets picture polls through, or holds them while closed."""

    POLL_PATH = "/polling/image"

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=30)
        self._changed = threading.Condition()
        self._passes: int | None = None  # polls let through before closing; None: open
        self._answer: dict[str, Any] | None = None  # what polls get instead of the simulator's
        self.held = 0
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                gate._forward(self)

            def do_POST(self) -> None:
                gate._forward(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close_after(self, passes: int) -> None:
        with self._changed:
            self._passes = passes

    def open(self) -> None:
        with self._changed:
            self._passes = None
            self._changed.notify_all()

    def answer_polls_with(self, task: dict[str, Any]) -> None:
        """Polls get `task` as Xingchen's image task, without reaching the simulator."""
        self._answer = task

    def holds_a_poll(self) -> bool:
        with self._changed:
            return self.held > 0

    def _wait_turn(self) -> None:
        with self._changed:
            if self._passes is not None and self._passes > 0:
                self._passes -= 1
                return
            if self._passes is not None:
                self.held += 1
                self._changed.wait_for(lambda: self._passes is None)
                self.held -= 1

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        if self.POLL_PATH in handler.path:
            self._wait_turn()
            if self._answer is not None:
                self._answer_poll(handler, self._answer)
                return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {
            name: value
            for name, value in handler.headers.items()
            if name.lower() not in ("host", "content-length", "connection")
        }
        answer = self.upstream.request(handler.command, handler.path, headers=headers, content=body)
        try:
            handler.send_response(answer.status_code)
            for name in ("Content-Type", "Retry-After"):
                if name in answer.headers:
                    handler.send_header(name, answer.headers[name])
            handler.send_header("Content-Length", str(len(answer.content)))
            handler.end_headers()
            handler.wfile.write(answer.content)
        except OSError:
            pass  # the worker that asked was killed meanwhile

    @staticmethod
    def _answer_poll(handler: BaseHTTPRequestHandler, task: dict[str, Any]) -> None:
        content = json.dumps({"code": 200, "success": True, "data": task}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    def shut(self) -> None:
        self.open()
        self.server.shutdown()
        self.upstream.close()
