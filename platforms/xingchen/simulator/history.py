"""Platform chat history: sessions, stored messages, and the history/rating/reminder/reset calls.

A (character, user) pair has one active session; reset retires it (its messages get status
`reset`) and opens a new one. A new session starts with the character's opening line
(`opening_remarks`). Answers to one query share its chatId; after regeneration, adopting one
answer (`context.answerId` on the next turn) drops its siblings from the history.

Histories are one user's: the user filter is `where.userId` (the seed doc) or `where.bizUserId`
(the SDK), and a query naming neither is refused with 400 `MissingParameter` rather than
answered with every user's records (both names for different users: 400 `InvalidParameter`).
Every record carries its owner as `userId` and `bizUserId`. Times are epoch milliseconds (the
doc) or ISO-8601 strings (the SDK). Ratings are the seed doc's two values, 0 (bad) and 5 (good);
anything else is 400 `InvalidRating`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import characters
from .errors import bad_request, new_id, not_found
from .params import integer, obj, order_by, paging, str_list, text
from .state import Simulator
from .store import iso, now_ms

# The seed doc's scale; the SDK's validator lets -1..5 through, which Xingchen does not promise.
RATINGS = (0, 5)
HISTORY_ORDER = {"gmtCreate": "created_ms"}


@dataclass(frozen=True)
class Session:
    session_id: str
    room_id: int
    character_id: str
    user_id: str


def _session(row: sqlite3.Row) -> Session:
    return Session(row["session_id"], row["room_id"], row["character_id"], row["user_id"])


def active_session(sim: Simulator, character_id: str, user_id: str) -> Session | None:
    row = sim.store.one(
        "SELECT * FROM sessions WHERE character_id = ? AND user_id = ? AND active = 1",
        (character_id, user_id),
    )
    return None if row is None else _session(row)


def open_session(sim: Simulator, character_id: str, user_id: str) -> Session:
    """The active session, or a new one that starts with the character's opening line."""
    existing = active_session(sim, character_id, user_id)
    if existing is not None:
        return existing
    session_id = new_id()
    now = now_ms()
    cursor = sim.store.run(
        "INSERT INTO sessions (session_id, character_id, user_id, created_ms) VALUES (?, ?, ?, ?)",
        (session_id, character_id, user_id, now),
    )
    session = Session(session_id, int(cursor.lastrowid or 0), character_id, user_id)
    _, fields = characters.current_fields(sim, character_id)
    if fields.get("openingLine"):
        add_message(
            sim, session, message_type="opening_remarks", content=fields["openingLine"], at=now
        )
    return session


def add_message(
    sim: Simulator,
    session: Session,
    *,
    message_type: str,
    content: str,
    message_id: str | None = None,
    chat_id: str | None = None,
    user_name: str | None = None,
    query_id: str | None = None,
    request_id: str | None = None,
    regenerate_times: int = 0,
    at: int | None = None,
) -> str:
    message_id = message_id or new_id()
    sim.store.run(
        "INSERT INTO messages (message_id, session_id, chat_id, character_id, user_id, user_name, "
        "message_type, content, query_id, request_id, regenerate_times, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message_id,
            session.session_id,
            chat_id or new_id(),
            session.character_id,
            session.user_id,
            user_name,
            message_type,
            content,
            query_id,
            request_id,
            regenerate_times,
            at or now_ms(),
        ),
    )
    return message_id


def message(sim: Simulator, message_id: str) -> sqlite3.Row | None:
    return sim.store.one("SELECT * FROM messages WHERE message_id = ?", (message_id,))


def adopt(sim: Simulator, session: Session, answer_id: str) -> None:
    """Keeps `answer_id` and drops the other answers to the same query."""
    row = sim.store.one(
        "SELECT * FROM messages WHERE message_id = ? AND session_id = ? AND query_id IS NOT NULL",
        (answer_id, session.session_id),
    )
    if row is None:
        raise bad_request(
            "InvalidAnswerId", f"answerId {answer_id} is not an answer in the current session."
        )
    sim.store.run(
        "UPDATE messages SET discarded = 1 WHERE query_id = ? AND message_id != ?",
        (row["query_id"], answer_id),
    )


def context_texts(sim: Simulator, session: Session, before_seq: int | None = None) -> list[str]:
    """The kept texts of the session, oldest first (for token accounting)."""
    rows = sim.store.all(
        "SELECT content FROM messages WHERE session_id = ? AND discarded = 0 AND seq < ? "
        "ORDER BY seq",
        (session.session_id, before_seq if before_seq is not None else 2**62),
    )
    return [r["content"] for r in rows]


# --- the histories call -----------------------------------------------------------------


