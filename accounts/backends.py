from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses sign-ins while the username or the client address is locked out (django-axes).

    Every login form (the site's and the admin's) passes its request. A call without one, from
    a management command or the test client's login(), has no address to count and comes from
    no form an attacker can reach: it is left to the next backend instead of raising.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
