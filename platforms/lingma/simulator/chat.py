"""ExecuteChat: validation as strict as the documented ranges, then the answer, whole or streamed.

Validation (all 400 `BadRequest`): `stream`/`teamDocs` must be true/false when given;
`input.messages` must hold role/content objects with roles system/user/assistant, a system
message only first, and end with the user's question; `parameters.max_tokens` in [1, 4096],
`temperature` and `top_p` in [0, 1], `seed`/`top_k` integers; every `kbIds` entry must name a
Q&A knowledge base.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from .errors import bad_request
from .faults import Fault
from .replies import DEFAULT_SEED, compose, count_tokens, tokenize
from .state import Simulator
from .streaming import ConnectionCut, EventStreamResponse, Pacer, frame

ROLES = frozenset({"system", "user", "assistant"})
MAX_TOKENS_RANGE = (1, 4096)
DEFAULT_MAX_TOKENS = 512
UNFINISHED = "null"
# Events carry a couple of tokens each, like the real service's small increments.
TOKENS_PER_EVENT = 2
# Sent by a `malformed` fault: an event whose data is cut off mid-JSON.
MALFORMED_DATA = '{"output":{"finish_reason":"null","text":'


@dataclass(frozen=True)
class ChatCall:
    stream: bool
    team_docs: bool
    messages: list[dict[str, str]]
    kb_ids: list[str]
    max_tokens: int
    seed: int


def flag(query: dict[str, str], name: str) -> bool:
    value = query.get(name, "false").strip().lower()
    if value not in ("true", "false", ""):
        raise bad_request(f"{name} must be true or false.")
    return value == "true"


def _messages(body: dict[str, Any]) -> list[dict[str, str]]:
    input_ = body.get("input")
    items = input_.get("messages") if isinstance(input_, dict) else None
    if not isinstance(items, list) or not items:
        raise bad_request("input.messages must be a non-empty list.")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            raise bad_request(f"input.messages[{index}].role must be system, user or assistant.")
        if not isinstance(item.get("content"), str):
            raise bad_request(f"input.messages[{index}].content must be a string.")
        if item["role"] == "system" and index != 0:
            raise bad_request("The system message must be the first of input.messages.")
    if items[-1]["role"] != "user":
        raise bad_request("The last of input.messages must be the user's question.")
    return [{"role": m["role"], "content": m["content"]} for m in items]


def _integer(parameters: dict[str, Any], name: str, default: int) -> int:
    value = parameters.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"parameters.{name} must be an integer.")
    return value


def _unit_range(parameters: dict[str, Any], name: str) -> None:
    value = parameters.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise bad_request(f"parameters.{name} must be a number in [0, 1], got {value!r}.")


def parse(sim: Simulator, query: dict[str, str], body: Any) -> ChatCall:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise bad_request("parameters must be an object.")
    max_tokens = _integer(parameters, "max_tokens", DEFAULT_MAX_TOKENS)
    low, high = MAX_TOKENS_RANGE
    if not low <= max_tokens <= high:
        raise bad_request(f"parameters.max_tokens must be in [{low}, {high}], got {max_tokens}.")
    _unit_range(parameters, "temperature")
    _unit_range(parameters, "top_p")
    _integer(parameters, "top_k", 0)
    kb_ids = body.get("kbIds") or []
    if not isinstance(kb_ids, list) or not all(isinstance(k, str) for k in kb_ids):
        raise bad_request("kbIds must be a list of knowledge base ids.")
    sim.knowledge.check_chat_ids(kb_ids)
    return ChatCall(
        stream=flag(query, "stream"),
        team_docs=flag(query, "teamDocs"),
        messages=_messages(body),
        kb_ids=kb_ids,
        max_tokens=max_tokens,
        seed=_integer(parameters, "seed", DEFAULT_SEED),
    )


@dataclass
class Answer:
    request_id: str
    chunks: list[str]
    finish_reason: str
    input_tokens: int

    def usage(self, output_tokens: int) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": output_tokens}

    def payload(self, text: str, finish_reason: str, output_tokens: int) -> dict[str, Any]:
        return {
            "output": {"finish_reason": finish_reason, "text": text},
            "requestId": self.request_id,
            "usage": self.usage(output_tokens),
        }


def answer(sim: Simulator, call: ChatCall, request_id: str) -> Answer:
    system = call.messages[0]["content"] if call.messages[0]["role"] == "system" else ""
    question = call.messages[-1]["content"]
    # kbIds without teamDocs retrieve nothing (DMS_LINGMA_API.md Q8; see the package docstring).
    match = sim.knowledge.retrieve(question, call.kb_ids) if call.team_docs else None
    text = compose(system, question, seed=call.seed, team_docs=call.team_docs, match=match)
    tokens = tokenize(text)
    finish_reason = "stop"
    if len(tokens) > call.max_tokens:
        tokens, finish_reason = tokens[: call.max_tokens], "length"
    chunks = [
        "".join(tokens[i : i + TOKENS_PER_EVENT]) for i in range(0, len(tokens), TOKENS_PER_EVENT)
    ]
    input_tokens = sum(count_tokens(m["content"]) for m in call.messages)
    if match is not None:
        input_tokens += count_tokens(match.sentence)
    return Answer(request_id, chunks, finish_reason, input_tokens)


async def respond(sim: Simulator, call: ChatCall, request_id: str, fault: Fault | None) -> Response:
    reply = answer(sim, call, request_id)
    if not call.stream:
        pacer = Pacer(sim.config)
        await pacer.first_token()
        text = "".join(reply.chunks)
        await pacer.after(count_tokens(text))
        payload = reply.payload(text, reply.finish_reason, count_tokens(text))
        return JSONResponse(payload, headers={"x-request-id": request_id})
    return EventStreamResponse(_events(sim, reply, fault), request_id)


async def _events(sim: Simulator, reply: Answer, fault: Fault | None) -> AsyncIterator[str]:
    config = sim.config
    cumulative = config.text_mode == "cumulative"
    pacer = Pacer(config)
    await pacer.first_token()
    last = len(reply.chunks) - 1
    strike_at = None if fault is None else min(fault.after_events, last)
    sent, sent_tokens = "", 0
    for index, chunk in enumerate(reply.chunks):
        if fault is not None and index == strike_at:
            if fault.kind == "cut":
                raise ConnectionCut
            if fault.kind == "stream_error":
                yield frame(fault.error().body(reply.request_id))
                return
            if fault.kind == "malformed":
                yield frame(MALFORMED_DATA)
            elif fault.kind == "stall":
                await asyncio.sleep(fault.seconds)
        sent += chunk
        sent_tokens += count_tokens(chunk)
        reason = reply.finish_reason if index == last else UNFINISHED
        yield frame(reply.payload(sent if cumulative else chunk, reason, sent_tokens))
        if index != last:
            await pacer.after(count_tokens(chunk))
    if config.end_marker == "done":
        yield frame("[DONE]")
    elif config.end_marker == "event":
        yield frame({"requestId": reply.request_id}, "finish")
