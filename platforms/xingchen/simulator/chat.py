"""Single-character chat: chat/send (streaming and not) and chat/stop.

Validation follows Xingchen: `input.aca.userProfile.userId` is required, the last message must be
the user's unless regenerating, and only one chat per userId may be in flight: a second one is
refused with HTTP 429 `ConcurrentChatNotAllowed` until the first ends, errors or is stopped.
`input.aca.context.useChatHistory` is required and must be true, as the seed doc says (§12 item
13): missing is 400 `MissingParameter`, anything but true 400 `InvalidParameter`.

chat/stop takes only the requestId of a streaming chat that is still running: it ends that
stream and stores `content` as the answer. A non-streaming chat (which cannot be stopped, §4.7),
a stream that already ended, or an unknown id gets 404 `RequestNotFound`.

When the `stamp_events` control flag is on, each streamed chat records its result events as
(reply characters so far, wall-clock time just before writing) for benchmarks (streaming.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from . import characters, history, images
from .errors import ApiError, bad_request, new_id, not_found
from .gateway import Call
from .generation import Generation
from .history import Session
from .params import integer, obj, text
from .replies import DEFAULT_SEED, Persona, compose, count_tokens
from .state import Simulator
from .streaming import EventStamps, EventStreamResponse, stamped

DEFAULT_MODEL = "xingchen-plus-v2"
ROLES = frozenset({"system", "user", "assistant", "function"})
SSE_HEADERS = ("x-aca-sse", "x-dashscope-sse")


@dataclass(frozen=True)
class Options:
    seed: int
    incremental: bool
    max_length: int | None
    model: str


def options(body: dict[str, Any]) -> Options:
    parameters = obj(body.get("parameters"), "parameters")
    seed = integer(parameters.get("seed"), "parameters.seed")
    max_length = integer(parameters.get("maxLength"), "parameters.maxLength")
    if max_length is not None and max_length < 1:
        raise bad_request("InvalidParameter", "parameters.maxLength must be 1 or more.")
    incremental = parameters.get("incrementalOutput", False)
    if not isinstance(incremental, bool):
        raise bad_request("InvalidParameter", "parameters.incrementalOutput must be a boolean.")
    model = body.get("model") or parameters.get("modelName") or DEFAULT_MODEL
    return Options(DEFAULT_SEED if seed is None else seed, incremental, max_length, str(model))


def messages(input_: dict[str, Any], *, regenerate: bool) -> list[dict[str, Any]]:
    items = input_.get("messages") or []
    if not isinstance(items, list):
        raise bad_request("InvalidParameter", "input.messages must be a list.")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            raise bad_request(
                "InvalidMessageRole",
                f"input.messages[{index}].role must be one of system, user, assistant, function.",
            )
        if not isinstance(item.get("content"), str):
            raise bad_request("InvalidParameter", f"input.messages[{index}].content is required.")
        if item["role"] == "system" and index != 0:
            raise bad_request("InvalidMessageRole", "A system message is only allowed first.")
    if not regenerate:
        if not items:
            raise bad_request("MissingMessages", "input.messages must hold the user's question.")
        if items[-1]["role"] != "user":
            raise bad_request(
                "LastMessageNotUser", "The last element of input.messages must be the user's."
            )
    return items


def check_use_chat_history(context: dict[str, Any]) -> None:
    value = context.get("useChatHistory")
    if value is None:
        raise bad_request("MissingParameter", "input.aca.context.useChatHistory is required.")
    if value is not True:
        raise bad_request("InvalidParameter", "input.aca.context.useChatHistory must be true.")


def check_sse_headers(call: Call, streaming: bool) -> None:
    enabled = call.header_enabled(*SSE_HEADERS)
    if streaming and not enabled:
        raise bad_request("MissingSSEHeader", "Streaming calls must send X-AcA-SSE: enable.")
    if not streaming and enabled:
        raise bad_request(
            "UnexpectedSSEHeader", "X-AcA-SSE: enable needs the streaming servicename."
        )


def _platform_plugins_draw(aca: dict[str, Any]) -> bool:
    return characters.image_plugin_enabled({"platformPlugins": aca.get("platformPlugins")})


def resolve_persona(sim: Simulator, aca: dict[str, Any]) -> tuple[Persona, int, str | None]:
    """(persona, characterPk, characterId or None for an inline botProfile)."""
    bot = obj(aca.get("botProfile"), "input.aca.botProfile")
    character_id = text(bot, "characterId", "botProfile.characterId")
    functions = tuple(f for f in aca.get("functionList") or () if isinstance(f, dict))
    if character_id:
        row = characters.character_row(sim, character_id)
        if row["config_status"] == "out":
            raise bad_request(
                "CharacterOffShelf", "The character is off the shelf and cannot chat."
            )
        found = characters.persona(sim, character_id, integer(bot.get("version"), "version"))
        if functions:
            found = dataclasses.replace(found, functions=functions)
        if _platform_plugins_draw(aca):
            found = dataclasses.replace(found, draws_images=True)
        return found, int(row["pk"]), character_id
    name = text(bot, "name", "botProfile.name")
    content = text(bot, "content", "botProfile.content")
    if not name or not content:
        raise bad_request(
            "MissingParameter",
            "botProfile.characterId, or botProfile.name and botProfile.content, are required.",
        )
    inline = Persona(
        key=f"inline:{name}",
        name=name,
        basic_information=content,
        traits=text(bot, "traits"),
        draws_images=_platform_plugins_draw(aca),
        functions=functions,
    )
    return inline, 0, None


@dataclass
class Turn:
    """Where one chat turn's question and answer live, and the ids the events report."""

    session: Session | None
    user_id: str
    user_text: str
    chat_id: str
    query_id: str
    answer_id: str
    regenerate_times: int
    history_tokens: int


