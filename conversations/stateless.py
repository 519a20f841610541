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

from django.utils.translation import gettext as _

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
        return ReplyError(
            busy_sentence(retry_after),
            code="rate_limited",
            retryable=True,
            retry_after=retry_after,
        )
    return ReplyError(_sentence(exc), retryable=exc.retryable, retry_after=retry_after)


def busy_sentence(retry_after: float | None) -> str:
    """What every platform's "too many requests" says; the page counts the wait down."""
    if retry_after:
        return _("The model is busy, try again in %(seconds)s s.") % {
            "seconds": math.ceil(retry_after)
        }
    return _("The model is busy, try again in a few seconds.")


def _sentence(exc: UpstreamError) -> str:
    if exc.kind == "timeout":
        return _("The model stopped answering in the middle of the reply.")
    if exc.kind in ("cut", "network"):
        return _("The connection to the model broke off.")
    if exc.kind == "malformed":
        return _("The model sent something unreadable, so the reply ended early.")
    if exc.kind == "stream":
        return _("The model could not answer: %(detail)s") % {"detail": exc.message[:160]}
    if exc.status in (401, 403, 404) and exc.kind == "http":
        return _("The chat service refused this site's credentials; tell the site's operator.")
    if exc.status is not None and exc.status >= 500:
        return _("The chat service had a server error (HTTP %(status)s); try again.") % {
            "status": exc.status
        }
    return _("The model could not answer: %(detail)s") % {"detail": exc.message[:160]}
