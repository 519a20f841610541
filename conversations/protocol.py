"""The chat socket's JSON frames (DESIGN.md "Chat streaming"): parsing what the browser sends,
building what the server sends. Programs outside the project speak this protocol, so its
shape changes only together with that document.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal, TypedDict

from django.conf import settings
from django.utils.translation import gettext as _


class InvalidFrame(Exception):
    """A frame the server cannot act on; the message says why in words a user understands."""


@dataclass(frozen=True)
class SendFrame:
    content: str
    client_id: str | None


@dataclass(frozen=True)
class StopFrame:
    pass


@dataclass(frozen=True)
class RegenerateFrame:
    pass


@dataclass(frozen=True)
class ChooseFrame:
    message_id: int


@dataclass(frozen=True)
class DeleteFrame:
    """Deletes the user's last message (`message_id`) and its replies."""

    message_id: int


@dataclass(frozen=True)
class EditFrame:
    """Replaces the user's last message (`message_id`) and its replies by a new turn."""

    message_id: int
    content: str
    client_id: str | None


ClientFrame = SendFrame | StopFrame | RegenerateFrame | ChooseFrame | DeleteFrame | EditFrame


def parse_client_frame(text: str | None) -> ClientFrame:
    try:
        data = json.loads(text or "")
    except ValueError as exc:
        raise InvalidFrame(_("That was not a JSON frame.")) from exc
    if not isinstance(data, dict):
        raise InvalidFrame(_("A frame must be a JSON object with a type."))
    kind = data.get("type")
    if kind == "send":
        return _parse_send(data)
    if kind == "stop":
        return StopFrame()
    if kind == "regenerate":
        return RegenerateFrame()
    if kind == "choose":
        return ChooseFrame(
            message_id=_message_id(data, _("Choosing a reply needs its message_id."))
        )
    if kind == "delete":
        return DeleteFrame(
            message_id=_message_id(data, _("Deleting a message needs its message_id."))
        )
    if kind == "edit":
        send = _parse_send(data)
        message_id = _message_id(data, _("Editing a message needs its message_id."))
        return EditFrame(message_id=message_id, content=send.content, client_id=send.client_id)
    raise InvalidFrame(_("Unknown frame type."))


def _message_id(data: dict[str, object], problem: str) -> int:
    message_id = data.get("message_id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise InvalidFrame(problem)
    return message_id


def _parse_send(data: dict[str, object]) -> SendFrame:
    content = data.get("content")
    if not isinstance(content, str) or not content.strip():
        raise InvalidFrame(_("Write a message before sending."))
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(content) > limit:
        raise InvalidFrame(
            _("A message can be at most %(limit)s characters long.") % {"limit": limit}
        )
    client_id = data.get("client_id")
    if client_id is not None:
        client_id = _valid_client_id(client_id)
    return SendFrame(content=content.strip(), client_id=client_id)


def _valid_client_id(value: object) -> str:
    # A UUID is what the page sends; any short string id is accepted from other programs.
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 64:
        raise InvalidFrame(_("client_id must be a short string such as a UUID."))
    return value.strip()


# --- server to client -------------------------------------------------------------------------

# "rate_limited": Xingchen refused the reply (the message is kept); "throttled": this product
# refused the send (nothing was kept, the composer gets the text back).
ErrorCode = Literal["busy", "invalid", "rate_limited", "throttled", "upstream", "forbidden"]


class MessagePayload(TypedDict):
    id: int
    role: str
    state: str
    content: str
    html: str


class Usage(TypedDict):
    input_tokens: int
    output_tokens: int


def message_frame(payload: MessagePayload) -> dict[str, object]:
    return {"type": "message", "message": payload}


def start_frame(message_id: int) -> dict[str, object]:
    return {"type": "start", "message_id": message_id}


def delta_frame(message_id: int, seq: int, text: str) -> dict[str, object]:
    return {"type": "delta", "message_id": message_id, "seq": seq, "text": text}


def done_frame(
    message_id: int, state: str, usage: Usage | dict[str, int] | None, html: str
) -> dict[str, object]:
    return {"type": "done", "message_id": message_id, "state": state, "usage": usage, "html": html}


def snapshot_frame(message_id: int, seq: int, text: str) -> dict[str, object]:
    return {"type": "snapshot", "message_id": message_id, "seq": seq, "text": text}


def deleted_frame(message_ids: list[int]) -> dict[str, object]:
    return {"type": "deleted", "message_ids": message_ids}


def error_frame(
    code: ErrorCode,
    message: str,
    *,
    message_id: int | None = None,
    retry_after: float | None = None,
) -> dict[str, object]:
    """An error to show once: in the reply `message_id` when it is about one (the reply's own
    HTML already says it), otherwise by the composer. `retry_after` (whole seconds) is when
    trying again can work: the page counts down and tries by itself."""
    frame: dict[str, object] = {"type": "error", "code": code, "message": message}
    if message_id is not None:
        frame["message_id"] = message_id
    if retry_after is not None:
        frame["retry_after"] = max(1, math.ceil(retry_after))
    return frame
