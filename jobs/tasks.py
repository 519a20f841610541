"""Celery tasks of jobs: they take ids; the row says what to do."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, acks_late=True)
def job_step(self, job_id: int) -> float | None:  # noqa: ANN001 - Celery's bound task
    from jobs import services

    delay = services.job_step(job_id)
    # Eagerly run tasks cannot wait; the sweep queues the next step when it is due.
    if delay is not None and not self.request.is_eager:
        job_step.apply_async((job_id,), countdown=delay)
    return delay


@shared_task
def job_sweep() -> int:
    from jobs import services

    return services.job_sweep()
