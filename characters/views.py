"""The character gallery and character pages (login required, as every page)."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from characters import services
from characters.forms import GallerySearchForm
from characters.models import Character
from conversations.models import ChatSession
from jobs.models import Job
from project.http import HtmxHttpRequest

RECENT_DESCRIBE_JOBS = 3

GALLERY_PAGE_SIZE = 24


def _visible_characters() -> QuerySet[Character]:
    return Character.objects.filter(is_deleted=False)


def _with_active_session(
    characters: QuerySet[Character], user: User | AnonymousUser
) -> QuerySet[Character]:
    """Each character with `active_session_id`: the user's conversation with it, if one is on
    (so the page offers "Continue chat" there), in the same query."""
    active = ChatSession.objects.filter(
        user_id=user.pk, character=OuterRef("pk"), status=ChatSession.Status.ACTIVE
    )
    return characters.annotate(active_session_id=Subquery(active.values("pk")[:1]))


def _get_character_for_user(user: User | AnonymousUser, pk: int) -> Character:
    """A character any signed-in user may see, or 404 (deleted characters are gone for users)."""
    return get_object_or_404(_with_active_session(_visible_characters(), user), pk=pk)


def _can_add_characters(user: User | AnonymousUser) -> bool:
    # Staff first: the permission check of anyone else would cost queries for nothing.
    return user.is_staff and user.has_perm("characters.add_character")


@require_GET
def gallery(request: HtmxHttpRequest) -> HttpResponse:
    form = GallerySearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    characters = _with_active_session(_visible_characters(), request.user)
    if query:
        characters = characters.filter(Q(name__icontains=query) | Q(introduction__icontains=query))
    page = Paginator(characters, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    # Search-as-you-type and the pager swap only the results; a plain visit gets the page.
    template = "characters/gallery.html#results" if request.htmx else "characters/gallery.html"
    context = {"page": page, "query": query, "can_add": _can_add_characters(request.user)}
    return render(request, template, context)


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    character = _get_character_for_user(request.user, pk)
    context = {"character": character, "unavailable_reason": character.unavailable_reason()}
    if services.character_can_describe(user=request.user, character=character):
        context["describe_jobs"] = _describe_jobs(character)
    return render(request, "characters/detail.html", context)


@require_POST
def describe(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Staff: queue a description of the character from its persona; htmx gets the job card."""
    character = _get_character_for_user(request.user, pk)
    if not services.character_can_describe(user=request.user, character=character):
        raise Http404("No such character.")
    job = services.character_describe_start(character=character, user=request.user)
    if not request.htmx:
        return redirect("characters:detail", pk=pk)
    return render(request, "jobs/_card.html", {"job": job})


@login_not_required
@require_GET
def describe_source(request: HttpRequest, token: uuid.UUID) -> FileResponse:
    """The file a running description job asks Xingchen to read; the token is the key."""
    try:
        handle, name = services.character_describe_source(token=token)
    except services.DescriptionSourceGone as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _describe_jobs(character: Character) -> list[Job]:
    jobs = character.jobs.filter(kind=Job.Kind.DESCRIBE).select_related("owner", "character")
    return list(jobs.prefetch_related("files")[:RECENT_DESCRIBE_JOBS])