def _begin_turn(
    sim: Simulator,
    character_id: str | None,
    user_id: str,
    user_name: str | None,
    items: list[dict[str, Any]],
    context: dict[str, Any],
) -> Turn:
    regenerate = bool(context.get("isRegenerate"))
    answer_id = new_id()
    if character_id is None:
        user_text = next((m["content"] for m in reversed(items) if m["role"] == "user"), "")
        tokens = sum(count_tokens(m["content"]) for m in items)
        return Turn(None, user_id, user_text, new_id(), new_id(), answer_id, 0, tokens)
    session = history.open_session(sim, character_id, user_id)
    adopted = text(context, "answerId", "context.answerId")
    if adopted and not regenerate:
        history.adopt(sim, session, adopted)
    if regenerate:
        query = _query_to_regenerate(sim, session, text(context, "queryId", "context.queryId"))
        answers = sim.store.scalar(
            "SELECT COUNT(*) FROM messages WHERE query_id = ?", (query["message_id"],)
        )
        tokens = sum(count_tokens(t) for t in history.context_texts(sim, session, query["seq"]))
        return Turn(
            session,
            user_id,
            query["content"],
            query["chat_id"],
            query["message_id"],
            answer_id,
            int(answers),
            tokens,
        )
    user_text = items[-1]["content"]
    tokens = sum(count_tokens(t) for t in history.context_texts(sim, session))
    chat_id = new_id()
    query_id = history.add_message(
        sim, session, message_type="user", content=user_text, chat_id=chat_id, user_name=user_name
    )
    return Turn(session, user_id, user_text, chat_id, query_id, answer_id, 0, tokens)


def _query_to_regenerate(sim: Simulator, session: Session, query_id: str) -> Any:
    if query_id:
        row = sim.store.one(
            "SELECT * FROM messages WHERE message_id = ? AND session_id = ? "
            "AND message_type = 'user'",
            (query_id, session.session_id),
        )
        if row is None:
            raise bad_request(
                "InvalidQueryId", f"queryId {query_id} is not a question in the current session."
            )
        return row
    row = sim.store.one(
        "SELECT * FROM messages WHERE session_id = ? AND message_type = 'user' "
        "ORDER BY seq DESC LIMIT 1",
        (session.session_id,),
    )
    if row is None:
        raise bad_request("MissingQueryId", "context.queryId is required to regenerate.")
    return row


