from __future__ import annotations

import logging

from celery import shared_task

from conversations import services
from conversations.models import ChatSession
from platforms.xingchen.errors import XingchenError

logger = logging.getLogger(__name__)


@shared_task
def history_import(session_id: int) -> int:
    """Pulls the session's messages made elsewhere; new ones reach open sockets as frames.

    Not retried: it runs again each time the chat page is opened.
    """
    session = ChatSession.objects.select_related("character").filter(pk=session_id).first()
    if session is None:
        return 0
    try:
        return len(services.history_import(session=session))
    except XingchenError as exc:
        logger.warning("History of session %s not imported: %s", session_id, exc)
        return 0
