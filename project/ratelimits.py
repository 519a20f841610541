"""Rate limits on what costs the product work, counted in Django's cache.

django-ratelimit does the counting (fixed windows, shared by every process when the cache is
Redis); the rates are settings read at call time, so an operator tunes them without code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage


@dataclass(frozen=True)
class Limited:
    """A refused action: the user may try again after `retry_after` seconds."""

    retry_after: int


def hit(*, group: str, key: object, rate_setting: str) -> Limited | None:
    """Counts one action of `group` by `key` (a user id, an address, an email); says when it
    goes over the setting's rate.

    A rate setting of "" turns the limit off. A cache that cannot count lets the action through:
    a limit that cannot be counted must not lock everybody out.
    """
    rate = getattr(settings, rate_setting) or None
    usage = get_usage(
        None,  # the key below needs no request; the method check is skipped for ALL
        group=group,
        key=lambda _group, _request: str(key),
        rate=rate,
        increment=True,
    )
    if usage is None or not usage["should_limit"] or usage["limit"] == 0:
        return None
    return Limited(retry_after=max(1, usage["time_left"]))
