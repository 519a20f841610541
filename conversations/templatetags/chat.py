from __future__ import annotations

from django import template
from django.template import Context

from characters.models import Character
from conversations.models import Message
from conversations.rendering import message_context

register = template.Library()


@register.inclusion_tag("conversations/_message.html", takes_context=True)
def chat_message(
    context: Context,
    message: Message,
    character: Character,
    latest_id: int | None,
    alternatives: list[int],
) -> dict[str, object]:
    """One message of the page, for the signed-in reader; the socket frames render the same
    partial (`rendering`)."""
    latest = message.pk == latest_id
    shown_alternatives = alternatives if latest and message.pk in alternatives else []
    return message_context(
        message,
        character=character,
        latest=latest,
        alternatives=shown_alternatives,
        reader=context.get("user"),
    )
