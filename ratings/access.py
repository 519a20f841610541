"""Who may use the rating workbench: holders of the rate permission, never just any staff."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from ratings.models import RATE_PERMISSION


def can_rate(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(RATE_PERMISSION))


def rater_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """403 for everyone without the permission (sign-in itself is required site-wide)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_rate(request.user):
            raise PermissionDenied("Rating replies needs the Raters permission.")
        return view(request, *args, **kwargs)

    return wrapper
