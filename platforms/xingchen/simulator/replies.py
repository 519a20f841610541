"""Deterministic persona-flavoured replies.

A reply depends only on the persona, the user's text, the user's name and the seed: the same
inputs give the same text (Xingchen repeats itself for a repeated seed), another seed gives
another text. Replies are Chinese when the user writes Chinese, a few hundred characters long,
with a bold phrase and sometimes a short list, so a client's markdown rendering gets exercised.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import Any

# Xingchen's documented default seed; a caller that sends none gets repeated output.
DEFAULT_SEED = 1683806810
RISK_MARKER = "[risk]"
IMAGE_WORDS = ("画", "照片", "draw", "image", "picture", "photo")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
# Every character belongs to exactly one token, so the tokens always join back to the text.
_TOKEN = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|\s*[A-Za-z0-9_'-]+|\s*\S|\s+"
)
_ZH_YOU_ARE = re.compile(r"你是\s*(?:一[个位名])?「?([^。！？，,\n」]{1,30})")
_EN_YOU_ARE = re.compile(r"\byou are\s+([^.!?\n]{1,60})", re.IGNORECASE)
# Function words that never make a good keyword ("你觉得忠义最重要" -> "忠义", "重要").
_ZH_FILLER = re.compile(
    r"什么|怎么|为什么|觉得|可以|一下|我们|你们|他们|[的了是你我他她它吗呢吧啊呀最很在和与也都就要会能把被让给对这那个一有没不]"
)
# Masked personal data, as a privacy-minded client sends it ("[CN_MOBILE_1]"); a model refers
# back to such placeholders, so replies repeat them whole.
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]*_[0-9]+\]")
_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?:\s|$)")
_STOP_WORDS = frozenset(
    {
        "that",
        "this",
        "with",
        "what",
        "have",
        "about",
        "your",
        "from",
        "they",
        "will",
        "would",
        "there",
        "their",
        "could",
        "should",
        "which",
        "when",
        "where",
        "just",
        "like",
        "been",
        "were",
        "into",
        "than",
        "then",
        "them",
        "more",
        "some",
        "very",
    }
)


@dataclass(frozen=True)
class Persona:
    """Whoever speaks: a platform character, an inline botProfile or a completions system prompt."""

    key: str
    name: str
    basic_information: str = ""
    traits: str = ""
    opening_line: str = ""
    draws_images: bool = False
    functions: tuple[dict[str, Any], ...] = field(default=())


@dataclass(frozen=True)
class Reply:
    text: str
    has_risk: bool
    safety_std_answer: str | None
    function_call: dict[str, Any] | None
    wants_image: bool


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(tokenize(text))


def is_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def compose(persona: Persona, user_text: str, *, seed: int, user_name: str | None = None) -> Reply:
    # Traits shape the wording through the seed; echoing them would read as leaked rules.
    persona_text = f"{persona.basic_information}\x1f{persona.traits}"
    material = f"{persona.key}\x1f{persona.name}\x1f{persona_text}\x1f{user_text}"
    digest = hashlib.sha256(f"{material}\x1f{user_name or ''}\x1f{seed}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    chinese = is_chinese(user_text) or (not user_text.strip() and is_chinese(persona.name))
    has_risk = RISK_MARKER in user_text.lower()
    lowered = user_text.lower()
    wants_image = persona.draws_images and any(word in lowered for word in IMAGE_WORDS)
    function_call = _function_call(persona, user_text, chinese)
    if function_call is not None:
        text = _function_reply(function_call["apiCallList"][0]["apiName"], chinese)
    elif chinese:
        text = _chinese_reply(rng, persona, user_text, user_name, wants_image)
    else:
        text = _english_reply(rng, persona, user_text, user_name, wants_image)
    if function_call is None:
        text += _placeholders_noted(user_text, chinese)
    return Reply(
        text=text,
        has_risk=has_risk,
        safety_std_answer=_safety_answer(chinese) if has_risk else None,
        function_call=function_call,
        wants_image=wants_image,
    )


def _safety_answer(chinese: bool) -> str:
    if chinese:
        return "抱歉，这个话题我不方便继续，我们换个话题聊聊吧。"
    return "Sorry, I can't continue with that topic. Let's talk about something else."


def _placeholders_noted(user_text: str, chinese: bool) -> str:
    placeholders = list(dict.fromkeys(_PLACEHOLDER.findall(user_text)))
    if not placeholders:
        return ""
    if chinese:
        return "\n\n我记下了：" + "、".join(placeholders) + "。"
    return "\n\nNoted: " + ", ".join(placeholders) + "."


def _snippet(text: str, limit: int) -> str:
    flat = " ".join(text.replace(RISK_MARKER, "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    # Never half a placeholder: a client restoring them would show the fragment as it is.
    opened = cut.rfind("[")
    if opened > cut.rfind("]") and _PLACEHOLDER.match(flat, opened):
        cut = cut[:opened].rstrip()
    return cut + "…"


def _first_sentence(text: str, limit: int) -> str:
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()
    return _snippet(sentence, limit)


def _persona_clause(basic_information: str, chinese: bool) -> str:
    """Who the character is, from its basic information ("你是一位耐心的老师" -> "耐心的老师")."""
    match = (_ZH_YOU_ARE if chinese else _EN_YOU_ARE).search(basic_information)
    if match:
        return _snippet(match.group(1).strip(), 30 if chinese else 60)
    return _first_sentence(basic_information, 30 if chinese else 60)


def _keyword(rng: random.Random, user_text: str, chinese: bool) -> str:
    if chinese:
        pieces = [
            piece[:4]
            for run in _CJK_RUN.findall(user_text)
            for piece in _ZH_FILLER.split(run)
            if len(piece) >= 2
        ]
        return rng.choice(pieces) if pieces else "这件事"
    words = [w for w in _WORD.findall(user_text) if w.lower() not in _STOP_WORDS]
    return rng.choice(words) if words else "this"


_ZH_OPENERS = (
    "{name}轻轻点了点头：",
    "（{name}想了想，认真地看着你）",
    "{name}笑着看向你：",
    "嗯，{name}听明白了。",
    "{name}放下手里的事，慢慢说道：",
    "（{name}托着下巴沉吟片刻）",
)
_ZH_ECHOES = (
    "你说的「{snippet}」，我都记下了。",
    "关于「{snippet}」，我有些想法。",
    "「{snippet}」——这个问题问得好。",
    "你提到「{snippet}」，让我想起了不少事。",
)
_ZH_PERSONA = (
    "作为{persona}，我更在意的是**{keyword}**背后的东西。",
    "我是{name}，{persona}，所以想先聊聊**{keyword}**。",
    "以{persona}的眼光来看，**{keyword}**才是关键。",
    "对{name}来说，**{keyword}**从来都不是小事。",
)
_ZH_BODY = (
    "很多时候答案并不复杂，只是需要一点耐心。",
    "我们不妨一步一步来，先把眼前的事情理清楚。",
    "别着急下结论，先听听自己心里真正的声音。",
    "有些路要自己走过才知道远近，但有人同行总会轻松些。",
    "换个角度看，也许困难里正藏着转机。",
    "我见过不少相似的情形，最后都慢慢有了着落。",
    "把想法说出来，本身就已经是很好的开始。",
    "生活里的答案，往往藏在最平常的细节里。",
)
_ZH_ADVICE = (
    "先写下你最在意的三件事",
    "给自己留一点安静的时间",
    "和信任的人聊一聊",
    "从最小的一步开始做起",
    "记录每天的一点点进展",
    "别忘了好好吃饭、早点休息",
    "试着换一个新的角度去看",
)
_ZH_CLOSINGS = (
    "你觉得呢？",
    "还想继续聊聊吗？",
    "接下来你打算怎么做？",
    "如果愿意，可以多告诉我一些。",
    "我在这儿，慢慢说。",
)


def _chinese_reply(
    rng: random.Random, persona: Persona, user_text: str, user_name: str | None, image: bool
) -> str:
    name = persona.name or "我"
    persona_line = _persona_clause(persona.basic_information, True) or "一个愿意倾听的伙伴"
    address = f"{user_name}，" if user_name else rng.choice(("", "朋友，", "你呀，"))
    parts = [
        rng.choice(_ZH_OPENERS).format(name=name),
        address + rng.choice(_ZH_ECHOES).format(snippet=_snippet(user_text, 18) or "这个"),
        rng.choice(_ZH_PERSONA).format(
            name=name, persona=persona_line, keyword=_keyword(rng, user_text, True)
        ),
    ]
    parts.extend(rng.sample(_ZH_BODY, 3))
    text = "".join(parts)
    if image:
        text += f"\n\n我这就为你画一幅「{_snippet(user_text, 16)}」，稍等片刻，画好就给你看。"
    if rng.random() < 0.5:
        items = rng.sample(_ZH_ADVICE, 3)
        text += "\n\n我的建议是：\n" + "\n".join(f"- {item}" for item in items)
    if persona.opening_line and rng.random() < 0.4:
        line = _first_sentence(persona.opening_line, 24).replace("「", "").replace("」", "")
        text += f"\n\n就像我常说的：「{line}」"
    return text + "\n\n" + rng.choice(_ZH_CLOSINGS)


_EN_OPENERS = (
    "{name} nods slowly.",
    "*{name} thinks for a moment.*",
    "{name} smiles at you.",
    "{name} sets everything else aside and listens.",
    "*{name} leans back, considering your words.*",
)
_EN_ECHOES = (
    'You said "{snippet}", and I have been turning it over.',
    'About "{snippet}": I do have a few thoughts.',
    '"{snippet}" is a good question to ask.',
    'When you mention "{snippet}", a lot comes to mind.',
)
_EN_PERSONA = (
    "As {persona}, what matters most to me is **{keyword}**.",
    "I am {name}; as {persona}, I would start with **{keyword}**.",
    "Seen through the eyes of {persona}, **{keyword}** is the heart of it.",
    "For {name}, **{keyword}** is never a small thing.",
)
_EN_BODY = (
    "Most answers are simpler than they look; they just ask for a little patience.",
    "Let us take it one step at a time and sort out what is right in front of us.",
    "There is no need to rush to a conclusion before you hear your own thoughts.",
    "Some roads only show their length once you walk them, but company makes them shorter.",
    "Looked at from another side, the trouble may be hiding a chance.",
    "I have seen many situations like this one, and most of them worked out in the end.",
    "Saying it out loud is already a good beginning.",
    "The answers we look for often hide in the most ordinary details.",
)
_EN_ADVICE = (
    "write down the three things you care about most",
    "keep a quiet hour for yourself",
    "talk it through with someone you trust",
    "start with the smallest possible step",
    "note a little progress every day",
    "eat well and get some sleep",
    "look at it from a fresh angle",
)
_EN_CLOSINGS = (
    "What do you think?",
    "Shall we keep talking?",
    "What will you do next?",
    "Tell me more, if you like.",
    "I am here; take your time.",
)


def _english_reply(
    rng: random.Random, persona: Persona, user_text: str, user_name: str | None, image: bool
) -> str:
    name = persona.name or "I"
    persona_line = _persona_clause(persona.basic_information, False) or "a friend who listens"
    address = f"{user_name}, " if user_name else rng.choice(("", "My friend, ", "Well, "))
    echo = rng.choice(_EN_ECHOES).format(snippet=_snippet(user_text, 40) or "that")
    parts = [
        rng.choice(_EN_OPENERS).format(name=name),
        address + (echo[0].lower() + echo[1:] if address else echo),
        rng.choice(_EN_PERSONA).format(
            name=name, persona=persona_line, keyword=_keyword(rng, user_text, False)
        ),
    ]
    parts.extend(rng.sample(_EN_BODY, 2))
    text = " ".join(parts)
    if image:
        text += f'\n\nLet me draw "{_snippet(user_text, 40)}" for you; it will be ready shortly.'
    if rng.random() < 0.5:
        items = rng.sample(_EN_ADVICE, 3)
        text += "\n\nHere is what I would do:\n" + "\n".join(f"- {item}" for item in items)
    if persona.opening_line and rng.random() < 0.4:
        text += f'\n\nAs I always say: "{_first_sentence(persona.opening_line, 60)}"'
    return text + "\n\n" + rng.choice(_EN_CLOSINGS)


def _function_reply(api_name: str, chinese: bool) -> str:
    if chinese:
        return f"好的，我先调用「{api_name}」帮你查一下，请稍等。"
    return f"Sure, let me call {api_name} to look that up for you."


def _function_call(persona: Persona, user_text: str, chinese: bool) -> dict[str, Any] | None:
    lowered = user_text.lower()
    for function in persona.functions:
        name = str(function.get("name") or "")
        if name and name.lower() in lowered:
            thought = (
                f"用户提到了{name}，需要调用{name}来回答。"
                if chinese
                else f"The user asked about {name}; calling {name} will answer it."
            )
            arguments = function_arguments(function.get("parameters"), user_text, name)
            return {"thought": thought, "apiCallList": [{"apiName": name, "parameters": arguments}]}
    return None


def function_arguments(schema: Any, user_text: str, function_name: str) -> dict[str, Any]:
    """Fills a JSON-schema's properties from the user's text: numbers, flags and the rest."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return {}
    required = set(schema.get("required") or ())
    remainder = _snippet(re.sub(re.escape(function_name), "", user_text, flags=re.I), 60).strip()
    numbers = re.findall(r"-?\d+(?:\.\d+)?", user_text)
    arguments: dict[str, Any] = {}
    for key, spec in properties.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind in ("integer", "number"):
            if numbers:
                value = float(numbers[0])
                arguments[key] = int(value) if kind == "integer" else value
            elif key in required:
                arguments[key] = 0
        elif kind == "boolean":
            arguments[key] = True
        elif kind in (None, "string"):
            enum = spec.get("enum") if isinstance(spec, dict) else None
            arguments[key] = enum[0] if enum else remainder or user_text
    return arguments
