"""The workbench's starting point: the Raters group and the persona-chat reason taxonomy.

Migration 0002 made them once (with its own frozen copy); `ensure_defaults` makes whatever is
missing again, for a database whose rows were flushed (tests) or hand-deleted by mistake.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext, gettext_noop

RATERS_GROUP = "Raters"
# Saved in English as the tags' labels; shown in the reader's language by `reason_label`.
REASONS = [
    ("out-of-character", gettext_noop("Out of character")),
    ("contradicts-persona", gettext_noop("Contradicts the persona")),
    ("repetitive", gettext_noop("Repetitive")),
    ("too-long", gettext_noop("Too long")),
    ("too-short", gettext_noop("Too short")),
    ("unsafe", gettext_noop("Unsafe")),
    ("memory-error", gettext_noop("Memory error")),
    ("factual-error", gettext_noop("Factual error")),
]
_DEFAULT_LABELS = dict(REASONS)


def reason_label(slug: str, label: str) -> str:
    """A tag's label in the reader's language: a built-in tag as translated, a tag staff added
    or relabelled as they wrote it."""
    return gettext(label) if _DEFAULT_LABELS.get(slug) == label else label


def ensure_defaults() -> Group:
    """Returns the Raters group (holding the rate permission) after making what is missing."""
    from ratings.models import ReasonTag  # the models import this module for the labels

    group, _ = Group.objects.get_or_create(name=RATERS_GROUP)
    group.permissions.add(
        Permission.objects.get(codename="rate_replies", content_type__app_label="ratings")
    )
    for position, (slug, label) in enumerate(REASONS, start=1):
        ReasonTag.objects.get_or_create(slug=slug, defaults={"label": label, "position": position})
    return group
