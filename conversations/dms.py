"""The DMS adapter of the reply-stream seam: Qwen through DMS `ChatWithDesensitizeSSE`.

DMS keeps no conversation: every request carries the persona and the recent turns
(`conversations.persona`), so there is nothing upstream to stop, regenerate, reset or import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from django.conf import settings
from django.utils.translation import gettext as _
from pydantic import ValidationError

from characters.platform_settings import dms_options
from conversations import persona
from conversations.replies import (
    Finished,
    ReasoningDelta,
    ReplyError,
    ReplyEvent,
    ReplyIds,
    ReplyRequest,
    TextDelta,
    Usage,
)
from conversations.stateless import StatelessReplies, describe_failure
from platforms.dms.errors import DmsError
from platforms.dms.types import DmsChatRequest, DmsMessage
from platforms.xingchen.types import new_seed
from project.upstream import dms


class DmsReplies(StatelessReplies):
    name: Literal["dms"] = "dms"

    async def stream(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
        chat = _chat_request(request)
        request_id = finish_reason = ""
        try:
            async for event in dms().chat_stream(chat):
                if event.request_id and not request_id:
                    request_id = event.request_id
                    yield ReplyIds(request_id=request_id)
                if event.reasoning:
                    yield ReasoningDelta(event.reasoning)
                if event.text:
                    yield TextDelta(event.text)
                if event.usage is not None:
                    usage = event.usage
                    yield Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0)
                finish_reason = event.finish_reason or finish_reason
        except DmsError as exc:
            raise describe_failure(exc) from exc
        # Usage comes in a chunk after the one that finished: the stream ends at EOF.
        yield Finished(finish_reason or "stop")


DMS = DmsReplies()


def _chat_request(request: ReplyRequest) -> DmsChatRequest:
    messages = [
        DmsMessage(role=role, content=text) for role, text in persona.chat_messages(request)
    ]
    options = dms_options(request.character)
    if request.is_alternative:
        options.setdefault("seed", new_seed())  # sampled afresh, so the new reply differs
    try:
        return DmsChatRequest(
            instance_id=settings.DMS_INSTANCE_ID, messages=messages, include_usage=True, **options
        )
    except ValidationError as exc:
        raise ReplyError(
            _("This character's model settings are not accepted; an editor must fix them.")
        ) from exc
