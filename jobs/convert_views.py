"""Excel to Word: the upload page, and the address Xingchen fetches the workbook from."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from jobs import convert
from jobs.workbooks import XLSX_CONTENT_TYPE, WorkbookForm
from project import ratelimits
from project.http import HtmxHttpRequest

RECENT = 10


@require_http_methods(["GET", "POST"])
def convert_page(request: HtmxHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, WorkbookForm())
    form = WorkbookForm(request.POST, request.FILES)
    limited = ratelimits.hit(
        group="jobs.convert", key=request.user.pk, rate_setting="JOB_CONVERT_RATE"
    )
    if limited:
        refusal = _("You converted many workbooks lately; try again in %(seconds)d s.") % {
            "seconds": limited.retry_after
        }
        return _page(request, form, status=429, refusal=refusal)
    if not form.is_valid():
        return _page(request, form, status=400)
    job = convert.convert_start(
        owner=request.user, workbook=form.cleaned_data["workbook"], summary=form.summary
    )
    return redirect(f"{reverse('jobs:convert')}#job-{job.pk}")


def _page(
    request: HtmxHttpRequest, form: WorkbookForm, *, status: int = 200, refusal: str = ""
) -> HttpResponse:
    jobs = convert.conversions_of(request.user)[:RECENT]
    context = {"form": form, "jobs": jobs, "refusal": refusal}
    return render(request, "jobs/convert.html", context, status=status)


@login_not_required
@require_safe
def convert_source(request: HtmxHttpRequest, token: UUID) -> FileResponse:
    """The workbook of a running conversion, for Xingchen: no sign-in, but the address holds
    the job's random token and answers 404 once the job has ended."""
    try:
        job, opened = convert.convert_source(token)
    except convert.SourceNotFound as exc:
        raise Http404("No such workbook.") from exc
    response = FileResponse(
        opened,
        content_type=XLSX_CONTENT_TYPE,
        as_attachment=True,
        filename=job.params.get("name") or "workbook.xlsx",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
