"""The reply-stream seam: what any upstream chat platform yields while it writes a reply.

The chat code (`streaming`, `services`, the consumer) speaks only these types; one adapter per
platform (`conversations.xingchen`, `.dms`, `.lingma`) maps its client's events and errors to
them. `upstream_for(character)` is the one place that chooses the platform of a character.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from conversations.protocol import ErrorCode

if TYPE_CHECKING:
    from characters.models import Character
    from memories.services import ChatMemory


@dataclass(frozen=True)
class TranscriptLine:
    """An earlier message of the conversation, for platforms that keep none themselves."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class ReplyRequest:
    """One turn as an upstream needs it; texts have already passed `outbound_text`."""

    character: Character
    user_id: str  # the id the upstream knows the user by
    content: str
    user_name: str
    user_basic_info: str
    scenario: str
    is_regenerate: bool = False  # Xingchen regenerates a question it recorded
    is_alternative: bool = False  # another answer to an answered question: sample afresh
    remote_query_id: str | None = None  # the question's upstream id, to regenerate it
    answer_id: str | None = None  # the previous turn's adopted alternative
    memory: ChatMemory | None = None  # what the character remembers about the user
    # The turns before this one, oldest first, when the platform does not keep them.
    transcript: tuple[TranscriptLine, ...] = ()


@dataclass(frozen=True)
class ReplyIds:
    """Upstream ids learnt while streaming: needed to stop, regenerate and import later."""

    request_id: str = ""
    answer_id: str = ""
    query_id: str = ""
    chat_id: str = ""
    session_id: str = ""


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class TextReplaced:
    """The upstream rewrote its text instead of extending it: `text` is the whole new text."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class FunctionCall:
    thought: str
    calls: list[dict[str, object]] = field(default_factory=list)  # {"api_name", "parameters"}


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class RiskFlag:
    """The upstream flagged the reply: it must not be shown; `safe_answer` replaces it."""

    safe_answer: str


@dataclass(frozen=True)
class Finished:
    reason: str


@dataclass(frozen=True)
class HistoryRecord:
    """A message the upstream keeps for a conversation (made here or elsewhere)."""

    message_id: str
    role: Literal["user", "assistant"]
    is_opening: bool
    content: str
    chat_id: str
    session_id: str
    owner_id: str | None  # the upstream user id the record belongs to, when it says
    created_at: datetime | None


ReplyEvent = (
    ReplyIds
    | TextDelta
    | TextReplaced
    | ReasoningDelta
    | FunctionCall
    | Usage
    | RiskFlag
    | Finished
)


class ReplyError(Exception):
    """A reply the upstream could not (finish) writing; `message` is meant for people."""

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode = "upstream",
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code: ErrorCode = code
        self.retryable = retryable
        self.retry_after = retry_after


class ReplyUpstream(Protocol):
    """What the chat needs from a platform; every method is called on the server's loop."""

    name: Literal["xingchen", "dms", "lingma"]
    # Whether the platform keeps the conversation (and can import, regenerate and reset it);
    # when not, each request carries the transcript and the persona as a system prompt.
    keeps_history: bool

    def stream(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]: ...

    async def stop(self, *, request_id: str, text: str) -> None:
        """Tells the upstream the reply was stopped and which text to keep as its answer."""

    async def reset(self, *, character: Character, user_id: str) -> None:
        """Makes the upstream forget the user's conversation with the character."""

    async def history(
        self, *, character: Character, user_id: str, session_id: str, known: set[str]
    ) -> list[HistoryRecord]:
        """The conversation's records, oldest first, read back only until a `known` id."""


def upstream_for(character: Character) -> ReplyUpstream:
    """The platform that writes `character`'s replies."""
    from conversations import dms, lingma, xingchen

    platforms: dict[str, ReplyUpstream] = {
        "xingchen": xingchen.XINGCHEN,
        "dms": dms.DMS,
        "lingma": lingma.LINGMA,
    }
    return platforms.get(character.reply_platform, xingchen.XINGCHEN)
