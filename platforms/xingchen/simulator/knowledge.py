"""Knowledge bases, owned per user (`userProfile.userId`); files inside are addressed by name."""

from __future__ import annotations

import sqlite3
from typing import Any

from .errors import bad_request, new_id, not_found
from .params import obj, paging, text
from .state import Simulator
from .store import iso, now_ms

MAX_NAME_LENGTH = 50
FILE_TYPES = frozenset({"file", "url", "text"})


def _owner(body: dict[str, Any]) -> str:
    return text(
        obj(body.get("userProfile"), "userProfile"), "userId", "userProfile.userId", required=True
    )


def _name(body: dict[str, Any], key: str = "name") -> str:
    name = text(body, key, required=True).strip()
    if len(name) > MAX_NAME_LENGTH:
        raise bad_request("InvalidName", f"{key} must be at most {MAX_NAME_LENGTH} characters.")
    return name


def _kb_row(sim: Simulator, user_id: str, kb_id: str) -> sqlite3.Row:
    row = sim.store.one(
        "SELECT * FROM knowledge_bases WHERE knowledge_base_id = ? AND user_id = ? AND deleted = 0",
        (kb_id, user_id),
    )
    if row is None:
        raise not_found("KnowledgeBaseNotFound", f"Knowledge base {kb_id} does not exist.")
    return row


def _kb_dto(sim: Simulator, row: sqlite3.Row) -> dict[str, Any]:
    count = sim.store.scalar(
        "SELECT COUNT(*) FROM knowledge_base_files WHERE knowledge_base_id = ?",
        (row["knowledge_base_id"],),
    )
    return {
        "id": row["id"],
        "gmtCreate": iso(row["created_ms"]),
        "gmtModified": iso(row["modified_ms"]),
        "knowledgeBaseId": row["knowledge_base_id"],
        "name": row["name"],
        "description": row["description"],
        "userId": row["user_id"],
        "bizUserId": row["user_id"],
        "count": int(count),
    }


def _file_dto(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "gmtCreate": iso(row["created_ms"]),
        "gmtModified": iso(row["modified_ms"]),
        "knowledgeBaseId": row["knowledge_base_id"],
        "name": row["name"],
        "type": row["type"],
        "status": row["status"],
    }


