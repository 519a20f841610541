"""Staff reminders: a message the character sends first, into a user's open conversation.

Xingchen is told first (`/v2/api/chat/reminder`), and only once it accepted the reminder is it
stored as the character's message and announced to the user's open chat sockets. A failure
therefore stores nothing, and a reminder Xingchen took but that was not stored here (the
database failing in between) still arrives through the history import.

Xingchen answers a reminder with a bare `true`, no message id, so the stored reminder has none;
the history import recognises it by role and text (its "twin" rule) and records the id then,
instead of importing it a second time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations import events
from conversations.models import ChatSession, Message
from conversations.replies import upstream_for
from conversations.services import biz_user_id
from platforms.xingchen.errors import XingchenError
from project.upstream import call_sync

# A staff page waits for this one call; Xingchen answers a reminder at once.
REMINDER_TIMEOUT_SECONDS = 30.0


class ReminderRefused(Exception):
    """The reminder was not sent (or not accepted upstream); the message says why."""

    def __init__(self, message: str, *, upstream: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.upstream = upstream  # Xingchen refused or failed, rather than the request itself


def reminder_sessions(*, search: str = "") -> QuerySet[ChatSession]:
    """Active conversations a reminder can go to, most recent first, filtered by the user's
    name or the character's name."""
    sessions = ChatSession.objects.filter(
        status=ChatSession.Status.ACTIVE, character__is_deleted=False
    ).exclude(character__remote_id="")
    search = search.strip()
    if search:
        sessions = sessions.filter(
            Q(user__username__icontains=search) | Q(character__name__icontains=search)
        )
    return sessions.select_related("user", "character").order_by("-updated_at", "-pk")


def reminder_session(session_id: int) -> ChatSession | None:
    """The conversation if a reminder can go to it, else None."""
    return reminder_sessions().filter(pk=session_id).first()


def reminder_context(*, session: ChatSession, size: int = 6) -> list[Message]:
    """The conversation's last messages (oldest first), so staff see what they remind about."""
    latest = Message.objects.filter(session=session, is_chosen=True).order_by("-pk")[:size]
    return list(reversed(latest))


def reminder_send(*, session: ChatSession, content: str) -> Message:
    """Sends `content` as the session's character to its user and stores it in the history.

    Raises ReminderRefused when the text is empty or too long, the conversation cannot take
    it, or Xingchen refuses it; nothing is stored then.
    """
    content = _valid_content(content)
    character = session.character
    if not session.is_active() or not character.is_available():
        raise ReminderRefused(
            character.unavailable_reason() or _("This conversation is archived and read-only.")
        )
    newest = Message.objects.filter(session=session).order_by("-pk").values_list("pk", flat=True)
    before = newest.first() or 0
    if not upstream_for(character).keeps_history:
        # DMS and Lingma know no conversation: the reminder joins the transcript sent later.
        return _store(session, content, after_pk=before)
    try:
        call_sync(
            lambda client: client.chat_reminder(
                character_id=character.remote_id,
                biz_user_id=biz_user_id(session.user_id),
                content=content,
            ),
            timeout=REMINDER_TIMEOUT_SECONDS,
        )
    except XingchenError as exc:
        message = _("Xingchen did not take the reminder: %(error)s") % {"error": exc.message}
        raise ReminderRefused(message, upstream=True) from exc
    except TimeoutError as exc:
        message = _(
            "Xingchen did not answer in time. Look at the conversation before sending again: "
            "a reminder Xingchen took anyway appears there when the chat next opens."
        )
        raise ReminderRefused(message, upstream=True) from exc
    return _store(session, content, after_pk=before)


def _valid_content(content: str) -> str:
    content = content.strip()
    if not content:
        raise ReminderRefused(_("Write the reminder before sending it."))
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(content) > limit:
        raise ReminderRefused(
            _("A reminder can be at most %(limit)d characters long.") % {"limit": limit}
        )
    return content


def _store(session: ChatSession, content: str, *, after_pk: int) -> Message:
    with transaction.atomic():
        # A socket opening meanwhile may have imported it from Xingchen already (and announced
        # it): that row is the reminder.
        imported = (
            Message.objects.filter(
                session=session,
                pk__gt=after_pk,
                role=Message.Role.ASSISTANT,
                kind=Message.Kind.REMINDER,
                content=content,
            )
            .order_by("pk")
            .first()
        )
        if imported is not None:
            return imported
        reminder = Message.objects.create(
            session=session,
            role=Message.Role.ASSISTANT,
            kind=Message.Kind.REMINDER,
            content=content,
            state=Message.State.COMPLETE,
        )
        ChatSession.objects.filter(pk=session.pk).update(updated_at=timezone.now())
        events.message_created(reminder, character=session.character)
    return reminder
