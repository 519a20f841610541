"""Celery tasks of the ratings app: thin wrappers that take ids and call services."""

from __future__ import annotations

from celery import shared_task

from ratings import services


@shared_task(bind=True, max_retries=None)
def rating_push(self, push_id: int) -> str:  # noqa: ANN001 - Celery's bound task
    """Sends one outbox entry; the service counts attempts and says when to try again."""
    outcome = services.rating_push_run(push_id=push_id)
    # Eagerly run tasks cannot wait: the overdue-push sweep picks the push up again instead.
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


@shared_task
def rating_push_sweep() -> int:
    return services.rating_push_sweep()
