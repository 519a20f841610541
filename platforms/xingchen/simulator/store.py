"""The simulator's persistent state: one SQLite file in the data directory.

All access happens on the server's event-loop thread, so a single connection in autocommit mode
is enough; multi-statement changes use `transaction()`. Domain modules own their SQL; this module
owns the schema and the small helpers they share.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS characters (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    character_id TEXT NOT NULL UNIQUE,
    current_version INTEGER NOT NULL,
    is_pre_configured INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    audit_status TEXT NOT NULL DEFAULT 'success',
    config_status TEXT NOT NULL DEFAULT 'normal',
    green_status TEXT NOT NULL DEFAULT 'success',
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS character_versions (
    character_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    fields TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (character_id, version)
);
CREATE TABLE IF NOT EXISTS sessions (
    room_id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL UNIQUE,
    character_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_pair ON sessions (character_id, user_id, active);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    character_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT,
    message_type TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'normal',
    discarded INTEGER NOT NULL DEFAULT 0,
    query_id TEXT,
    request_id TEXT,
    rating REAL,
    regenerate_times INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_pair ON messages (character_id, user_id, created_ms);
CREATE INDEX IF NOT EXISTS messages_by_request ON messages (request_id);
CREATE TABLE IF NOT EXISTS image_tasks (
    task_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    prompt TEXT NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0,
    file_name TEXT
);
CREATE TABLE IF NOT EXISTS conversions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_url TEXT NOT NULL,
    outcome TEXT NOT NULL,
    file_name TEXT,
    error TEXT,
    polls INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS knowledge_bases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    knowledge_base_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    deleted INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS knowledge_base_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    knowledge_base_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    file_url TEXT NOT NULL,
    file_save_path TEXT,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    UNIQUE (knowledge_base_id, name)
);
"""

# Xingchen's task ids are large longs; start the conversion ids in that range.
FIRST_CONVERSION_ID = 100_000


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    """Xingchen's timestamp form, e.g. `2023-07-14T02:02:19.000+00:00`."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+00:00"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self._seed_sequences()

    def _seed_sequences(self) -> None:
        seeded = self.one("SELECT 1 FROM sqlite_sequence WHERE name = 'conversions'")
        if seeded is None:
            self.db.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('conversions', ?)",
                (FIRST_CONVERSION_ID,),
            )

    def close(self) -> None:
        self.db.close()

    def run(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, params).fetchall())

    def scalar(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
