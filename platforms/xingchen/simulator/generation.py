"""One reply being produced: the result events, pacing, stop, faults, and what happens at the end.

Shared by single-character chat and group chat. Every event carries the whole context (all ids);
`stopReason` is the string "null" until the last event, which says "stop" ("length" when
`maxLength` cut the reply). A stop request ends the stream promptly with one last event that adds
no text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from .errors import error_body
from .faults import Fault
from .replies import Reply, tokenize
from .state import Simulator
from .streaming import EventStreamResponse, Pacer, chunk_tokens, frame

UNFINISHED = "null"
# Sent by a `malformed` fault: an event whose data is cut off mid-JSON.
MALFORMED_DATA = '{"choices":[{"stopReason":"null","messages":[{"role":"assistant","content":'


class Generation:
    def __init__(
        self,
        sim: Simulator,
        *,
        request_id: str,
        reply: Reply,
        context: dict[str, Any],
        incremental: bool,
        max_length: int | None,
        input_tokens: int,
        user_tokens: int,
        speaker: str | None = None,
        on_finish: Callable[[str], None] | None = None,
        user_id: str | None = None,
    ) -> None:
        self.sim = sim
        self.request_id = request_id
        self.reply = reply
        self.context = context
        self.incremental = incremental
        self.input_tokens = input_tokens
        self.user_tokens = user_tokens
        self.speaker = speaker
        self._on_finish = on_finish
        self._user_id = user_id
        tokens = tokenize(reply.text)
        self.final_reason = "stop"
        if max_length is not None and len(tokens) > max_length:
            tokens = tokens[:max_length]
            self.final_reason = "length"
        self.chunks = chunk_tokens(tokens)
        self.sent = ""
        self.sent_tokens = 0
        self._stop_requested = asyncio.Event()
        self._stopped_content: str | None = None
        self._closed = False
        sim.streams[request_id] = self
        if user_id is not None:
            sim.busy_users[user_id] = request_id

    # --- payloads ------------------------------------------------------------------------

    def _message(self, content: str, last: bool) -> dict[str, Any]:
        meta: dict[str, Any] = {"hasRisk": self.reply.has_risk}
        if self.reply.safety_std_answer:
            meta["safetyStdAnswer"] = self.reply.safety_std_answer
        message: dict[str, Any] = {"role": "assistant", "content": content, "meta": meta}
        if self.speaker:
            message["name"] = self.speaker
        if last and self.reply.function_call is not None:
            message["functionCall"] = self.reply.function_call
        return message

    def result(self, content: str, stop_reason: str) -> dict[str, Any]:
        last = stop_reason != UNFINISHED
        return {
            "choices": [{"stopReason": stop_reason, "messages": [self._message(content, last)]}],
            "usage": {
                "userTokens": self.user_tokens,
                "inputTokens": self.input_tokens,
                "outputTokens": self.sent_tokens,
            },
            "context": self.context,
        }

    def _event(self, piece: str, stop_reason: str) -> str:
        content = piece if self.incremental else self.sent
        return frame(
            {"requestId": self.request_id, "success": True, **self.result(content, stop_reason)}
        )

    # --- running -------------------------------------------------------------------------

    async def events(self, fault: Fault | None) -> AsyncIterator[str]:
        pacer = Pacer(self.sim.config, self._stop_requested)
        await pacer.first_token()
        last_index = len(self.chunks) - 1
        for index, chunk in enumerate(self.chunks):
            if fault is not None and index == fault.after_events:
                if fault.kind == "cut":
                    return
                if fault.kind == "error_event":
                    yield frame(error_body(self.request_id, fault.error()), "error")
                    return
                if fault.kind == "malformed":
                    yield frame(MALFORMED_DATA)
                elif fault.kind == "stall":
                    await pacer.stall(fault.seconds)
            if self._stop_requested.is_set():
                yield self._event("", "stop")
                return
            self.sent += chunk
            self.sent_tokens += len(tokenize(chunk))
            yield self._event(chunk, self.final_reason if index == last_index else UNFINISHED)
            if index != last_index:
                await pacer.after(len(tokenize(chunk)))

    def response(self, fault: Fault | None) -> EventStreamResponse:
        return EventStreamResponse(self.events(fault), on_close=self.close)

    async def complete(self) -> dict[str, Any]:
        """The whole reply at once, after as long as streaming it would have taken."""
        try:
            pacer = Pacer(self.sim.config, self._stop_requested)
            await pacer.first_token()
            await pacer.after(sum(len(tokenize(c)) for c in self.chunks))
            self.sent = "".join(self.chunks)
            self.sent_tokens = len(tokenize(self.sent))
            return self.result(self.sent, self.final_reason)
        finally:
            self.close()

    def stop(self, content: str | None) -> None:
        """chat/stop: end the stream; `content` (the caller's partial text) becomes the answer."""
        self._stopped_content = content
        self._stop_requested.set()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.sim.streams.pop(self.request_id, None)
        if self._user_id is not None and self.sim.busy_users.get(self._user_id) == self.request_id:
            del self.sim.busy_users[self._user_id]
        text = self._stopped_content if self._stopped_content is not None else self.sent
        if self._on_finish is not None and (text or self._stopped_content is not None):
            self._on_finish(text)
