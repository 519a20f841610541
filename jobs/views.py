from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from jobs import services
from jobs.forms import JobFilterForm
from jobs.services import JobNotFound, JobRefused
from project.http import HtmxHttpRequest

PAGE_SIZE = 25


@require_GET
def job_list(request: HtmxHttpRequest) -> HttpResponse:
    filters = JobFilterForm(request.GET or None, staff=request.user.is_staff)
    jobs = filters.apply(services.jobs_visible_to(request.user))
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filters": filters, "page": page, "jobs": page.object_list}
    return render(request, "jobs/list.html", context)


@require_GET
def job_card(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    in_chat = request.GET.get("in") == "chat"
    return render(request, "jobs/_card.html", {"job": job, "in_chat": in_chat})


@require_POST
def job_cancel(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    return _act(request, job_id, services.job_cancel)


@require_POST
def job_retry(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    return _act(request, job_id, services.job_retry)


@require_GET
def job_file(request: HtmxHttpRequest, file_id: int) -> FileResponse:
    try:
        stored = services.file_for_user(request.user, file_id)
    except JobNotFound as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(
        stored.file.open("rb"),
        content_type=stored.content_type,
        as_attachment=not stored.is_image(),
        filename=stored.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _act(request: HtmxHttpRequest, job_id: int, action) -> HttpResponse:
    _job_or_404(request, job_id)
    try:
        job = action(user=request.user, job_id=job_id)
    except JobRefused as exc:
        if not request.htmx:
            messages.error(request, str(exc))
            return redirect("jobs:list")
        job = _job_or_404(request, job_id)
        context = {"job": job, "in_chat": request.POST.get("in") == "chat", "refusal": str(exc)}
        return render(request, "jobs/_card.html", context)
    if not request.htmx:
        return redirect("jobs:list")
    job = _job_or_404(request, job.pk)
    return render(
        request, "jobs/_card.html", {"job": job, "in_chat": request.POST.get("in") == "chat"}
    )


def _job_or_404(request: HtmxHttpRequest, job_id: int):
    try:
        return services.job_for_user(request.user, job_id)
    except JobNotFound as exc:
        raise Http404("No such job.") from exc
