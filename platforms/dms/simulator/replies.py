"""Deterministic, persona-flavoured replies that quote the user's message as the model got it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

from .params import ChatCall

_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
# One token per CJK character, per word (with its trailing spaces), or per run of spaces.
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+\s*|\s+")
_NAME_EN = re.compile(r"\b(?:You are|you are|You're|you're)\s+([A-Z][\w'-]*(?: [A-Z][\w'-]*)?)")
_NAME_ZH = re.compile(r"你是([^\s,，。.!！?？;；:：、“”\"]{1,12})")
_NAME_CJK = re.compile(r"\b(?:You are|you are)\s+([\u3400-\u9fff·]{1,12})")  # "You are 林晚秋."
_HAS_CJK = re.compile(rf"[{_CJK}]")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Reply:
    reasoning: list[str]
    answer: list[str]
    finish_reason: str
    prompt_tokens: int


def persona_name(system: str, chinese: bool) -> str:
    match = _NAME_ZH.search(system) or _NAME_CJK.search(system) or _NAME_EN.search(system)
    if match:
        return match[1]
    return "助手" if chinese else "Assistant"


# A Seed picks one of these (as sampling would vary the words), so a regenerated reply differs.
_EN_ASIDES = (
    "",
    "Let me put it another way this time.",
    "Here is a fresh take on it.",
    "Thinking about it again, I would add one more thing.",
)
_ZH_ASIDES = ("", "这次我换个说法。", "我再从另一个角度说说。", "再想一想，我还想补充一点。")


def _answer_text(name: str, said: str, turn: int, call: ChatCall, chinese: bool) -> str:
    asides = _ZH_ASIDES if chinese else _EN_ASIDES
    aside = asides[1 + call.seed % (len(asides) - 1)] if call.seed is not None else ""
    if chinese:
        text = (
            f"**{name}**在这里。你说：“{said}”\n\n"
            "谢谢你告诉我这些。我认真读了你的消息，下面是我的一些想法：\n\n"
            "- 第一，我会在接下来的对话里记住你提到的细节。\n"
            "- 第二，如果我说得不清楚，请换个说法再问我一次。\n\n"
            f"*这是模拟器的第 {turn} 轮回复。*{aside}"
        )
        source = "\n\n来源：[模拟网页搜索]"
    else:
        text = (
            f'**{name}** here. You said: "{said}"\n\n'
            "Thank you for telling me. I read your message carefully, and here is what I think:"
            "\n\n- First, I will keep the details you gave in mind for the rest of our chat.\n"
            "- Second, if anything I say is unclear, just ask me again in your own words.\n\n"
            f"*This is reply number {turn} from the simulator.* {aside}".rstrip()
        )
        source = "\n\nSource: [Simulated web search]"
    if call.enable_search:
        text += f"{source}(https://search.example.com/?q={quote(said[:40])})"
    if call.response_format == "json_object":
        return json.dumps({"speaker": name, "you_said": said, "reply": text}, ensure_ascii=False)
    return text


def _reasoning_text(name: str, said: str, chinese: bool) -> str:
    if chinese:
        return f"用户说：“{said}”。作为{name}，我应该先回应这句话，再友好、简短地给出想法。"
    return (
        f'The user wrote "{said}". As {name}, I should acknowledge it first, '
        "then answer kindly and keep it short."
    )


def _cut_at_stop(answer: str, stop: list[str]) -> tuple[str, bool]:
    hits = [answer.find(word) for word in stop if word in answer]
    return (answer[: min(hits)], True) if hits else (answer, False)


def compose(call: ChatCall, messages: list[dict[str, str]]) -> Reply:
    """The reply to `messages` (already masked when masking is on)."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    users = [m["content"] for m in messages if m["role"] == "user"]
    said = users[-1] if users else ""
    chinese = bool(_HAS_CJK.search(said))
    name = persona_name(system, chinese)
    answer_text, _ = _cut_at_stop(_answer_text(name, said, len(users), call, chinese), call.stop)
    answer = tokenize(answer_text)
    finish_reason = "stop"
    if call.max_tokens is not None and len(answer) > call.max_tokens:
        answer, finish_reason = answer[: call.max_tokens], "length"
    reasoning = tokenize(_reasoning_text(name, said, chinese)) if call.enable_thinking else []
    if call.thinking_budget is not None:
        reasoning = reasoning[: call.thinking_budget]
    prompt_tokens = sum(len(tokenize(m["content"])) + 4 for m in messages)
    return Reply(reasoning, answer, finish_reason, prompt_tokens)
