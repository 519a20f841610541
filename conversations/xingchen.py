"""The Xingchen adapter of the reply-stream seam (`conversations.replies`).

The only chat module that knows Xingchen's client, its event shapes and its errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal

from django.utils.translation import gettext as _

from characters.sync import character_function_defs
from conversations.replies import (
    Finished,
    FunctionCall,
    HistoryRecord,
    ReplyError,
    ReplyEvent,
    ReplyIds,
    ReplyRequest,
    RiskFlag,
    TextDelta,
    TextReplaced,
    Usage,
)
from conversations.stateless import busy_sentence
from platforms.xingchen.errors import XingchenError
from platforms.xingchen.types import ChatEvent, ChatMessage, ChatRequest, HistoryQuery, KvSchema
from platforms.xingchen.types import ChatMemory as UpstreamMemory
from platforms.xingchen.types import Message as UpstreamMessage
from project.upstream import xingchen

if TYPE_CHECKING:
    from characters.models import Character
    from memories.services import ChatMemory

HISTORY_PAGE_SIZE = 50
HISTORY_MAX_PAGES = 4


class XingchenReplies:
    name: Literal["xingchen"] = "xingchen"
    keeps_history = True

    async def stream(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
        try:
            async for event in _events(request):
                yield event
        except XingchenError as exc:
            raise reply_error(exc) from exc

    async def stop(self, *, request_id: str, text: str) -> None:
        try:
            await xingchen().chat_stop(request_id=request_id, content=text)
        except XingchenError as exc:
            raise reply_error(exc) from exc

    async def reset(self, *, character: Character, user_id: str) -> None:
        try:
            await xingchen().chat_reset(character_id=character.remote_id or "", user_id=user_id)
        except XingchenError as exc:
            raise reply_error(exc) from exc

    async def history(
        self, *, character: Character, user_id: str, session_id: str, known: set[str]
    ) -> list[HistoryRecord]:
        fetched: list[HistoryRecord] = []
        for page_num in range(1, HISTORY_MAX_PAGES + 1):
            query = HistoryQuery(
                character_id=character.remote_id or "",
                biz_user_id=user_id,
                session_id=session_id or None,
                page_num=page_num,
                page_size=HISTORY_PAGE_SIZE,
                order_by=["gmtCreate desc"],
            )
            try:
                page = await xingchen().message_histories(query)
            except XingchenError as exc:
                raise reply_error(exc) from exc
            fetched += [_record(m) for m in page.items if m.status != "reset" and m.message_id]
            if len(page.items) < HISTORY_PAGE_SIZE or any(
                m.message_id in known for m in page.items
            ):
                break
        return fetched[::-1]


XINGCHEN = XingchenReplies()


async def _events(request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
    ids = ReplyIds()
    flagged = False
    async for event in xingchen().chat_stream(_chat_request(request)):
        seen = _ids(event)
        if seen != ids:
            ids = seen
            yield ids
        if event.replaced:
            yield TextReplaced(event.text)
        elif event.delta:
            yield TextDelta(event.delta)
        if event.has_risk and not flagged:
            flagged = True
            yield RiskFlag(event.safety_std_answer or "")
        if event.usage is not None:
            yield Usage(event.usage.input_tokens or 0, event.usage.output_tokens or 0)
        if event.finished:
            if event.function_call is not None:
                yield _function_call(event)
            yield Finished(event.stop_reason or "stop")
            return


def _chat_request(request: ReplyRequest) -> ChatRequest:
    character = request.character
    return ChatRequest(
        character_id=character.remote_id or "",
        user_id=request.user_id,
        # Ignored by Xingchen when regenerating with its stored history, but never empty.
        messages=[UpstreamMessage(role="user", content=request.content)],
        user_name=request.user_name or None,
        user_basic_info=request.user_basic_info or None,
        scenario=request.scenario or None,
        is_regenerate=request.is_regenerate,
        query_id=request.remote_query_id,
        answer_id=request.answer_id,
        incremental_output=True,
        use_chat_history=True,
        model_name=character.model_name or None,
        temperature=character.temperature,
        top_p=character.top_p,
        top_k=character.top_k,
        max_length=character.max_length,
        function_list=character_function_defs(character),
        memory=_memory(request.memory),
    )


def _memory(memory: ChatMemory | None) -> UpstreamMemory | None:
    """Remembered facts as kv tags of the user, the latest summary as its sentences."""
    if not memory:
        return None
    tags = [KvSchema(role="user", key=f.key, values=list(f.values)) for f in memory.facts]
    return UpstreamMemory(summaries=list(memory.summary), tags=tags)


def _ids(event: ChatEvent) -> ReplyIds:
    context = event.context
    return ReplyIds(
        request_id=event.request_id or "",
        answer_id=context.answer_id or context.message_id or "",
        query_id=context.query_id or context.reply_message_id or "",
        chat_id=context.chat_id or "",
        session_id=context.session_id or "",
    )


def _function_call(event: ChatEvent) -> FunctionCall:
    assert event.function_call is not None
    calls = [
        {"api_name": c.api_name, "parameters": c.parameters} for c in event.function_call.api_calls
    ]
    return FunctionCall(thought=event.function_call.thought, calls=calls)


def _record(message: ChatMessage) -> HistoryRecord:
    return HistoryRecord(
        message_id=message.message_id,
        role="user" if message.issuer_type == "user" else "assistant",
        is_opening=message.message_type == "opening_remarks",
        content=message.content,
        chat_id=message.chat_id or "",
        session_id=message.session_id or "",
        owner_id=message.user_id,
        created_at=message.created_at,
    )


def reply_error(exc: XingchenError) -> ReplyError:
    """A Xingchen failure as a reply error with a sentence a user understands."""
    retry_after = exc.retry_after
    code, message = _describe(exc)
    return ReplyError(message, code=code, retryable=exc.retryable, retry_after=retry_after)


def _describe(exc: XingchenError) -> tuple[Literal["upstream", "rate_limited"], str]:
    # Chat users are told what happened in the same words whichever platform writes the reply.
    if exc.status == 429:
        return "rate_limited", busy_sentence(exc.retry_after)
    if exc.kind == "timeout":
        return "upstream", _("The model stopped answering in the middle of the reply.")
    if exc.kind in ("cut", "network"):
        return "upstream", _("The connection to the model broke off.")
    if exc.kind == "malformed":
        return "upstream", _("The model sent something unreadable, so the reply ended early.")
    if exc.status in (401, 403):
        return "upstream", _(
            "The chat service refused this site's credentials; tell the site's operator."
        )
    if exc.status is not None and exc.status >= 500:
        return "upstream", _(
            "The chat service had a server error (HTTP %(status)s); try again."
        ) % {"status": exc.status}
    return "upstream", _("The model could not answer: %(detail)s") % {"detail": exc.message[:160]}
