"""The ratings dashboard and the export (both take the queue's filters)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django import forms
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from project.http import HtmxHttpRequest
from ratings import exports
from ratings.access import rater_required
from ratings.charts import trend_chart
from ratings.queries import ReplyFilterForm, rateable_replies
from ratings.stats import MIN_KAPPA_OVERLAP, dashboard_stats

_CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}


class ExportOptionsForm(forms.Form):
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("jsonl", "JSONL")])
    context = forms.IntegerField(
        required=False, min_value=0, max_value=100, initial=exports.DEFAULT_CONTEXT_MESSAGES
    )


@require_GET
@rater_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    filters = ReplyFilterForm(request.GET or None)
    replies = filters.apply(rateable_replies())
    period = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    stats = dashboard_stats(replies=replies, since=period.get("since"), until=period.get("until"))
    context = {
        "filters": filters,
        "stats": stats,
        "chart": trend_chart(stats.trend, unit=stats.trend_unit),
        "min_overlap": MIN_KAPPA_OVERLAP,
        "query": request.GET.urlencode(),
    }
    # Filters swap the report alone; a history restore needs the whole page.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "ratings/dashboard.html#report" if partial else "ratings/dashboard.html"
    return render(request, template, context)


@require_GET
@rater_required
def export(request: HttpRequest) -> HttpResponse:
    options = ExportOptionsForm(request.GET)
    if not options.is_valid():
        return HttpResponseBadRequest("format must be csv or jsonl; context 0 to 100.")
    filters = ReplyFilterForm(request.GET)
    context_messages = options.cleaned_data["context"]
    if context_messages is None:
        context_messages = exports.DEFAULT_CONTEXT_MESSAGES
    rows = exports.export_rows(
        replies=filters.apply(rateable_replies()),
        matching=filters.rating_conditions(),
        context_messages=context_messages,
    )
    kind = options.cleaned_data["format"]
    chunks = exports.csv_chunks(rows) if kind == "csv" else exports.jsonl_chunks(rows)
    response = StreamingHttpResponse(_streamed(request, chunks), content_type=_CONTENT_TYPES[kind])
    name = f"ratings-{timezone.localtime():%Y%m%d-%H%M%S}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _streamed(request: HttpRequest, chunks: Iterator[str]) -> Iterator[str] | AsyncIterator[str]:
    # Under ASGI (daphne) Django would read a plain iterator to the end before sending a byte;
    # an async one that fetches each chunk in the sync thread streams it.
    if isinstance(request, ASGIRequest):
        return _async_chunks(chunks)
    return chunks


async def _async_chunks(chunks: Iterator[str]) -> AsyncIterator[str]:
    next_chunk = sync_to_async(next, thread_sensitive=True)
    while (chunk := await next_chunk(chunks, None)) is not None:
        yield chunk
