"""Group chat (streaming and not) and next-speaker selection. Group chats keep no history."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import Response

from . import characters
from .chat import check_sse_headers, options
from .errors import bad_request, new_id
from .gateway import Call
from .generation import Generation
from .params import obj, text
from .replies import Persona, compose, count_tokens, is_chinese
from .state import Simulator

MAX_BOTS = 10


def _bots(sim: Simulator, aca: dict[str, Any]) -> list[tuple[Persona, int]]:
    profiles = aca.get("botProfiles")
    if not isinstance(profiles, list) or not 1 <= len(profiles) <= MAX_BOTS:
        raise bad_request(
            "InvalidBotProfiles", f"input.aca.botProfiles must hold 1 to {MAX_BOTS} characters."
        )
    bots = []
    for profile in profiles:
        profile = obj(profile, "botProfiles[]")
        character_id = text(profile, "characterId")
        if character_id:
            row = characters.character_row(sim, character_id)
            bots.append((characters.persona(sim, character_id), int(row["pk"])))
            continue
        name = text(profile, "name", "botProfiles[].name", required=True)
        content = text(profile, "content", "botProfiles[].content", required=True)
        bots.append((Persona(key=f"inline:{name}", name=name, basic_information=content), 0))
    return bots


def _group(call: Call) -> tuple[dict[str, Any], list[tuple[Persona, int]], list[dict[str, Any]]]:
    input_ = obj(call.body.get("input"), "input")
    aca = obj(input_.get("aca"), "input.aca")
    text(obj(aca.get("userProfile"), "userProfile"), "userId", "userProfile.userId", required=True)
    text(obj(aca.get("groupInfo"), "groupInfo"), "name", "groupInfo.name", required=True)
    items = input_.get("messages") or []
    if not isinstance(items, list) or not all(isinstance(m, dict) for m in items):
        raise bad_request("InvalidParameter", "input.messages must be a list of messages.")
    return aca, _bots(call.sim, aca), items


def _named_speaker(aca: dict[str, Any], bots: list[tuple[Persona, int]]) -> int | None:
    bot_name = text(obj(aca.get("replySetting"), "replySetting"), "botName")
    if not bot_name:
        return None
    for index, (persona, _) in enumerate(bots):
        if persona.name == bot_name:
            return index
    raise bad_request("InvalidBotName", f"replySetting.botName {bot_name!r} is not in the group.")


def _next_index(aca: dict[str, Any], bots: list[tuple[Persona, int]], items: list[dict]) -> int:
    named = _named_speaker(aca, bots)
    if named is not None:
        return named
    names = [persona.name for persona, _ in bots]
    for item in reversed(items):
        if item.get("role") == "assistant" and item.get("name") in names:
            return (names.index(item["name"]) + 1) % len(names)
    return 0


def _context(call: Call, aca: dict[str, Any], pk: int, model: str) -> dict[str, Any]:
    group_name = str(obj(aca.get("groupInfo"), "groupInfo").get("name"))
    room = int.from_bytes(hashlib.sha256(group_name.encode()).digest()[:4], "big")
    query_id, answer_id = new_id(), new_id()
    return {
        "requestId": call.request_id,
        "sessionId": hashlib.sha256(f"group:{group_name}".encode()).hexdigest()[:32],
        "chatId": new_id(),
        "chatRoomId": room,
        "queryId": query_id,
        "answerId": answer_id,
        "messageId": answer_id,
        "replyMessageId": query_id,
        "modelRequestId": new_id(),
        "isSave": False,
        "enableDataInspection": False,
        "characterPk": pk,
        "modelName": model,
    }


async def send(call: Call) -> Response | dict[str, Any]:
    streaming = call.servicename.endswith("-sse")
    check_sse_headers(call, streaming)
    aca, bots, items = _group(call)
    opts = options(call.body)
    # The named bot replies; without replySetting.botName the group's first character does.
    persona, pk = bots[_named_speaker(aca, bots) or 0]
    last_text = str(items[-1].get("content") or "") if items else ""
    user_name = text(obj(aca.get("userProfile"), "userProfile"), "userName") or None
    generation = Generation(
        call.sim,
        request_id=call.request_id,
        reply=compose(persona, last_text, seed=opts.seed, user_name=user_name),
        context=_context(call, aca, pk, opts.model),
        incremental=opts.incremental,
        max_length=opts.max_length,
        input_tokens=sum(count_tokens(str(m.get("content") or "")) for m in items),
        user_tokens=count_tokens(last_text),
        speaker=persona.name,
    )
    if streaming:
        return generation.response(call.fault)
    return await generation.complete()


def next_speaker(call: Call) -> dict[str, Any]:
    aca, bots, items = _group(call)
    persona, pk = bots[_next_index(aca, bots, items)]
    chinese = is_chinese(" ".join(str(m.get("content") or "") for m in items) or persona.name)
    thought = (
        f"{persona.name}与当前话题最相关，接下来由{persona.name}发言。"
        if chinese
        else f"{persona.name} is the best fit for the current topic and should speak next."
    )
    return {
        "name": persona.name,
        "thought": thought,
        "usage": {
            "inputTokens": sum(count_tokens(str(m.get("content") or "")) for m in items),
            "outputTokens": count_tokens(thought),
        },
        "context": _context(call, aca, pk, options(call.body).model),
    }
