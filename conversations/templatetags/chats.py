from __future__ import annotations

from django import template
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.utils.html import format_html
from django.utils.safestring import SafeString

from conversations.models import ChatSession
from conversations.session_services import session_recent

register = template.Library()

EXCERPT_CHARS = 110


@register.inclusion_tag("conversations/_recent_chats.html")
def recent_chats(
    user: AbstractBaseUser | AnonymousUser, current_session: ChatSession | None = None
) -> dict[str, object]:
    """The user's recent chats, newest first, `current_session` marked (one query)."""
    sessions = session_recent(user=user) if user.is_authenticated else []
    current_id = current_session.pk if current_session is not None else None
    return {"recent_sessions": sessions, "current_id": current_id}


@register.filter
def search_excerpt(text: str | None, query: str) -> SafeString | str:
    """About EXCERPT_CHARS of `text` around the first match of `query`, the match marked."""
    text = " ".join((text or "").split())
    folded = text.lower()
    # A few characters change length when lowered: no mark rather than a misplaced one.
    at = folded.find(query.lower()) if query and len(folded) == len(text) else -1
    if at < 0:
        return text[:EXCERPT_CHARS]
    start = max(0, at - (EXCERPT_CHARS - len(query)) // 2)
    end = min(len(text), start + EXCERPT_CHARS)
    return format_html(
        "{}{}<mark>{}</mark>{}{}",
        "…" if start else "",
        text[start:at],
        text[at : at + len(query)],
        text[at + len(query) : end],
        "…" if end < len(text) else "",
    )
