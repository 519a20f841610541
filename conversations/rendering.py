"""Message text to safe HTML.

Replies are markdown written by a model that anyone can prompt, so they are untrusted: the
markdown is rendered without raw HTML, then sanitised with an allowlist. Remote images are never
loaded by the page (a reply could use them to track its reader): each becomes a link the reader
may click. User messages are plain text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import nh3
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.template.loader import render_to_string
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, gettext_noop
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from characters.models import Character
from conversations.models import Message
from conversations.protocol import MessagePayload
from conversations.replies import upstream_for
from project.saved_text import SavedSentences
from ratings.services import feedback_of, is_rateable

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def _image_as_link(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or []) or "image"
    src = str(token.attrs.get("src", ""))
    return f'<a class="remote-image" href="{escape(src)}">image: {escape(alt)} (click to load)</a>'


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )
    md.add_render_rule("image", _image_as_link)
    return md


_md = _markdown()


def markdown_to_html(text: str) -> SafeString:
    """A reply as sanitised HTML: no scripts, handlers, `javascript:` links or loaded images."""
    html = nh3.clean(
        _md.render(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_relative="deny",
    )
    return mark_safe(html)  # noqa: S308 - sanitised by nh3 just above


def plain_text_to_html(text: str) -> SafeString:
    """A user's message: escaped text, its line breaks kept."""
    return mark_safe(linebreaks(escape(text)))  # noqa: S308 - escaped just above


# --- one message, as the page, the socket frames and the tasks all show it --------------------

WITHHELD = gettext_lazy("This reply was withheld by the content check.")
# A reply's error is saved in English; these are the sentences with values it is made from.
REPLY_ERRORS = SavedSentences(
    [
        gettext_noop("%(error)s The text so far is kept."),
        gettext_noop("The model is busy, try again in %(seconds)s s."),
        gettext_noop("The chat service had a server error (HTTP %(status)s); try again."),
        gettext_noop("The model could not answer: %(detail)s"),
    ]
)


def message_context(
    message: Message,
    *,
    character: Character,
    latest: bool,
    alternatives: list[int] | None = None,
    reader: User | AnonymousUser | None = None,
) -> dict[str, object]:
    """The context of `conversations/_message.html`.

    `latest` marks the session's last message: only it offers regenerate and, for the last
    question, flipping between alternatives (`alternatives` = ids of its replies, in order).
    `reader` is who the page is for; frames, built once for every socket of the session, pass
    none (see `shown_usage`).
    """
    if alternatives is None:
        alternatives = _alternatives_of(message) if latest else []
    position = alternatives.index(message.pk) if message.pk in alternatives else 0
    return {
        "message": message,
        "character": character,
        "body_html": _body_html(message),
        "error_text": REPLY_ERRORS.shown(message.error),
        "is_streaming": not message.is_final(),
        "can_regenerate": latest and message.query_id is not None and message.is_final(),
        "alternative_count": len(alternatives),
        "alternative_number": position + 1,
        "previous_alternative": alternatives[position - 1] if position > 0 else None,
        "next_alternative": (
            alternatives[position + 1] if position + 1 < len(alternatives) else None
        ),
        "function_call_json": _function_call_json(message.function_call),
        # Xingchen keeps the conversation and cannot delete a message of it.
        "turn_stays_upstream": message.role == Message.Role.USER
        and upstream_for(character).keeps_history,
        "shown_usage": shown_usage(message, reader=reader),
        "jobs": list(message.jobs.all()) if message.is_reply() and message.pk else [],
        **_feedback_context(message),
    }


def render_message(
    message: Message,
    *,
    character: Character,
    latest: bool = True,
    alternatives: list[int] | None = None,
) -> str:
    context = message_context(
        message, character=character, latest=latest, alternatives=alternatives
    )
    return render_to_string("conversations/_message.html", context)


def message_payload(message: Message, *, character: Character) -> MessagePayload:
    return {
        "id": message.pk,
        "role": message.role,
        "state": message.state,
        "content": message.content,
        "html": render_message(message, character=character),
    }


def shown_usage(message: Message, *, reader: User | AnonymousUser | None) -> dict[str, int] | None:
    """The reply's token counts, if CHAT_TOKEN_COUNTS lets its reader see them.

    A conversation is only ever shown to its owner: the page and the socket both admit the
    session's user alone, so every socket a frame reaches is the owner's. Without a reader at
    hand (frames, tasks) the owner is the reader; the page passes the request's user, the same
    person, which spares a query per message.
    """
    usage = message.usage()
    if usage is None or settings.CHAT_TOKEN_COUNTS == "nobody":
        return None
    if settings.CHAT_TOKEN_COUNTS == "everyone":
        return usage
    if reader is None and message.session_id is not None:
        reader = message.session.user
    return usage if reader is not None and reader.is_staff else None


def _feedback_context(message: Message) -> dict[str, object]:
    """The owner's own 👍/👎 of a finished reply (never staff ratings)."""
    if not message.pk or not is_rateable(message):
        return {"can_give_feedback": False}
    return {"can_give_feedback": True, "feedback": feedback_of(message)}


def _alternatives_of(message: Message) -> list[int]:
    if message.query_id is None:
        return []
    replies = Message.objects.filter(query_id=message.query_id).order_by("alternative_index")
    return list(replies.values_list("pk", flat=True))


def _body_html(message: Message) -> SafeString:
    if message.role == Message.Role.USER:
        return plain_text_to_html(message.content)
    if not message.is_final():
        # While streaming the page appends plain text; markdown arrives with the `done` frame.
        return escape(message.content)
    if message.has_risk:
        return plain_text_to_html(message.safety_std_answer or str(WITHHELD))
    return markdown_to_html(message.content)


def _function_call_json(function_call: object) -> list[dict[str, str]]:
    """Each api call of a function call as name and pretty-printed arguments."""
    if not isinstance(function_call, dict):
        return []
    calls = function_call.get("api_calls") or []
    return [
        {
            "name": str(call.get("api_name", "")),
            "arguments": json.dumps(call.get("parameters", {}), ensure_ascii=False, indent=2),
        }
        for call in calls
        if isinstance(call, dict)
    ]
