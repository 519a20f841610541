from __future__ import annotations

from asgiref.sync import sync_to_async
from axes.helpers import get_lockout_response
from axes.middleware import AxesMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse


class LockoutMiddleware(AxesMiddleware):
    """AxesMiddleware whose async path, the one daphne takes, hands the lockout page the login
    view's response as its sync path does. django-axes 8.3 passes the credentials in its place
    (jazzband/django-axes#1494); drop this class once a release fixes that."""

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response = await self.get_response(request)
        if settings.AXES_ENABLED and getattr(request, "axes_locked_out", None):
            credentials = getattr(request, "axes_credentials", None)
            response = await sync_to_async(get_lockout_response, thread_sensitive=True)(
                request, response, credentials
            )
        return response
