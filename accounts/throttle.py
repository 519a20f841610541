"""Who is signing in or asking for a password reset, and how often they may.

Sign-in failures are counted by django-axes (settings.AXES_*); password reset requests by
django-ratelimit in Django's cache, which is Redis, and so shared by every process, when
REDIS_URL is set.
"""

from __future__ import annotations

import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest

from project import ratelimits


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the right-most address of CLIENT_IP_HEADER.

    The right-most entry is the one the trusted proxy wrote itself; entries to its left come
    from the client and could be anything.
    """
    if settings.CLIENT_IP_HEADER:
        forwarded = request.headers.get(settings.CLIENT_IP_HEADER, "").split(",")
        if address := _valid_ip(forwarded[-1]):
            return address
    return _valid_ip(request.META.get("REMOTE_ADDR") or "")


def lockout_minutes() -> int:
    """How long a locked account or address waits after its latest refused sign-in."""
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def password_reset_throttle(*, request: HttpRequest, email: str) -> int | None:
    """Counts one reset request against its client address's and its email's limits.

    Returns the seconds to wait when either limit is exceeded, None when the request may go.
    Unknown emails count too, so the answer says nothing about which accounts exist.
    """
    limits = [
        ratelimits.hit(
            group="accounts.password_reset.ip",
            key=client_ip(request) or "",
            rate_setting="PASSWORD_RESET_IP_RATE",
        ),
        ratelimits.hit(
            group="accounts.password_reset.email",
            key=email.strip().lower(),
            rate_setting="PASSWORD_RESET_EMAIL_RATE",
        ),
    ]
    return max((limited.retry_after for limited in limits if limited), default=None)
