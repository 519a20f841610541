"""The memory panel: what a character remembers about the signed-in user, who may correct or
delete each fact. Everything is the requesting user's own; another user's fact is a 404."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from characters.models import Character
from memories import services
from memories.forms import FactCorrectForm, PanelVersionForm
from memories.models import Fact
from memories.services import FactNotFound
from project.http import HtmxHttpRequest


@require_GET
def memory_panel(request: HtmxHttpRequest, character_id: int) -> HttpResponse:
    character = get_object_or_404(Character, pk=character_id)
    memory = services.memory_panel(user=request.user, character=character)
    context = {"character": character, "memory": memory}
    if not request.htmx:
        return render(request, "memories/page.html", context)
    shown = PanelVersionForm(request.GET)
    if shown.is_valid() and shown.cleaned_data["v"] == memory.version:
        return HttpResponse(status=204)  # htmx keeps what it shows (an open edit form too)
    return render(request, "memories/_panel.html", context)


@require_http_methods(["GET", "POST"])
def fact_detail(request: HtmxHttpRequest, fact_id: int) -> HttpResponse:
    """GET: the fact's row (leaving its edit form); POST: the user's correction."""
    fact = _fact_or_404(request, fact_id)
    if request.method == "GET":
        return _fact_fragment(request, fact, "fact")
    form = FactCorrectForm(request.POST)
    if not form.is_valid():
        return _fact_fragment(request, fact, "fact_form", form=form, status=400)
    values = form.cleaned_data["values"]
    fact = services.fact_correct(user=request.user, fact_id=fact.pk, values=values)
    if not request.htmx:
        return redirect("memories:panel", character_id=fact.character_id)
    return _fact_fragment(request, fact, "fact")


@require_GET
def fact_edit(request: HtmxHttpRequest, fact_id: int) -> HttpResponse:
    fact = _fact_or_404(request, fact_id)
    form = FactCorrectForm(initial={"values": "\n".join(fact.values)})
    return _fact_fragment(request, fact, "fact_form", form=form)


@require_POST
def fact_delete(request: HtmxHttpRequest, fact_id: int) -> HttpResponse:
    fact = _fact_or_404(request, fact_id)
    services.fact_delete(user=request.user, fact_id=fact.pk)
    if not request.htmx:
        return redirect("memories:panel", character_id=fact.character_id)
    memory = services.memory_panel(user=request.user, character=fact.character)
    return render(request, "memories/_panel.html", {"character": fact.character, "memory": memory})


def _fact_or_404(request: HtmxHttpRequest, fact_id: int) -> Fact:
    try:
        return services.fact_for_user(request.user, fact_id)
    except FactNotFound as exc:
        raise Http404("No such fact.") from exc


def _fact_fragment(
    request: HtmxHttpRequest,
    fact: Fact,
    part: str,
    *,
    form: FactCorrectForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The fact's row or its edit form; without htmx, the whole page around it."""
    context = {"character": fact.character, "fact": fact, "form": form}
    if request.htmx:
        return render(request, f"memories/_panel.html#{part}", context, status=status)
    memory = services.memory_panel(user=request.user, character=fact.character)
    editing = fact.pk if part == "fact_form" else None
    context |= {"memory": memory, "editing": editing}
    return render(request, "memories/page.html", context, status=status)
