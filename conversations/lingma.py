"""The Lingma adapter of the reply-stream seam: Yunxiao Lingma `ExecuteChat`.

Lingma keeps no conversation: every request carries the persona and the recent turns
(`conversations.persona`), and answers from the organisation's knowledge bases when the
character says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from django.utils.translation import gettext as _
from pydantic import ValidationError

from characters.platform_settings import lingma_parameters
from conversations import persona
from conversations.replies import (
    Finished,
    ReplyError,
    ReplyEvent,
    ReplyIds,
    ReplyRequest,
    TextDelta,
    Usage,
)
from conversations.stateless import StatelessReplies, describe_failure
from platforms.lingma.errors import LingmaError
from platforms.lingma.types import LingmaChatRequest, LingmaMessage, LingmaParameters
from platforms.xingchen.types import new_seed
from project.upstream import lingma


class LingmaReplies(StatelessReplies):
    name: Literal["lingma"] = "lingma"

    async def stream(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
        chat = _chat_request(request)
        request_id = ""
        try:
            async for event in lingma().chat_stream(chat):
                if event.request_id and not request_id:
                    request_id = event.request_id
                    yield ReplyIds(request_id=request_id)
                if event.text:
                    yield TextDelta(event.text)
                if event.usage is not None:
                    yield Usage(event.usage.input_tokens or 0, event.usage.output_tokens or 0)
                if event.finish_reason:
                    yield Finished(event.finish_reason)
                    return
        except LingmaError as exc:
            raise describe_failure(exc) from exc
        yield Finished("stop")


LINGMA = LingmaReplies()


def _chat_request(request: ReplyRequest) -> LingmaChatRequest:
    character = request.character
    messages = [
        LingmaMessage(role=role, content=text) for role, text in persona.chat_messages(request)
    ]
    try:
        parameters = lingma_parameters(character)
        if request.is_alternative and (parameters is None or parameters.seed is None):
            # Lingma's default seed is fixed: a regenerated reply needs its own to differ.
            parameters = LingmaParameters(
                **(parameters.model_dump(exclude_none=True) if parameters else {}),
                seed=new_seed(),
            )
        return LingmaChatRequest(
            messages=messages,
            team_docs=character.lingma_team_docs,
            kb_ids=list(character.lingma_kb_ids) if character.lingma_team_docs else [],
            parameters=parameters,
        )
    except ValidationError as exc:
        raise ReplyError(
            _("This character's model settings are not accepted; an editor must fix them.")
        ) from exc