def _epoch_ms(value: Any, label: str) -> int | None:
    """Accepts epoch milliseconds (the doc) and ISO-8601 strings (the SDK); naive means UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        if re.fullmatch(r"\d+", value):
            return int(value)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return int(moment.timestamp() * 1000)
    raise bad_request("InvalidParameter", f"{label} must be epoch milliseconds or ISO-8601.")


def _issuer(row: sqlite3.Row, character_name: str) -> dict[str, str]:
    if row["message_type"] == "user":
        return {
            "userId": row["user_id"],
            "bizUserId": row["user_id"],
            "userName": row["user_name"] or row["user_id"],
            "userType": "user",
        }
    return {
        "userId": row["character_id"],
        "bizUserId": "",
        "userName": character_name,
        "userType": "character",
    }


def message_dto(row: sqlite3.Row, character_name: str) -> dict[str, Any]:
    rating = row["rating"]
    return {
        "messageId": row["message_id"],
        # The owner of the record, under the doc's name and the SDK's, whoever issued it.
        "userId": row["user_id"],
        "bizUserId": row["user_id"],
        "sessionId": row["session_id"],
        "chatId": row["chat_id"],
        "messageIssuer": _issuer(row, character_name),
        "messageType": row["message_type"],
        "status": row["status"],
        # The doc says content is a JSON string; the text sits under "text".
        "content": json.dumps({"text": row["content"]}, ensure_ascii=False),
        "gmtCreate": iso(row["created_ms"]),
        "isGreeting": row["message_type"] == "opening_remarks",
        "rating": None if rating is None else (int(rating) if rating == int(rating) else rating),
        "regenerateTimes": row["regenerate_times"],
    }


def histories(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    where = obj(body.get("where"), "where")
    character_id = text(where, "characterId", "where.characterId", required=True)
    user_id = _history_user(where)
    page = paging(body)
    ordering = order_by(body.get("orderBy"), HISTORY_ORDER, "gmtCreate desc")
    clauses = ["character_id = ?", "user_id = ?", "discarded = 0"]
    params: list[Any] = [character_id, user_id]
    session_id = text(where, "sessionId", "where.sessionId")
    if session_id:
        clauses.append("session_id = ?")
        params.append(session_id)
    message_ids = str_list(where.get("messageIds"), "where.messageIds")
    if message_ids:
        clauses.append(f"message_id IN ({', '.join('?' for _ in message_ids)})")
        params.extend(message_ids)
    for key, operator in (("startTime", ">="), ("endTime", "<=")):
        bound = _epoch_ms(where.get(key), f"where.{key}")
        if bound is not None:
            clauses.append(f"created_ms {operator} ?")
            params.append(bound)
    condition = " AND ".join(clauses)
    total = sim.store.scalar(f"SELECT COUNT(*) FROM messages WHERE {condition}", tuple(params))
    # Messages stored in the same millisecond keep their insertion order.
    order_sql = ", ".join(f"{col} {direction}, seq {direction}" for col, direction in ordering)
    rows = sim.store.all(
        f"SELECT * FROM messages WHERE {condition} ORDER BY {order_sql} LIMIT ? OFFSET ?",
        (*params, page.size, page.offset),
    )
    names = _character_names(sim, {r["character_id"] for r in rows})
    return page.result([message_dto(r, names.get(r["character_id"], "")) for r in rows], int(total))


def _history_user(where: dict[str, Any]) -> str:
    """The user whose history is asked for, under either name; one of them is required."""
    doc_name = text(where, "userId", "where.userId")
    sdk_name = text(where, "bizUserId", "where.bizUserId")
    if doc_name and sdk_name and doc_name != sdk_name:
        raise bad_request(
            "InvalidParameter", "where.userId and where.bizUserId name different users."
        )
    if not (doc_name or sdk_name):
        raise bad_request("MissingParameter", "where.userId (or where.bizUserId) is required.")
    return doc_name or sdk_name


def _character_names(sim: Simulator, character_ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for character_id in character_ids:
        row = sim.store.one(
            "SELECT v.fields FROM characters c JOIN character_versions v "
            "ON v.character_id = c.character_id AND v.version = c.current_version "
            "WHERE c.character_id = ?",
            (character_id,),
        )
        names[character_id] = json.loads(row["fields"]).get("name", "") if row else ""
    return names


# --- rating, reminder, reset --------------------------------------------------------------


def rate(sim: Simulator, body: dict[str, Any]) -> bool:
    message_id = text(body, "messageId", required=True)
    rating = integer(body.get("rating"), "rating")
    if rating is None:
        raise bad_request("MissingParameter", "rating is required.")
    if rating not in RATINGS:
        raise bad_request("InvalidRating", "rating must be 0 (bad) or 5 (good).")
    if message(sim, message_id) is None:
        raise not_found("MessageNotFound", f"Message {message_id} does not exist.")
    sim.store.run("UPDATE messages SET rating = ? WHERE message_id = ?", (rating, message_id))
    return True


def remind(sim: Simulator, body: dict[str, Any]) -> bool:
    character_id = text(body, "characterId", required=True)
    user_id = text(body, "bizUserId", required=True)
    content = text(body, "content", required=True)
    characters.character_row(sim, character_id)
    session = open_session(sim, character_id, user_id)
    add_message(sim, session, message_type="character", content=content)
    return True


def reset(sim: Simulator, body: dict[str, Any]) -> bool:
    character_id = text(body, "characterId", required=True)
    user_id = text(body, "userId", required=True)
    characters.character_row(sim, character_id)
    with sim.store.transaction():
        sim.store.run(
            "UPDATE messages SET status = 'reset' WHERE character_id = ? AND user_id = ?",
            (character_id, user_id),
        )
        sim.store.run(
            "UPDATE sessions SET active = 0 WHERE character_id = ? AND user_id = ?",
            (character_id, user_id),
        )
    open_session(sim, character_id, user_id)
    return True
