"""The rating queue: replies to rate, one card each, saved in place with htmx."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from project.http import HtmxHttpRequest
from ratings import services, workbench
from ratings.access import rater_required
from ratings.queries import ReplyFilterForm, rateable_replies

PAGE_SIZE = 20


@require_GET
@rater_required
def queue(request: HtmxHttpRequest) -> HttpResponse:
    filters = ReplyFilterForm(request.GET or None)
    replies = workbench.queue_replies(filters.apply(rateable_replies()))
    page = Paginator(replies, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "cards": workbench.reply_cards(page.object_list, rater=request.user),
        "reasons": workbench.keyed_reasons(),
    }
    # Filters and the pager swap the list alone; a history restore needs the whole page.
    partial = request.htmx and not request.htmx.history_restore_request
    return render(request, "ratings/queue.html#list" if partial else "ratings/queue.html", context)


@require_POST
@rater_required
def rate(request: HtmxHttpRequest, message_id: int) -> HttpResponse:
    card = workbench.reply_card(message_id, rater=request.user)
    if card is None:
        raise Http404("No such reply.")
    form = workbench.RatingForm(request.POST)
    if form.is_valid():
        try:
            services.rating_save(message=card.reply, rater=request.user, **form.cleaned_data)
        except services.RatingRefused as refused:
            card.errors = [refused.message]
        else:
            card = workbench.reply_card(message_id, rater=request.user)
            card.saved = True
    else:
        card.errors = [error for errors in form.errors.values() for error in errors]
    if card.errors:
        card.draft = form.draft()
    if not request.htmx:
        _flash(request, card)
        return redirect("ratings:queue")
    context = {"card": card, "reasons": workbench.keyed_reasons()}
    return render(request, "ratings/_reply.html", context)


def _flash(request: HtmxHttpRequest, card: workbench.ReplyCard) -> None:
    for error in card.errors:
        messages.error(request, error)
    if card.saved:
        messages.success(request, _("Rating saved."))
