"""Memory: Xingchen reads the turns since the last extraction and finds kv facts (under the
character's kv memory slots) and a summary; `memories.services` stores them.

Both calls are repeated when a step runs again after a crash: storing is idempotent, and a
batch that was stored (or forgotten by a reset) meanwhile is not stored twice.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from jobs.models import Job
from jobs.steps import Empty, Step, Succeeded
from memories import services
from platforms.xingchen.types import KvMemoryConfig
from platforms.xingchen.types import Message as UpstreamMessage
from project.upstream import call_sync


def step(job: Job) -> Step:
    after, through = int(job.params.get("after", 0)), int(job.params["through"])
    if job.character is None:
        return Empty(gettext_noop("The character is gone."))
    batch = services.memory_batch(
        user_id=job.owner_id, character_id=job.character.pk, after=after, through=through
    )
    if not batch.user_messages():
        return Empty(gettext_noop("Nothing new to remember."))
    messages = [
        UpstreamMessage(role="user" if m.role == "user" else "assistant", content=m.content)
        for m in batch.messages
    ]
    facts = _facts(messages, services.kv_slots(job.character))
    summary = call_sync(lambda c: c.extract_summary(messages=messages)).summaries
    stored = services.memory_store(
        user_id=job.owner_id,
        character_id=job.character.pk,
        after=after,
        through=through,
        batch=batch,
        facts=facts,
        summary=summary,
    )
    if not stored:
        return Empty(gettext_noop("These turns were already remembered or forgotten."))
    result = {
        "facts": [{"key": f.key, "values": list(f.values)} for f in facts],
        "summary": [s for s in summary if s.strip()],
        "messages": [m.pk for m in batch.messages],
    }
    return Succeeded(result, note=_note(len(facts)))


def _facts(messages: list[UpstreamMessage], slots: list[str]) -> list[services.Extracted]:
    # Without configured slots Xingchen has no keys to fill: only the summary is kept.
    if not slots:
        return []
    configs = [KvMemoryConfig(enabled=True, memory_text=slot) for slot in slots]
    found = call_sync(lambda c: c.extract_kv(messages=messages, kv_configs=configs))
    return [
        services.Extracted(key=s.key, values=tuple(s.values))
        for s in found.schemas
        if s.role in ("", "user") and s.key and s.values
    ]


def _note(count: int) -> str:
    if count == 0:
        return gettext_noop("Summary updated")
    return f"Remembered {count} fact{'s' if count != 1 else ''}"
