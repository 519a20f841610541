"""The product's own "page not found" page, with DEBUG on as well.

With DEBUG on, Django answers a missing page with its technical 404 (the URL patterns it tried),
which is not a page anyone using the product should see: developers and testers click through
the product in DEBUG and would judge it by a page it never shows in production. Django offers no
setting for this (`handler404` is only used with DEBUG off), so this middleware puts the
product's page in its place. A server error keeps the technical page in DEBUG: its traceback is
what a developer needs, and templates/500.html is what production shows.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin
from django.views.defaults import page_not_found


class FriendlyNotFoundMiddleware(MiddlewareMixin):
    """Renders templates/404.html for a missing page whatever DEBUG says.

    Two ways lead to a 404: a view raising Http404 (`process_exception` sees it before Django
    turns it into the technical page), and a path no URL pattern matches, which fails before any
    view runs, so only its response is seen: a 404 for a request that resolved to no view.
    Responses a view built itself with status 404 are left as they are. Place it above
    CommonMiddleware, so a path that only lacks its trailing slash is still redirected.
    """

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        unresolved = getattr(request, "resolver_match", None) is None
        if settings.DEBUG and response.status_code == 404 and unresolved:
            return page_not_found(request, Http404(request.path))
        return response
