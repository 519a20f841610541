"""The character gallery and character pages (login required, as every page)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from characters.forms import GallerySearchForm
from characters.models import Character
from project.http import HtmxHttpRequest

GALLERY_PAGE_SIZE = 24


def _visible_characters() -> QuerySet[Character]:
    return Character.objects.filter(is_deleted=False)


def _get_character_for_user(user: object, pk: int) -> Character:
    """A character any signed-in user may see, or 404 (deleted characters are gone for users)."""
    return get_object_or_404(_visible_characters(), pk=pk)


@require_GET
def gallery(request: HtmxHttpRequest) -> HttpResponse:
    form = GallerySearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    characters = _visible_characters()
    if query:
        characters = characters.filter(Q(name__icontains=query) | Q(introduction__icontains=query))
    page = Paginator(characters, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    # Search-as-you-type and the pager swap only the results; a plain visit gets the page.
    template = "characters/gallery.html#results" if request.htmx else "characters/gallery.html"
    return render(request, template, {"page": page, "query": query})


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    character = _get_character_for_user(request.user, pk)
    context = {"character": character, "unavailable_reason": character.unavailable_reason()}
    return render(request, "characters/detail.html", context)
