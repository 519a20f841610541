"""The recent turns of a conversation, for platforms that keep none themselves (DMS, Lingma)."""

from __future__ import annotations

from conversations.models import Message
from conversations.replies import TranscriptLine

# Never read further back than this many messages, whatever the budget.
MAX_MESSAGES = 200


def transcript_before(
    *, session_id: int, message_id: int, budget: int
) -> tuple[TranscriptLine, ...]:
    """The shown messages before `message_id`, oldest first: the newest that fit `budget` tokens."""
    rows = (
        Message.objects.filter(session_id=session_id, is_chosen=True, pk__lt=message_id)
        .exclude(role=Message.Role.SYSTEM)
        .exclude(state=Message.State.FAILED)
        .order_by("-pk")
        .values_list("role", "content", "has_risk", "safety_std_answer")[:MAX_MESSAGES]
    )
    lines: list[TranscriptLine] = []
    spent = 0
    for role, content, has_risk, safe_answer in rows:
        text = safe_answer if has_risk else content
        if not text.strip():
            continue
        spent += estimate_tokens(text)
        if spent > budget:
            break
        lines.append(TranscriptLine(role=role, content=text))
    return tuple(reversed(lines))


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` costs: one per CJK character, one per 4 other characters."""
    wide = sum(1 for ch in text if "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")
    return wide + (len(text) - wide + 3) // 4
