from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.services import profile_for
from characters.models import Character
from conversations import services
from conversations.forms import HistoryPageForm, ScenarioForm
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
        return redirect(f"/characters/{character.pk}/")
    return _go_to_chat(request, session)


@require_GET
def session_list(request: HtmxHttpRequest) -> HttpResponse:
    sessions = services.session_list(user=request.user)
    return render(request, "conversations/sessions.html", {"sessions": sessions})


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
        raise Http404("No such conversation.") from exc


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
        return HttpResponseClientRedirect(f"/chat/{session.pk}/")
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
