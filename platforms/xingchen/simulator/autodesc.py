"""Character auto-description: sectioned text (【基本信息】...) built from the caller's text."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

from docx import Document

from .errors import bad_request, new_id
from .files import FetchError, fetch
from .params import text
from .replies import count_tokens, is_chinese
from .state import Simulator

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".csv", ".json")
_NAME_PATTERNS = (
    re.compile(r"(?:名叫|叫做|名字是|名字叫|姓名[:：])\s*([\u3400-\u9fffA-Za-z·]{1,10})"),
    re.compile(r"^([\u3400-\u9fff·]{2,8})(?:是|，|,)"),
    re.compile(r"\b(?:named|called)\s+([A-Z][a-z]+(?: [A-Z][a-z]+)?)"),
    re.compile(r"^([A-Z][a-z]+(?: [A-Z][a-z]+)?)\s+(?:is|was)\b"),
)
_ZH_TEMPERS = ("温和而坚定", "开朗健谈", "沉稳内敛", "机敏幽默", "热情直率", "细腻敏感")
_ZH_STYLES = ("说话简洁有力", "喜欢用比喻", "语气轻快，常带笑意", "措辞讲究，条理清楚")
_EN_TEMPERS = ("gentle but firm", "open and talkative", "calm and reserved", "quick and witty")
_EN_STYLES = ("speaks briefly and to the point", "likes metaphors", "sounds light and cheerful")


def _guess_name(source: str, chinese: bool) -> str:
    for pattern in _NAME_PATTERNS:
        match = pattern.search(source.strip())
        if match:
            return match.group(1)
    return "这个角色" if chinese else "This character"


def _first_sentences(source: str, limit: int) -> str:
    flat = " ".join(source.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe(source: str) -> str:
    chinese = is_chinese(source)
    pick = hashlib.sha256(source.encode()).digest()
    name = _guess_name(source, chinese)
    summary = _first_sentences(source, 160)
    if chinese:
        temper = _ZH_TEMPERS[pick[0] % len(_ZH_TEMPERS)]
        style = _ZH_STYLES[pick[1] % len(_ZH_STYLES)]
        return (
            f"【基本信息】\n{name}。{summary}\n\n"
            f"【性格特点】\n{name}性格{temper}，重视与人真诚相处。\n\n"
            f"【说话风格】\n{style}，会根据对方的情绪调整语气。\n\n"
            f"【开场白】\n你好，我是{name}，很高兴认识你。\n\n"
            f"【对话示例】\n{{{{user}}}}:你好！\n{{{{char}}}}:你好呀，我是{name}，今天想聊点什么？"
        )
    temper = _EN_TEMPERS[pick[0] % len(_EN_TEMPERS)]
    style = _EN_STYLES[pick[1] % len(_EN_STYLES)]
    return (
        f"【基本信息】\n{name}. {summary}\n\n"
        f"【性格特点】\n{name} is {temper} and values honest company.\n\n"
        f"【说话风格】\n{name} {style} and adapts to the other person's mood.\n\n"
        f"【开场白】\nHello, I'm {name}. Nice to meet you.\n\n"
        f"【对话示例】\n{{{{user}}}}:Hi!\n"
        f"{{{{char}}}}:Hi there, I'm {name}. What shall we talk about?"
    )


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    return "\n".join(p.text for p in document.paragraphs if p.text.strip())


async def _file_text(sim: Simulator, body: dict[str, Any]) -> str:
    file_url = text(body, "fileUrl", required=True)
    file_name = text(body, "fileName", required=True)
    suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if not suffix:
        raise bad_request("InvalidFileName", "fileName must include the file extension.")
    if suffix not in (*TEXT_SUFFIXES, ".docx"):
        raise bad_request("UnsupportedFileType", f"Files of type {suffix} are not supported.")
    try:
        response = await fetch(sim.http, file_url, timeout=10.0)
    except FetchError as exc:
        raise bad_request("FileFetchFailed", str(exc)) from exc
    if suffix == ".docx":
        try:
            return _docx_text(response.content)
        except Exception as exc:  # python-docx raises many kinds for a damaged file
            raise bad_request("InvalidFile", "The file is not a readable .docx document.") from exc
    return response.content.decode("utf-8", errors="replace")


async def auto_desc(sim: Simulator, body: dict[str, Any], request_id: str) -> dict[str, Any]:
    kind = text(body, "type") or ("file" if body.get("fileUrl") else "text")
    if kind == "text":
        source = text(body, "text", required=True)
    elif kind == "file":
        source = await _file_text(sim, body)
    else:
        raise bad_request("InvalidParameter", "type must be file or text.")
    if not source.strip():
        raise bad_request("EmptyContent", "There is no text to describe.")
    content = describe(source)
    return {
        "content": content,
        "usage": {"inputTokens": count_tokens(source), "outputTokens": count_tokens(content)},
        "context": {"requestId": request_id, "modelRequestId": new_id()},
    }
