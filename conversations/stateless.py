"""What the chat platforms that keep no conversation (DMS, Lingma) share.

Their adapters stop a reply by closing its stream, and have nothing upstream to reset or import.
Their clients raise errors of one shape (`platforms.upstream_error`), told to the chat user here
in one set of sentences: what happened and what to do, never a credential or the vendor's
internals.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from conversations.replies import HistoryRecord, ReplyError
from platforms.upstream_error import UpstreamError

if TYPE_CHECKING:
    from characters.models import Character

logger = logging.getLogger(__name__)


class StatelessReplies:
    """The base of an adapter whose platform keeps no conversation."""

    keeps_history = False

    async def stop(self, *, request_id: str, text: str) -> None:
        """Closing the stream is the stop: the platform keeps nothing to correct."""

    async def reset(self, *, character: Character, user_id: str) -> None:
        """Nothing to forget upstream: the conversation lives here only."""

    async def history(
        self, *, character: Character, user_id: str, session_id: str, known: set[str]
    ) -> list[HistoryRecord]:
        return []


def describe_failure(exc: UpstreamError) -> ReplyError:
    logger.warning(
        "Chat platform failure (%s, HTTP %s, %s): %s", exc.kind, exc.status, exc.code, exc.message
    )
    retry_after = exc.retry_after
    if exc.status == 429 or exc.code.startswith(("Throttling", "TooManyRequests")):
        wait = f"in {math.ceil(retry_after)} s" if retry_after else "in a few seconds"
        return ReplyError(
            f"The model is busy, try again {wait}.",
            code="rate_limited",
            retryable=True,
            retry_after=retry_after,
        )
    return ReplyError(_sentence(exc), retryable=exc.retryable, retry_after=retry_after)


def _sentence(exc: UpstreamError) -> str:
    if exc.kind == "timeout":
        return "The model stopped answering in the middle of the reply."
    if exc.kind in ("cut", "network"):
        return "The connection to the model broke off."
    if exc.kind == "malformed":
        return "The model sent something unreadable, so the reply ended early."
    if exc.kind == "stream":
        return f"The model could not answer: {exc.message[:160]}"
    if exc.status in (401, 403, 404) and exc.kind == "http":
        return "The chat service refused this site's credentials; tell the site's operator."
    if exc.status is not None and exc.status >= 500:
        return f"The chat service had a server error (HTTP {exc.status}); try again."
    return f"The model could not answer: {exc.message[:160]}"
