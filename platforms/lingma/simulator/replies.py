"""Deterministic persona-flavoured answers, grounded in a team document when one was found.

The answer depends only on the system prompt, the question, the retrieved passage and the seed.
It speaks as the persona the system message names ("You are <Name>" / "你是<Name>"), answers in
Chinese when the question is Chinese, carries some **markdown**, and when grounded quotes the
document and ends with `Source: [<knowledge base> / <document title>]`.
"""

from __future__ import annotations

import hashlib
import re

from .knowledge import Match

DEFAULT_SEED = 1234  # ExecuteChat's documented default

DEFAULT_NAME_EN = "Lingma"
DEFAULT_NAME_ZH = "灵码"

# Every character belongs to exactly one token, so the tokens always join back to the text.
_TOKEN = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|\s*[A-Za-z0-9_'-]+|\s*\S|\s+"
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_EN_NAME = re.compile(
    r"\b(?i:you are)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)(?:,\s*([^.!?\n]{1,60}))?"
)
_ZH_NAME = re.compile(r"你是\s*「?([^，。！？,、\s」]{1,12})")
_CJK_NAME = re.compile(r"\b(?i:you are)\s+([\u3400-\u9fff·]{1,12})")  # "You are 林晚秋."

_EN_OPENINGS = ("Good question!", "Happy to help.", "Let me explain.", "Here is what I know.")
_ZH_OPENINGS = ("好问题！", "很高兴为你解答。", "我来说明一下。", "这是我了解的情况。")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(tokenize(text))


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def persona_name(system_prompt: str, chinese: bool) -> tuple[str, str]:
    """(name, role) the system prompt gives the assistant; defaults when it names nobody."""
    zh = _ZH_NAME.search(system_prompt) or _CJK_NAME.search(system_prompt)
    if zh:
        return zh.group(1), ""
    en = _EN_NAME.search(system_prompt)
    if en:
        return en.group(1), (en.group(2) or "").strip()
    return (DEFAULT_NAME_ZH if chinese else DEFAULT_NAME_EN), ""


def _pick(options: tuple[str, ...], *parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return options[digest[0] % len(options)]


def _opening(options: tuple[str, ...], seed: int, question: str) -> str:
    """The opening line; any seed but the documented default picks another one, as sampling
    would change the words, so a reply regenerated with a fresh seed differs."""
    usual = _pick(options, DEFAULT_SEED, question)
    if seed == DEFAULT_SEED:
        return usual
    return _pick(tuple(option for option in options if option != usual), seed, question)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compose(
    system_prompt: str, question: str, *, seed: int, team_docs: bool, match: Match | None
) -> str:
    chinese = is_chinese(question)
    name, role = persona_name(system_prompt, chinese)
    if chinese:
        return _chinese(name, question, seed, team_docs, match)
    return _english(name, role, question, seed, team_docs, match)


def _english(
    name: str, role: str, question: str, seed: int, team_docs: bool, match: Match | None
) -> str:
    intro = (
        f"**{name}** here{f', {role}' if role else ''}. {_opening(_EN_OPENINGS, seed, question)}"
    )
    asked = f'You asked: *"{_short(question)}"*.'
    if match is not None:
        return (
            f"{intro} {asked}\n\n"
            f"According to our team documents:\n\n> {match.sentence}\n\n"
            f"So the short answer is in **{match.title}**; ask me if you need the details "
            f"around it, or the other rules that go with it.\n\n"
            f"Source: [{match.kb_name} / {match.title}]"
        )
    searched = (
        "I searched the team documents but found nothing about that, so this is my own view."
        if team_docs
        else "Here is my own view."
    )
    return (
        f"{intro} {asked}\n\n{searched}\n\n"
        f"- **First**, say what outcome you want; that settles most of the choices.\n"
        f"- **Then**, try the smallest step that shows whether it works.\n\n"
        f"Tell me more and I will go into the details with you."
    )


def _chinese(name: str, question: str, seed: int, team_docs: bool, match: Match | None) -> str:
    opening = _opening(_ZH_OPENINGS, seed, question)
    intro = f"我是**{name}**。{opening}你问的是：“{_short(question, 30)}”。"
    if match is not None:
        return (
            f"{intro}\n\n根据团队文档：\n\n> {match.sentence}\n\n"
            f"简单来说，答案在**{match.title}**里；如果需要更多细节，请继续问我。\n\n"
            f"Source: [{match.kb_name} / {match.title}]"
        )
    searched = (
        "我查阅了团队文档，但没有找到相关内容，以下是我的看法。"
        if team_docs
        else "以下是我的看法。"
    )
    return (
        f"{intro}\n\n{searched}\n\n"
        f"- **首先**，想清楚你希望达到的结果。\n"
        f"- **然后**，先做最小的一步，看看是否有效。\n\n"
        f"告诉我更多情况，我们可以一起深入讨论。"
    )
