"""The event stream: OpenAI-style chunks in DMS envelopes, paced, with stream faults applied."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Send

from .config import SimulatorConfig
from .faults import Fault
from .params import ChatCall
from .replies import Reply

EVENT_STREAM = "text/event-stream;charset=UTF-8"
EVENT_NAME = "result"


class _Cut:
    """Yielded by a stream to drop the connection without ending the body."""


CUT = _Cut()


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class ChunkWriter:
    """Builds the `data:` envelopes of one reply, each carrying one chat.completion.chunk."""

    def __init__(self, call: ChatCall, request_id: str) -> None:
        self._request_id = request_id
        self._head = {
            "id": f"chatcmpl-{uuid.uuid4()}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": call.model,
        }

    def envelope(self, chunk: dict[str, Any]) -> str:
        data = _compact({**self._head, **chunk})
        return _compact({"RequestId": self._request_id, "Success": True, "Data": data})

    def delta(self, delta: dict[str, str], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return self.envelope({"choices": [choice]})

    def usage(self, reply: Reply) -> str:
        completion = len(reply.answer) + len(reply.reasoning)
        usage = {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": reply.prompt_tokens + completion,
        }
        return self.envelope({"choices": [], "usage": usage})

    def failure(self, code: str, message: str) -> str:
        return _compact(
            {
                "RequestId": self._request_id,
                "Success": False,
                "Data": None,
                "ErrorCode": code,
                "ErrorMessage": message,
            }
        )


def plan(call: ChatCall, reply: Reply, writer: ChunkWriter) -> list[tuple[str, int]]:
    """Every event's data line with the tokens it carries (for pacing), in order."""
    events = [(writer.delta({"role": "assistant", "content": ""}), 0)]
    events += [(writer.delta({"content": "", "reasoning_content": t}), 1) for t in reply.reasoning]
    events += [(writer.delta({"content": token}), 1) for token in reply.answer]
    events.append((writer.delta({}, reply.finish_reason), 0))
    if call.include_usage:
        events.append((writer.usage(reply), 0))
    return events


def frame(number: int, data: str) -> bytes:
    return f"id:{number}\nevent:{EVENT_NAME}\ndata:{data}\n\n".encode()


async def paced_events(
    events: list[tuple[str, int]],
    config: SimulatorConfig,
    fault: Fault | None,
    writer: ChunkWriter,
) -> AsyncIterator[bytes | _Cut]:
    """The framed events at the configured pace, with a stream fault after `after_events`."""
    await asyncio.sleep(config.first_token_ms / 1000)
    for number, (data, tokens) in enumerate(events, start=1):
        if fault is not None and number > fault.after_events:
            if fault.kind == "cut":
                yield CUT
                return
            if fault.kind == "malformed":
                yield frame(number, '{"RequestId": broken')
                return
            if fault.kind == "stream_error":
                yield frame(
                    number, writer.failure(fault.code, fault.message or "Injected failure.")
                )
                return
            if fault.kind == "stall":
                fault, seconds = None, fault.seconds
                await asyncio.sleep(seconds)
        yield frame(number, data)
        if tokens:
            await asyncio.sleep(tokens / config.tokens_per_second)


class EventStreamResponse(StreamingResponse):
    """A streaming response that can also break off: on `CUT` it returns without ending the
    chunked body, so the server drops the connection as a failing upstream would."""

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self.body_iterator:
            if isinstance(chunk, _Cut):
                return
            body = chunk if isinstance(chunk, bytes) else str(chunk).encode()
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
