from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.services import profile_for
from characters.models import Character
from conversations import services, session_services
from conversations.forms import ChatSearchForm, ChatTitleForm, HistoryPageForm, ScenarioForm
from conversations.models import ChatSession, Message
from conversations.services import ChatRefused, SessionNotFound
from memories import services as memories
from project import ratelimits
from project.http import HtmxHttpRequest


@require_POST
def chat_start(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    character = get_object_or_404(Character, pk=pk, is_deleted=False)
    try:
        session = services.session_start(user=request.user, character=character)
    except ChatRefused as exc:
        messages.error(request, exc.message)
        return redirect("characters:detail", pk=character.pk)
    return _go_to_chat(request, session)


@require_GET
def session_list(request: HtmxHttpRequest) -> HttpResponse:
    form = ChatSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    sessions = session_services.session_find(user=request.user, query=query)
    context = {"chats": session_services.session_groups(sessions), "query": query}
    # Search-as-you-type swaps only the results; any other visit gets the page.
    if request.htmx and request.htmx.target == "chats":
        return render(request, "conversations/sessions.html#results", context)
    return render(request, "conversations/sessions.html", context)


@require_GET
def session_row(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    """One row of the chats list (what Cancel of a rename puts back)."""
    _session_or_404(request, session_id)
    if not request.htmx:
        return redirect("conversations:sessions")
    return _row(request, session_id)


@require_http_methods(["GET", "POST"])
def session_rename(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    session = _session_or_404(request, session_id)
    form = ChatTitleForm(request.POST or None, initial={"title": session.title})
    if request.method == "POST" and form.is_valid():
        session_services.session_rename(session=session, title=form.cleaned_data["title"])
        if not request.htmx:
            return redirect("conversations:sessions")
        return _row(request, session.pk)
    context = {"session": session, "rename_form": form}
    if request.htmx:
        return render(request, "conversations/sessions.html#rename", context)
    # Without htmx the whole list comes, this row as its form.
    sessions = session_services.session_find(user=request.user)
    context |= {"chats": session_services.session_groups(sessions), "editing_id": session.pk}
    return render(request, "conversations/sessions.html", context)


@require_POST
def session_delete(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    session = _session_or_404(request, session_id)
    try:
        session_services.session_delete(session=session, user=request.user)
    except ChatRefused as exc:
        if request.htmx:
            return _row(request, session.pk, row_error=exc.message)
        messages.error(request, exc.message)
        return redirect("conversations:sessions")
    if not request.htmx:
        messages.success(request, gettext("Chat deleted."))
        return redirect("conversations:sessions")
    context = {"session": session, "undo_seconds": session_services.UNDO_SECONDS}
    return render(request, "conversations/sessions.html#deleted", context)


@require_POST
def session_restore(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    try:
        session = session_services.session_restore(user=request.user, session_id=session_id)
    except SessionNotFound as exc:
        raise Http404(gettext("No such conversation.")) from exc
    if not request.htmx:
        return redirect("conversations:sessions")
    return _row(request, session.pk)


@require_GET
def chat_page(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    limited = ratelimits.hit(
        group="conversations.chat_page", key=request.user.pk, rate_setting="CHAT_PAGE_RATE"
    )
    if limited:
        return _too_many_requests(request, limited)
    session = _session_or_404(request, session_id)
    paging = HistoryPageForm(request.GET)
    before = paging.cleaned_data["before"] if paging.is_valid() else None
    page, has_more = services.session_history(
        session=session, before=before, size=settings.CHAT_HISTORY_PAGE_SIZE
    )
    context = {"session": session, "character": session.character, "history": page}
    context |= {"has_more": has_more, "latest_id": None, "alternatives": []}
    if request.htmx and before:
        return render(request, "conversations/chat.html#history", context)
    if session.is_active():
        context |= _latest(session, page)
    context |= _sidebar(request, session)
    return render(request, "conversations/chat.html", context)


@require_POST
def chat_reset(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    session = _session_or_404(request, session_id)
    try:
        session = services.session_reset(session=session, user=request.user)
    except ChatRefused as exc:
        messages.error(request, exc.message)
    return _go_to_chat(request, session)


@require_POST
def chat_scenario(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    session = _session_or_404(request, session_id)
    form = ScenarioForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            services.session_set_scenario(session=session, scenario=form.cleaned_data["scenario"])
            saved = True
        except ChatRefused as exc:
            form.add_error(None, exc.message)
    if not request.htmx:
        return redirect("conversations:chat", session_id=session.pk)
    context = {"session": session, "scenario_form": form, "scenario_saved": saved}
    return render(request, "conversations/chat.html#scenario", context)


def _session_or_404(request: HttpRequest, session_id: int) -> ChatSession:
    try:
        return services.session_for_user(request.user, session_id)
    except SessionNotFound as exc:
        raise Http404(gettext("No such conversation.")) from exc


def _row(request: HtmxHttpRequest, session_id: int, **extra: object) -> HttpResponse:
    """The row as the list shows it, with its last message."""
    session = session_services.session_find(user=request.user).get(pk=session_id)
    context = {"session": session, **extra}
    return render(request, "conversations/sessions.html#row", context)


def _too_many_requests(request: HttpRequest, limited: ratelimits.Limited) -> HttpResponse:
    response = render(
        request,
        "conversations/too_many_requests.html",
        {"retry_after": limited.retry_after},
        status=429,
    )
    response["Retry-After"] = str(limited.retry_after)
    return response


def _go_to_chat(request: HtmxHttpRequest, session: ChatSession) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(reverse("conversations:chat", args=[session.pk]))
    return redirect("conversations:chat", session_id=session.pk)


def _latest(session: ChatSession, page: list[Message]) -> dict[str, object]:
    """What makes the last message offer regenerate and the ‹ i/n › switch."""
    if not page:
        return {}
    return {"latest_id": page[-1].pk, "alternatives": services.latest_alternatives(session=session)}


def _sidebar(request: HtmxHttpRequest, session: ChatSession) -> dict[str, object]:
    current = None
    if not session.is_active():
        current = (
            ChatSession.objects.filter(
                user_id=session.user_id,
                character_id=session.character_id,
                status=ChatSession.Status.ACTIVE,
            )
            .values_list("pk", flat=True)
            .first()
        )
    return {
        "scenario_form": ScenarioForm(initial={"scenario": session.scenario}),
        "profile": profile_for(request.user),
        "current_session_id": current,
        "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
        "memory": memories.memory_panel(user=request.user, character=session.character),
    }
