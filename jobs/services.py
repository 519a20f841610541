"""Running jobs: create, one step at a time, cancel, retry, sweep, and who may see them.

A step is claimed in a transaction (status, lease, holder), run outside it, and its outcome
recorded only if the job is still this step's: a cancelled job or a claim taken over after a
crash discards what a late step brings. Broker messages carry only ids, and the beat sweep
re-queues whatever is due, so a lost message (a killed worker on the filesystem broker) costs at
most one sweep interval.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jobs import events, tasks
from jobs.kinds import kind_module
from jobs.models import Job, JobFile
from jobs.steps import Again, Empty, Failed, Step, Succeeded
from project import holders

logger = logging.getLogger(__name__)

# Lost broker messages are found by the sweep this long after the job was due.
SWEEP_GRACE = timedelta(seconds=10)


class JobNotFound(Exception):
    """No such job for this user (also when it exists but belongs to someone else)."""


class JobRefused(Exception):
    """An action the job's state does not allow; the message is meant for the user."""


@dataclass(frozen=True)
class _Claim:
    job: Job
    holder: str


# --- creating and finding ------------------------------------------------------------------


def job_create(
    *,
    owner: AbstractBaseUser,
    kind: str,
    params: dict[str, Any] | None = None,
    note: str = "",
    **links: Any,
) -> Job:
    """Saves a queued job and queues its first step once the transaction commits."""
    now = timezone.now()
    job = Job.objects.create(
        owner=owner,
        kind=kind,
        params=params or {},
        note=note or gettext_noop("Waiting for a worker"),
        deadline_at=now + deadline_of(kind),
        next_run_at=now,
        created_at=now,
        **links,
    )
    transaction.on_commit(lambda: tasks.job_step.delay(job.pk))
    return job


def deadline_of(kind: str) -> timedelta:
    return timedelta(seconds=settings.JOB_DEADLINES.get(kind, settings.JOB_DEFAULT_DEADLINE))


def jobs_visible_to(user: AbstractBaseUser) -> QuerySet[Job]:
    jobs = Job.objects.select_related("owner", "character", "message").prefetch_related("files")
    return jobs if user.is_staff else jobs.filter(owner=user)


def job_for_user(user: AbstractBaseUser, job_id: int) -> Job:
    job = jobs_visible_to(user).filter(pk=job_id).first()
    if job is None:
        raise JobNotFound(job_id)
    return job


def file_for_user(user: AbstractBaseUser, file_id: int) -> JobFile:
    found = JobFile.objects.select_related("job").filter(pk=file_id).first()
    if found is None or not (user.is_staff or found.job.owner_id == user.pk):
        raise JobNotFound(file_id)
    return found


# --- running -------------------------------------------------------------------------------


def job_step(job_id: int) -> float | None:
    """Runs one step of the job if it is due and nobody runs it; returns the seconds until the
    next step, or None when there is nothing more to schedule."""
    claim = _claim(job_id)
    if claim is None:
        return None
    job = claim.job
    try:
        outcome = kind_module(job.kind).step(job)
    except Exception as exc:
        outcome = _outcome_of_error(job, exc)
    return _record(claim, outcome)


def _claim(job_id: int) -> _Claim | None:
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not job.is_active():
            return None
        if job.claimed_until and job.claimed_until > now:
            return None  # another step of this job is running
        if job.deadline_at <= now:
            _finish(job, Job.Status.FAILED, error=_overdue_error(job))
            transaction.on_commit(lambda: events.job_changed(job))
            return None
        if job.next_run_at > now + timedelta(seconds=1):
            return None  # an early duplicate; the scheduled one will come
        holder = holders.current()
        job.status = Job.Status.RUNNING
        job.started_at = job.started_at or now
        job.steps += 1
        job.claimed_by = holder
        job.claimed_until = now + timedelta(seconds=settings.JOB_STEP_LEASE)
        if job.steps == 1 and job.note == "Waiting for a worker":
            job.note = gettext_noop("Started")
        job.save()
    if job.steps == 1:
        events.job_changed(job)
    return _Claim(job, holder)


def _outcome_of_error(job: Job, exc: Exception) -> Step:
    from platforms.xingchen.errors import XingchenError

    if isinstance(exc, XingchenError) and exc.retryable:
        wait = max(exc.retry_after or 0, 2.0 * job.steps)
        return Again(delay=min(wait, 60.0), note=gettext_noop("Xingchen is busy; trying again"))
    if isinstance(exc, XingchenError):
        return Failed(exc.message)  # the client words it for people, naming Xingchen
    logger.exception("Step of job %s failed", job.pk)
    return Failed(gettext_noop("Something went wrong on our side; try again."))


