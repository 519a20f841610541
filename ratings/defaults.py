"""The workbench's starting point: the Raters group and the persona-chat reason taxonomy.

Migration 0002 made them once (with its own frozen copy); `ensure_defaults` makes whatever is
missing again, for a database whose rows were flushed (tests) or hand-deleted by mistake.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from ratings.models import ReasonTag

RATERS_GROUP = "Raters"
REASONS = [
    ("out-of-character", "Out of character"),
    ("contradicts-persona", "Contradicts the persona"),
    ("repetitive", "Repetitive"),
    ("too-long", "Too long"),
    ("too-short", "Too short"),
    ("unsafe", "Unsafe"),
    ("memory-error", "Memory error"),
    ("factual-error", "Factual error"),
]


def ensure_defaults() -> Group:
    """Returns the Raters group (holding the rate permission) after making what is missing."""
    group, _ = Group.objects.get_or_create(name=RATERS_GROUP)
    group.permissions.add(
        Permission.objects.get(codename="rate_replies", content_type__app_label="ratings")
    )
    for position, (slug, label) in enumerate(REASONS, start=1):
        ReasonTag.objects.get_or_create(slug=slug, defaults={"label": label, "position": position})
    return group