def _finisher(sim: Simulator, turn: Turn, request_id: str, prompt: str, draws: bool) -> Any:
    def finish(final_text: str) -> None:
        if turn.session is None:
            return
        history.add_message(
            sim,
            turn.session,
            message_type="character",
            content=final_text,
            message_id=turn.answer_id,
            chat_id=turn.chat_id,
            query_id=turn.query_id,
            request_id=request_id,
            regenerate_times=turn.regenerate_times,
        )
        if turn.regenerate_times:
            sim.store.run(
                "UPDATE messages SET regenerate_times = ? WHERE message_id = ?",
                (turn.regenerate_times, turn.query_id),
            )
        if draws:
            images.create_task(sim, turn.answer_id, prompt)

    return finish


def _context(
    turn: Turn, request_id: str, character_pk: int, model: str, saved: bool
) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "sessionId": turn.session.session_id if turn.session else new_id(),
        "chatId": turn.chat_id,
        "chatRoomId": turn.session.room_id if turn.session else 0,
        "queryId": turn.query_id,
        "answerId": turn.answer_id,
        "messageId": turn.answer_id,
        "replyMessageId": turn.query_id,
        "modelRequestId": new_id(),
        "isSave": saved,
        "enableDataInspection": False,
        "characterPk": character_pk,
        "modelName": model,
    }


async def send(call: Call) -> Response | dict[str, Any]:
    streaming = call.servicename.endswith("-sse")
    check_sse_headers(call, streaming)
    sim = call.sim
    input_ = obj(call.body.get("input"), "input")
    aca = obj(input_.get("aca"), "input.aca")
    profile = obj(aca.get("userProfile"), "input.aca.userProfile")
    user_id = text(profile, "userId", "input.aca.userProfile.userId", required=True)
    context = obj(aca.get("context"), "input.aca.context")
    check_use_chat_history(context)
    items = messages(input_, regenerate=bool(context.get("isRegenerate")))
    opts = options(call.body)
    persona, character_pk, character_id = resolve_persona(sim, aca)
    if user_id in sim.busy_users:
        raise ApiError(
            429,
            "ConcurrentChatNotAllowed",
            "A chat for this userId is still in progress; wait for it to finish.",
        )
    user_name = text(profile, "userName") or None
    turn = _begin_turn(sim, character_id, user_id, user_name, items, context)
    reply = compose(persona, turn.user_text, seed=opts.seed, user_name=user_name)
    generation = Generation(
        sim,
        request_id=call.request_id,
        reply=reply,
        context=_context(turn, call.request_id, character_pk, opts.model, turn.session is not None),
        incremental=opts.incremental,
        max_length=opts.max_length,
        input_tokens=count_tokens(persona.basic_information)
        + turn.history_tokens
        + count_tokens(turn.user_text),
        user_tokens=count_tokens(turn.user_text),
        on_finish=_finisher(sim, turn, call.request_id, turn.user_text, reply.wants_image),
        user_id=user_id,
    )
    if streaming:
        return _stream(call, generation, user_id)
    # Its caller learns the requestId only when it ends, so it is no stream chat/stop can reach.
    sim.streams.pop(call.request_id, None)
    return await generation.complete()


def _stream(call: Call, generation: Generation, user_id: str) -> EventStreamResponse:
    # The stamps live on the app beside the Simulator: benchmark bookkeeping, not API state.
    stamps: EventStamps = call.request.app.state.stamps
    record = stamps.start(call.request_id, user_id)
    if record is None:
        return generation.response(call.fault)
    events = stamped(generation.events(call.fault), record, lambda: len(generation.sent))
    return EventStreamResponse(events, on_close=generation.close)


def stop(sim: Simulator, body: dict[str, Any]) -> bool:
    """Ends a running stream; `content` (the caller's partial text) becomes its answer."""
    request_id = text(body, "requestId", required=True)
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        raise bad_request("InvalidParameter", "content must be a string.")
    generation = sim.streams.get(request_id)
    if generation is None:
        raise not_found(
            "RequestNotFound",
            f"No streaming chat with requestId {request_id} is running "
            "(it ended, was not streamed, or never existed).",
        )
    generation.stop(content)
    return True