def create(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    user_id = _owner(body)
    name = _name(body)
    now = now_ms()
    cursor = sim.store.run(
        "INSERT INTO knowledge_bases (knowledge_base_id, user_id, name, description, created_ms, "
        "modified_ms) VALUES (?, ?, ?, ?, ?, ?)",
        (new_id(), user_id, name, text(body, "description"), now, now),
    )
    row = sim.store.one("SELECT * FROM knowledge_bases WHERE id = ?", (cursor.lastrowid,))
    assert row is not None
    return _kb_dto(sim, row)


def update(sim: Simulator, body: dict[str, Any]) -> bool:
    user_id = _owner(body)
    kb_id = text(body, "knowledgeBaseId", required=True)
    _kb_row(sim, user_id, kb_id)
    sim.store.run(
        "UPDATE knowledge_bases SET name = ?, description = ?, modified_ms = ? "
        "WHERE knowledge_base_id = ?",
        (_name(body), text(body, "description"), now_ms(), kb_id),
    )
    return True


def search(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    user_id = _owner(body)
    page = paging(body)
    total = sim.store.scalar(
        "SELECT COUNT(*) FROM knowledge_bases WHERE user_id = ? AND deleted = 0", (user_id,)
    )
    rows = sim.store.all(
        "SELECT * FROM knowledge_bases WHERE user_id = ? AND deleted = 0 "
        "ORDER BY modified_ms DESC, id DESC LIMIT ? OFFSET ?",
        (user_id, page.size, page.offset),
    )
    return page.result([_kb_dto(sim, r) for r in rows], int(total))


def delete(sim: Simulator, body: dict[str, Any]) -> bool:
    user_id = _owner(body)
    kb_id = text(body, "knowledgeBaseId", required=True)
    _kb_row(sim, user_id, kb_id)
    sim.store.run(
        "UPDATE knowledge_bases SET deleted = 1, modified_ms = ? WHERE knowledge_base_id = ?",
        (now_ms(), kb_id),
    )
    return True


def upload(sim: Simulator, body: dict[str, Any]) -> bool:
    """Adds files; a file whose name already exists in the knowledge base is replaced."""
    user_id = _owner(body)
    kb_id = text(body, "knowledgeBaseId", required=True)
    _kb_row(sim, user_id, kb_id)
    file_type = text(body, "type") or "file"
    if file_type not in FILE_TYPES:
        raise bad_request(
            "InvalidParameter", f"type must be one of {', '.join(sorted(FILE_TYPES))}."
        )
    infos = body.get("fileInfos")
    if not isinstance(infos, list) or not infos:
        raise bad_request("MissingParameter", "fileInfos must hold at least one file.")
    now = now_ms()
    with sim.store.transaction():
        for info in infos:
            info = obj(info, "fileInfos[]")
            filename = text(info, "filename", "fileInfos[].filename", required=True)
            file_url = text(info, "fileUrl", "fileInfos[].fileUrl", required=True)
            sim.store.run(
                "INSERT INTO knowledge_base_files (knowledge_base_id, name, type, file_url, "
                "file_save_path, status, created_ms, modified_ms) "
                "VALUES (?, ?, ?, ?, ?, 'success', ?, ?) ON CONFLICT (knowledge_base_id, name) "
                "DO UPDATE SET file_url = excluded.file_url, type = excluded.type, "
                "file_save_path = excluded.file_save_path, modified_ms = excluded.modified_ms",
                (kb_id, filename, file_type, file_url, text(info, "fileSavePath"), now, now),
            )
        sim.store.run(
            "UPDATE knowledge_bases SET modified_ms = ? WHERE knowledge_base_id = ?", (now, kb_id)
        )
    return True


def _file_row(sim: Simulator, kb_id: str, name: str) -> sqlite3.Row:
    row = sim.store.one(
        "SELECT * FROM knowledge_base_files WHERE knowledge_base_id = ? AND name = ?",
        (kb_id, name),
    )
    if row is None:
        raise not_found("KnowledgeBaseFileNotFound", f"No file named {name!r} in {kb_id}.")
    return row


def rename(sim: Simulator, body: dict[str, Any]) -> bool:
    user_id = _owner(body)
    kb_id = text(body, "knowledgeBaseId", required=True)
    _kb_row(sim, user_id, kb_id)
    name = text(body, "name", required=True)
    new_name = _name(body, "newName")
    row = _file_row(sim, kb_id, name)
    if new_name != name and sim.store.one(
        "SELECT 1 FROM knowledge_base_files WHERE knowledge_base_id = ? AND name = ?",
        (kb_id, new_name),
    ):
        raise bad_request("DuplicateFileName", f"A file named {new_name!r} already exists.")
    sim.store.run(
        "UPDATE knowledge_base_files SET name = ?, modified_ms = ? WHERE id = ?",
        (new_name, now_ms(), row["id"]),
    )
    return True


def file_search(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    user_id = _owner(body)
    kb_id = text(body, "knowledgeBaseId", required=True)
    _kb_row(sim, user_id, kb_id)
    page = paging(body)
    total = sim.store.scalar(
        "SELECT COUNT(*) FROM knowledge_base_files WHERE knowledge_base_id = ?", (kb_id,)
    )
    rows = sim.store.all(
        "SELECT * FROM knowledge_base_files WHERE knowledge_base_id = ? "
        "ORDER BY created_ms DESC, id DESC LIMIT ? OFFSET ?",
        (kb_id, page.size, page.offset),
    )
    return page.result([_file_dto(r) for r in rows], int(total))


def file_delete(sim: Simulator, body: dict[str, Any]) -> bool:
    user_id = _owner(body)
    kb_id = text(body, "knowledgeBaseId", required=True)
    _kb_row(sim, user_id, kb_id)
    row = _file_row(sim, kb_id, text(body, "name", required=True))
    sim.store.run("DELETE FROM knowledge_base_files WHERE id = ?", (row["id"],))
    return True
