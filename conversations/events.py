"""Fan-out of chat frames to every socket open on a session, through the relay.

Frames about rows are sent after the transaction commits, so a socket never shows a message
that then rolls back; the frames are built inside it, from the rows as they were committed.
Deltas and snapshots carry no rows and are sent at once by the generation.

Sent from the server process, frames reach its sockets directly and other processes' sockets
through the channel layer. Sent from another process (a Celery worker, a management command),
they reach sockets only when the layer spans processes (Redis).
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.db import transaction

from characters.models import Character
from conversations import protocol, relay
from conversations.models import Message
from conversations.rendering import message_payload, render_message, shown_usage

Frame = dict[str, object]


def _broadcast_on_commit(session_id: int, *frames: Frame) -> None:
    async def send_all() -> None:
        for frame in frames:
            await relay.publish(session_id, frame)

    transaction.on_commit(async_to_sync(send_all))


def message_created(message: Message, *, character: Character) -> None:
    """A message to show (new, imported, or a newly chosen alternative)."""
    payload = message_payload(message, character=character)
    _broadcast_on_commit(message.session_id, protocol.message_frame(payload))


def reply_started(reply: Message, *, character: Character) -> None:
    payload = message_payload(reply, character=character)
    _broadcast_on_commit(
        reply.session_id, protocol.message_frame(payload), protocol.start_frame(reply.pk)
    )


def reply_done(reply: Message, *, character: Character) -> None:
    html = render_message(reply, character=character)
    # The raw counts follow CHAT_TOKEN_COUNTS like the footer: the socket is the owner's.
    frame = protocol.done_frame(reply.pk, reply.state, shown_usage(reply, reader=None), html)
    _broadcast_on_commit(reply.session_id, frame)


def messages_deleted(session_id: int, message_ids: list[int]) -> None:
    _broadcast_on_commit(session_id, protocol.deleted_frame(message_ids))


def reply_error(
    reply: Message, code: protocol.ErrorCode, message: str, retry_after: float | None
) -> None:
    """Why `reply` failed; its own HTML says it too, so pages show it there, once."""
    frame = protocol.error_frame(code, message, message_id=reply.pk, retry_after=retry_after)
    _broadcast_on_commit(reply.session_id, frame)
