"""Memory extraction: real facts found in what the user said ("我叫小明", "I work as a nurse").

KV extraction reports each fact under the caller's configured key (`kvMemoryConfigs[].memoryText`)
that names its category (姓名/name, 爱好/hobby, 职业/job, ...); with no configured keys it uses
the category's own name. Summaries are short factual sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .replies import count_tokens, is_chinese

_END = r"(?=[，。！？；,.!?;\n]|$)"
_ZH_VALUE = r"([^，。！？；,.!?;\n]{1,20}?)"
_EN_VALUE = r"([A-Za-z][A-Za-z' -]{0,40}?)"
_EN_END = r"(?=\s+(?:and|but|because|so)\b|[,.!?;\n]|$)"


@dataclass(frozen=True)
class Category:
    name: str
    zh_key: str
    en_key: str
    aliases: tuple[str, ...]
    zh_sentence: str
    en_sentence: str


CATEGORIES = {
    c.name: c
    for c in (
        Category(
            "name",
            "姓名",
            "name",
            ("姓名", "名字", "称呼", "昵称", "name", "call"),
            "用户的名字是{v}。",
            "The user's name is {v}.",
        ),
        Category(
            "hobby",
            "爱好",
            "hobby",
            ("爱好", "兴趣", "喜好", "喜欢", "hobby", "hobbies", "interest", "like"),
            "用户喜欢{v}。",
            "The user likes {v}.",
        ),
        Category(
            "job",
            "职业",
            "job",
            ("职业", "工作", "身份", "job", "occupation", "profession", "work"),
            "用户的职业是{v}。",
            "The user works as {v}.",
        ),
        Category(
            "location",
            "居住地",
            "location",
            (
                "居住",
                "住址",
                "城市",
                "所在地",
                "家乡",
                "location",
                "city",
                "address",
                "live",
                "home",
            ),
            "用户住在{v}。",
            "The user lives in {v}.",
        ),
        Category(
            "age",
            "年龄",
            "age",
            ("年龄", "岁", "age"),
            "用户今年{v}岁。",
            "The user is {v} years old.",
        ),
    )
}

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("name", re.compile(r"我(?:叫|的名字是|的名字叫)\s*" + _ZH_VALUE + _END)),
    ("age", re.compile(r"我今年\s*(\d{1,3})\s*岁")),
    (
        "job",
        re.compile(r"我(?:的工作是|的职业是|是一名|是一位|是个|是一个|在做)\s*" + _ZH_VALUE + _END),
    ),
    ("location", re.compile(r"我(?:住在|生活在|来自)\s*" + _ZH_VALUE + _END)),
    ("hobby", re.compile(r"我(?:很|最|特别|非常)?(?:喜欢|爱好是|热爱)\s*" + _ZH_VALUE + _END)),
    (
        "name",
        re.compile(
            r"\b(?:my name is|i'm called|i am called|call me)\s+" + _EN_VALUE + _EN_END, re.I
        ),
    ),
    ("age", re.compile(r"\bi(?:'m| am)\s+(\d{1,3})\s+years?\s+old", re.I)),
    (
        "job",
        re.compile(
            r"\bi(?: work as| am working as|'m working as)\s+(?:an? |the )?" + _EN_VALUE + _EN_END,
            re.I,
        ),
    ),
    (
        "job",
        re.compile(
            r"\bmy (?:job|occupation|profession) is\s+(?:an? |the )?" + _EN_VALUE + _EN_END, re.I
        ),
    ),
    (
        "location",
        re.compile(r"\bi(?: live| am living|'m living) in\s+" + _EN_VALUE + _EN_END, re.I),
    ),
    ("hobby", re.compile(r"\bi (?:really )?(?:like|love|enjoy)\s+" + _EN_VALUE + _EN_END, re.I)),
)
# "我是X" names the user only when X is short and not a job phrase caught above.
_ZH_I_AM = re.compile(r"我是\s*" + _ZH_VALUE + _END)
_JOB_SUFFIXES = ("员", "师", "生", "家", "者", "工", "手", "士", "长", "官", "医")
_SPLIT_VALUES = re.compile(r"\s*(?:、|和|与|以及|,|，|\band\b|\bor\b)\s*")


@dataclass(frozen=True)
class Fact:
    category: str
    values: tuple[str, ...]
    chinese: bool


def _user_texts(messages: Any) -> list[str]:
    if not isinstance(messages, list) or not messages:
        raise bad_request("MissingParameter", "messages must hold at least one message.")
    texts = []
    for item in messages:
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise bad_request("InvalidParameter", "each message needs a role and a content string.")
        if item.get("role", "user") == "user":
            texts.append(item["content"])
    return texts


def _values(raw: str) -> tuple[str, ...]:
    parts = [p.strip(" 　'\"“”「」") for p in _SPLIT_VALUES.split(raw)]
    return tuple(p for p in parts if p)


def find_facts(texts: list[str]) -> list[Fact]:
    facts: list[Fact] = []
    for text in texts:
        taken: list[tuple[int, int]] = []
        for category, pattern in PATTERNS:
            for match in pattern.finditer(text):
                taken.append(match.span())
                values = (
                    (match.group(1).strip(),)
                    if category in ("name", "age")
                    else _values(match.group(1))
                )
                if values:
                    facts.append(Fact(category, values, is_chinese(match.group(0))))
        for match in _ZH_I_AM.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue
            value = match.group(1).strip()
            category = "job" if len(value) > 4 or value.endswith(_JOB_SUFFIXES) else "name"
            facts.append(Fact(category, (value,), True))
    return facts


def _configured_keys(configs: Any) -> list[str]:
    if configs is None:
        return []
    if not isinstance(configs, list):
        raise bad_request("InvalidParameter", "kvMemoryConfigs must be a list.")
    return [
        str(c["memoryText"])
        for c in configs
        if isinstance(c, dict) and c.get("memoryText") and c.get("enabled", True) is not False
    ]


def _key_for(category: Category, keys: list[str], chinese: bool) -> str | None:
    if not keys:
        return category.zh_key if chinese else category.en_key
    for key in keys:
        lowered = key.lower()
        if any(alias in lowered for alias in category.aliases):
            return key
    return None


def extract_kv(body: dict[str, Any]) -> dict[str, Any]:
    texts = _user_texts(body.get("messages"))
    keys = _configured_keys(body.get("kvMemoryConfigs"))
    merged: dict[str, list[str]] = {}
    for fact in find_facts(texts):
        key = _key_for(CATEGORIES[fact.category], keys, fact.chinese)
        if key is None:
            continue
        bucket = merged.setdefault(key, [])
        bucket.extend(v for v in fact.values if v not in bucket)
    schemas = [{"role": "user", "key": key, "value": values} for key, values in merged.items()]
    return {"schemas": schemas, "usage": _usage(texts, str(schemas))}


def extract_summary(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    texts = _user_texts(messages)
    facts = find_facts(texts)
    chinese = any(is_chinese(t) for t in texts)
    sentences = []
    for fact in facts:
        category = CATEGORIES[fact.category]
        joined = ("、" if fact.chinese else " and ").join(fact.values)
        template = category.zh_sentence if fact.chinese else category.en_sentence
        sentence = template.format(v=joined)
        if sentence not in sentences:
            sentences.append(sentence)
    topic = next((t.strip() for t in texts if t.strip()), "")
    if topic:
        topic = topic if len(topic) <= 30 else topic[:29] + "…"
        rounds = len(texts)
        sentences.append(
            f"用户进行了{rounds}轮对话，聊到了「{topic}」。"
            if chinese
            else f'The user talked for {rounds} turn(s), starting with "{topic}".'
        )
    results = [{"content": s} for s in sentences]
    return {"memoryResults": results, "usage": _usage(texts, "".join(sentences))}


def _usage(texts: list[str], output: str) -> dict[str, int]:
    return {
        "inputTokens": sum(count_tokens(t) for t in texts),
        "outputTokens": count_tokens(output),
    }
