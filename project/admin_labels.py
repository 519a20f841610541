"""Admin labels whose Chinese neither Django's nor django-axes's own catalogue has.

Never imported: listing them here puts them into the product's catalogue (`make
extract-messages`), which Django reads before the packages' own (LOCALE_PATHS comes first).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

LABELS = (
    # The headings of the admin's app list (Django 5.2 added them for screen readers).
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # django-axes, which records sign-in attempts.
    gettext_noop("access attempts"),
    gettext_noop("access failures"),
    gettext_noop("access logs"),
)
