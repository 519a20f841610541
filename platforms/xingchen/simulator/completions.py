"""OpenAI-style completions: snake_case bodies, responses not wrapped in the envelope.

Streaming sends incremental `data:` chunks (each with `delta` and, for the SDK, `message`) and
ends with an `event:stop` chunk that carries `finish_reason` and `usage`; no `[DONE]` sentinel,
which the SDK would fail to parse. `max_tokens` and `stop` (stop sequences) end a reply early.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse, Response

from .errors import bad_request, error_body, new_id
from .faults import Fault
from .gateway import Call
from .generation import MALFORMED_DATA
from .params import integer
from .replies import (
    DEFAULT_SEED,
    Persona,
    Reply,
    compose,
    count_tokens,
    function_arguments,
    tokenize,
)
from .streaming import EventStreamResponse, Pacer, chunk_tokens, frame

ROLES = frozenset({"system", "user", "assistant", "tool"})
_PERSONA_NAME = re.compile(
    r"(?:你是|你叫|扮演)\s*「?([^，。,.!！?？」\s]{1,12})|\byou are\s+([A-Z][\w-]*)", re.I
)


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("messages")
    if not isinstance(items, list) or not items:
        raise bad_request("MissingParameter", "messages must hold at least one message.")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            raise bad_request(
                "InvalidMessageRole",
                f"messages[{index}].role must be system, user, assistant or tool.",
            )
    return items


def _persona(items: list[dict[str, Any]], model: str) -> Persona:
    system = next((str(m.get("content") or "") for m in items if m["role"] == "system"), "")
    match = _PERSONA_NAME.search(system)
    name = (match.group(1) or match.group(2)) if match else ""
    return Persona(key=f"completions:{model}", name=name, basic_information=system)


def _tool_call(body: dict[str, Any], user_text: str) -> dict[str, Any] | None:
    tools = [t for t in body.get("tools") or () if isinstance(t, dict)]
    choice = body.get("tool_choice")
    if not tools or choice == "none":
        return None
    forced = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    lowered = user_text.lower()
    for tool in tools:
        function = tool.get("function") or {}
        name = str(function.get("name") or "")
        if name and (name == forced or name.lower() in lowered or choice == "required"):
            arguments = function_arguments(function.get("parameters"), user_text, name)
            return {
                "id": f"call_{new_id()[:24]}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)},
            }
    return None


def _cut_at_stop(text: str, stop: Any) -> str:
    """The text before the first stop sequence (`stop`: a string or a list of strings)."""
    words = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    cuts = [text.find(w) for w in words if isinstance(w, str) and w and w in text]
    return text[: min(cuts)] if cuts else text


def _plan(body: dict[str, Any]) -> tuple[str, Reply, list[str], str, dict[str, Any] | None, int]:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("MissingParameter", "model is required.")
    items = _messages(body)
    user_text = next(
        (str(m.get("content") or "") for m in reversed(items) if m["role"] == "user"), ""
    )
    seed = integer(body.get("seed"), "seed")
    reply = compose(_persona(items, model), user_text, seed=DEFAULT_SEED if seed is None else seed)
    tool_call = _tool_call(body, user_text)
    tokens = [] if tool_call else tokenize(_cut_at_stop(reply.text, body.get("stop")))
    finish = "tool_calls" if tool_call else "stop"
    max_tokens = integer(body.get("max_tokens"), "max_tokens")
    if max_tokens is not None and len(tokens) > max_tokens:
        tokens, finish = tokens[:max_tokens], "length"
    prompt_tokens = sum(count_tokens(str(m.get("content") or "")) for m in items)
    return model, reply, tokens, finish, tool_call, prompt_tokens


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


async def complete(call: Call) -> Response:
    model, _, tokens, finish, tool_call, prompt_tokens = _plan(call.body)
    streaming = call.body.get("stream") is True or call.header_enabled(
        "x-aca-sse", "x-dashscope-sse"
    )
    completion_id = f"chatcmpl-{call.request_id}"
    if streaming:
        events = _stream(call, completion_id, model, tokens, finish, tool_call, prompt_tokens)
        return EventStreamResponse(events, on_close=lambda: None)
    pacer = Pacer(call.sim.config, asyncio.Event())
    await pacer.first_token()
    await pacer.after(len(tokens))
    message: dict[str, Any] = {"role": "assistant", "content": "".join(tokens)}
    if tool_call:
        message["tool_calls"] = [tool_call]
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
            "usage": _usage(prompt_tokens, len(tokens)),
        }
    )


def _chunk(completion_id: str, model: str, piece: str, finish: str | None) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "delta": {"role": "assistant", "content": piece},
                "message": {"role": "assistant", "content": piece},
            }
        ],
    }


async def _stream(
    call: Call,
    completion_id: str,
    model: str,
    tokens: list[str],
    finish: str,
    tool_call: dict[str, Any] | None,
    prompt_tokens: int,
) -> AsyncIterator[str]:
    fault: Fault | None = call.fault
    pacer = Pacer(call.sim.config, asyncio.Event())
    await pacer.first_token()
    for index, piece in enumerate(chunk_tokens(tokens)):
        if fault is not None and index == fault.after_events:
            if fault.kind == "cut":
                return
            if fault.kind == "error_event":
                yield frame(error_body(call.request_id, fault.error()), "error")
                return
            if fault.kind == "malformed":
                yield frame(MALFORMED_DATA, None)
            elif fault.kind == "stall":
                await pacer.stall(fault.seconds)
        if index:
            await pacer.after(len(tokenize(piece)))
        yield frame(_chunk(completion_id, model, piece, None), None)
    last = _chunk(completion_id, model, "", finish)
    if tool_call:
        last["choices"][0]["delta"]["tool_calls"] = [tool_call]
        last["choices"][0]["message"]["tool_calls"] = [tool_call]
    last["usage"] = _usage(prompt_tokens, len(tokens))
    yield frame(last, "stop")