def _record(claim: _Claim, outcome: Step) -> float | None:
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=claim.job.pk).first()
        if job is None or job.status != Job.Status.RUNNING or job.claimed_by != claim.holder:
            return None  # cancelled meanwhile, or taken over after this step was given up
        job.claimed_by, job.claimed_until = "", None
        delay: float | None = None
        if isinstance(outcome, Again):
            delay = outcome.delay
            job.next_run_at = now + timedelta(seconds=delay)
            if outcome.progress is not None:
                job.progress = max(job.progress, min(99, outcome.progress))
            job.note = outcome.note or job.note
            job.save()
        elif isinstance(outcome, Succeeded):
            job.result = outcome.result
            _finish(job, Job.Status.SUCCEEDED, note=outcome.note or gettext_noop("Done"))
        elif isinstance(outcome, Empty):
            _finish(job, Job.Status.EMPTY, note=outcome.note)
        else:
            _finish(job, Job.Status.FAILED, error=outcome.error)
        transaction.on_commit(lambda: events.job_changed(job))
    return delay


def _finish(job: Job, status: str, *, note: str = "", error: str = "") -> None:
    job.status = status
    job.finished_at = timezone.now()
    job.claimed_by, job.claimed_until = "", None
    if status in (Job.Status.SUCCEEDED, Job.Status.EMPTY):
        job.progress = 100
    job.note = note or job.get_status_display()
    job.error = error[:500]
    job.save()


def _overdue_error(job: Job) -> str:
    minutes = max(1, round(deadline_of(job.kind).total_seconds() / 60))
    return f"Gave up after {minutes} min: the upstream did not finish in time."


def store_file(
    job: Job, *, position: int, name: str, content: bytes, content_type: str = ""
) -> JobFile:
    """Stores a result file once: a step that runs again after a crash finds it stored."""
    existing = job.files.filter(position=position).first()
    if existing is not None:
        return existing
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    stored = JobFile(
        job=job, position=position, name=name, content_type=content_type, size=len(content)
    )
    stored.file.save(name, ContentFile(content), save=False)
    try:
        with transaction.atomic():
            stored.save()
    except IntegrityError:
        stored.file.delete(save=False)
        return job.files.get(position=position)
    return stored


# --- people's actions ----------------------------------------------------------------------


def job_cancel(*, user: AbstractBaseUser, job_id: int) -> Job:
    with transaction.atomic():
        job = job_for_user(user, job_id)
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job.is_active():
            raise JobRefused(_("This job has already ended."))
        _finish(job, Job.Status.CANCELLED, note=gettext_noop("Cancelled"))
        transaction.on_commit(lambda: events.job_changed(job))
    return job


def job_retry(*, user: AbstractBaseUser, job_id: int) -> Job:
    with transaction.atomic():
        job = job_for_user(user, job_id)
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job.can_retry():
            raise JobRefused(_("Only a failed or cancelled job can be tried again."))
        prepare = getattr(kind_module(job.kind), "prepare_retry", None)
        if prepare is not None:
            prepare(job)
        now = timezone.now()
        job.status, job.error, job.progress, job.steps = Job.Status.QUEUED, "", 0, 0
        job.note = gettext_noop("Waiting for a worker")
        job.next_run_at, job.deadline_at = now, now + deadline_of(job.kind)
        job.finished_at = None
        job.save()
        transaction.on_commit(lambda: tasks.job_step.delay(job.pk))
        transaction.on_commit(lambda: events.job_changed(job))
    return job


# --- the sweep -----------------------------------------------------------------------------


def job_sweep() -> int:
    """Frees steps of dead processes, fails overdue jobs, re-queues due ones; returns how many
    steps were queued."""
    now = timezone.now()
    _release_dead_claims()
    active = Job.objects.filter(status__in=Job.ACTIVE)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    for job in active.filter(free, deadline_at__lte=now):
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            if locked.is_active():
                _finish(locked, Job.Status.FAILED, error=_overdue_error(locked))
                transaction.on_commit(lambda locked=locked: events.job_changed(locked))
    due = list(active.filter(free, next_run_at__lte=now - SWEEP_GRACE).values_list("pk", flat=True))
    for job_id in due:
        tasks.job_step.delay(job_id)
    return len(due)


def jobs_resume_orphans() -> int:
    """At worker start: what a killed worker was running goes on at once, not after a sweep."""
    released = _release_dead_claims()
    for job_id in released:
        tasks.job_step.delay(job_id)
    return len(released)


def _release_dead_claims() -> list[int]:
    """Steps whose process is provably gone (killed mid-step) are freed and due now."""
    active = Job.objects.filter(status__in=Job.ACTIVE)
    released = holders.release_dead_claims(active, next_run_at=timezone.now())
    for job_id, holder in released:
        logger.info("Job %s was being run by %s, which is gone: resuming it", job_id, holder)
    return [job_id for job_id, _ in released]
