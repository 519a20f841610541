"""The persona as a system prompt, for chat APIs that know nothing of characters (DMS, Lingma).

Xingchen holds the character and the conversation itself; the others get, with every request, a
system message built from the character's fields and the user's profile, then the recent turns.
"""

from __future__ import annotations

from typing import Literal

from conversations.replies import ReplyRequest

Role = Literal["system", "user", "assistant"]


def system_prompt(request: ReplyRequest) -> str:
    character = request.character
    sections = [
        f"You are {character.name}. Stay in character: answer as {character.name} would, "
        "in the language the user writes in."
    ]
    _add(sections, "Who you are", character.basic_information)
    _add(sections, "Rules you always follow", character.traits)
    _add(sections, "What you want from this conversation", character.chat_objective)
    _add(sections, "How you talk (example)", _names(character.chat_example, request))
    _add(sections, "How you opened the conversation", character.opening_line)
    profile = "\n".join(
        line
        for line in (
            f"Name: {request.user_name}" if request.user_name else "",
            request.user_basic_info,
        )
        if line
    )
    _add(sections, "The user", profile)
    _add(sections, "The scene", request.scenario)
    memory = request.memory
    if memory:
        facts = [f"- {fact.key}: {', '.join(fact.values)}" for fact in memory.facts]
        _add(sections, "What you remember about the user", "\n".join([*facts, *memory.summary]))
    return "\n\n".join(sections)


def chat_messages(request: ReplyRequest) -> list[tuple[Role, str]]:
    """The system prompt, the earlier turns and the user's message, oldest first."""
    messages: list[tuple[Role, str]] = [("system", system_prompt(request))]
    messages += [(line.role, line.content) for line in request.transcript]
    messages.append(("user", request.content))
    return messages


def _add(sections: list[str], title: str, text: str) -> None:
    if text.strip():
        sections.append(f"## {title}\n{text.strip()}")


def _names(example: str, request: ReplyRequest) -> str:
    user = request.user_name or "User"
    return example.replace("{{user}}", user).replace("{{char}}", request.character.name)
