"""The organisation's Lingma knowledge bases, as the choices of a character's `lingma_kb_ids`."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from platforms.lingma.errors import LingmaError
from project.upstream import lingma, run_sync

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60
LIST_TIMEOUT_SECONDS = 10.0
# Knowledge bases of this scene serve inline code completion, not questions.
COMPLETION_SCENE = "complement"


class KnowledgeBasesUnavailable(Exception):
    """The list could not be read; `message` says why, for the editor."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def knowledge_base_choices() -> list[tuple[str, str]]:
    """(id, label) of the question-and-answer knowledge bases, cached for a minute."""
    if not settings.LINGMA_ENABLED:
        raise KnowledgeBasesUnavailable(_("Lingma is not configured on this server"))
    key = cache_key()
    choices = cache.get(key)
    if choices is None:
        choices = _fetch()
        cache.set(key, choices, CACHE_SECONDS)
    return [tuple(choice) for choice in choices]


def cache_key() -> str:
    # Per organisation and address: another configuration never sees this one's list.
    return f"lingma-knowledge-bases:{settings.LINGMA_BASE_URL}:{settings.LINGMA_ORGANIZATION_ID}"


def _fetch() -> list[tuple[str, str]]:
    try:
        page = run_sync(lambda: lingma().list_knowledge_bases(), timeout=LIST_TIMEOUT_SECONDS)
    except LingmaError as exc:
        logger.warning("Could not list the Lingma knowledge bases: %s", exc.message)
        raise KnowledgeBasesUnavailable(exc.message) from exc
    except TimeoutError as exc:
        raise KnowledgeBasesUnavailable(_("Lingma did not answer in time.")) from exc
    return [
        (kb.id, f"{kb.name} — {kb.description}" if kb.description else kb.name)
        for kb in page.items
        if kb.scene_type != COMPLETION_SCENE
    ]
