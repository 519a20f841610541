"""Knowledge bases: stored in one JSON file in the data directory, listed, created, searched.

A fresh data directory is seeded from `library.py`; knowledge bases created through the API are
kept in the same file, so they survive a restart. Retrieval is plain term overlap (English words,
Chinese character pairs) between the question and each document, enough to pick the right one.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import bad_request
from .library import SEED_KNOWLEDGE_BASES

QA_SCENE = "chat"
SCENES = frozenset({QA_SCENE, "complement"})
# Older docs call the Q&A scene `answer`; both spellings select it.
SCENE_ALIASES = {"answer": QA_SCENE}
ACCESS_LEVELS = frozenset({0, 10})
ORDER_FIELDS = {
    "name": "name",
    "scene_type": "sceneType",
    "size": "size",
    "file_count": "fileCount",
    "last_activity_time": "lastActivityTime",
    "gmt_created": "gmtCreated",
}
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]?")
_STOP_WORDS = frozenset({
    "the", "and", "for", "are", "how", "many", "much", "what", "when", "where", "who", "why",
    "does", "can", "you", "your", "our", "with", "from", "that", "this", "have", "has", "get",
    "per", "day", "days", "into", "about", "which", "there", "their",
})  # fmt: skip


@dataclass(frozen=True)
class Match:
    kb_name: str
    title: str
    sentence: str
    score: int


def terms(text: str) -> set[str]:
    """English words (singular-ish, no stop words) and Chinese character pairs of `text`."""
    found = set()
    for word in _WORD.findall(text.lower()):
        if len(word) >= 3 and word not in _STOP_WORDS:
            found.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    for run in _CJK_RUN.findall(text):
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def _now_ms() -> int:
    return int(time.time() * 1000)


def _seed_record(index: int, seed: Any) -> dict[str, Any]:
    created = 1_735_689_600_000 + index * 86_400_000  # a day apart from 2025-01-01
    return {
        "id": seed.id,
        "name": seed.name,
        "description": seed.description,
        "sceneType": seed.scene_type,
        "accessLevel": seed.access_level,
        "state": "enable",
        "creatorId": "sim-admin",
        "gmtCreated": created,
        "lastActivityTime": created,
        "documents": [{"title": d.title, "content": d.content} for d in seed.documents],
    }


def _public(record: dict[str, Any]) -> dict[str, Any]:
    documents = record["documents"]
    item = {k: v for k, v in record.items() if k != "documents"}
    item["fileCount"] = len(documents)
    item["size"] = sum(len(d["content"].encode()) for d in documents)
    return item


def _scene(value: Any) -> str:
    scene = SCENE_ALIASES.get(str(value), str(value))
    if scene not in SCENES:
        raise bad_request("sceneType must be chat (answer) or complement.")
    return scene


def _positive(params: dict[str, str], key: str, default: int, limit: int | None = None) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise bad_request(f"{key} must be a positive integer.")
    if limit is not None and int(raw) > limit:
        raise bad_request(f"{key} must be at most {limit}.")
    return int(raw)


class KnowledgeStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        if path.exists():
            self._records: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
        else:
            self._records = [_seed_record(i, s) for i, s in enumerate(SEED_KNOWLEDGE_BASES)]
            self._save()

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_suffix(".tmp")
        partial.write_text(json.dumps(self._records, ensure_ascii=False, indent=1), "utf-8")
        os.replace(partial, self._path)

    def get(self, kb_id: str) -> dict[str, Any] | None:
        return next((r for r in self._records if r["id"] == kb_id), None)

    def listing(self, params: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """One page of knowledge bases and the paging headers (`x-total`, `x-page`, ...)."""
        page = _positive(params, "page", 1)
        per_page = _positive(params, "perPage", DEFAULT_PER_PAGE, MAX_PER_PAGE)
        items = [_public(r) for r in self._records]
        if params.get("query"):
            needle = params["query"].casefold()
            items = [i for i in items if needle in i["name"].casefold()]
        if params.get("sceneType"):
            scene = _scene(params["sceneType"])
            items = [i for i in items if i["sceneType"] == scene]
        order = params.get("orderBy") or "gmt_created"
        sort = (params.get("sort") or "desc").lower()
        if order not in ORDER_FIELDS or sort not in ("asc", "desc"):
            raise bad_request(f"orderBy must be one of {', '.join(ORDER_FIELDS)}; sort asc/desc.")
        items.sort(key=lambda i: (i[ORDER_FIELDS[order]], i["id"]), reverse=sort == "desc")
        total = len(items)
        headers = {
            "x-total": str(total),
            "x-page": str(page),
            "x-per-page": str(per_page),
            "x-total-pages": str(max(1, -(-total // per_page))),
        }
        return items[(page - 1) * per_page : page * per_page], headers

    def create(self, body: dict[str, Any]) -> str:
        name = body.get("name")
        description = body.get("description") or ""
        if not isinstance(name, str) or not name.strip() or len(name) >= 100:
            raise bad_request("name is required and must be shorter than 100 characters.")
        if not isinstance(description, str) or len(description) >= 200:
            raise bad_request("description must be shorter than 200 characters.")
        access = body.get("accessLevel", 0)
        if str(access) not in {str(level) for level in ACCESS_LEVELS}:
            raise bad_request("accessLevel must be 0 (private) or 10 (public).")
        now = _now_ms()
        record = {
            "id": uuid.uuid4().hex,
            "name": name.strip(),
            "description": description,
            "sceneType": _scene(body.get("sceneType", QA_SCENE)),
            "accessLevel": int(access),
            "state": "enable",
            "creatorId": str(body.get("creatorId") or "sim-user"),
            "gmtCreated": now,
            "lastActivityTime": now,
            "documents": [],
        }
        self._records.append(record)
        self._save()
        return str(record["id"])

    def check_chat_ids(self, kb_ids: list[str]) -> None:
        """Every id must name a Q&A knowledge base; raises a 400 naming the ones that do not."""
        records = {kb_id: self.get(kb_id) for kb_id in kb_ids}
        unknown = [kb_id for kb_id, record in records.items() if record is None]
        if unknown:
            raise bad_request(f"Unknown knowledge base id(s) in kbIds: {', '.join(unknown)}.")
        wrong = [k for k, record in records.items() if record and record["sceneType"] != QA_SCENE]
        if wrong:
            raise bad_request(f"kbIds must be Q&A (chat) knowledge bases; not: {', '.join(wrong)}.")

    def retrieve(self, question: str, kb_ids: list[str]) -> Match | None:
        """The best-overlapping document sentence among `kb_ids` (all Q&A ones when empty)."""
        wanted = terms(question)
        chosen = (
            [r for r in self._records if r["id"] in kb_ids]
            if kb_ids
            else [r for r in self._records if r["sceneType"] == QA_SCENE]
        )
        best: Match | None = None
        for record in chosen:
            for document in record["documents"]:
                score = len(wanted & terms(f"{document['title']} {document['content']}"))
                if score and (best is None or score > best.score):
                    sentence = _best_sentence(wanted, document["content"])
                    best = Match(record["name"], document["title"], sentence, score)
        return best


def _best_sentence(wanted: set[str], content: str) -> str:
    sentences = [s.strip() for s in _SENTENCE.findall(content) if s.strip()]
    return max(sentences, key=lambda s: len(wanted & terms(s)), default=content)
