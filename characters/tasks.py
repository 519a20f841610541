"""Celery tasks of the characters app: thin wrappers that take ids and call services."""

from __future__ import annotations

from celery import shared_task

from characters import services
from platforms.xingchen.errors import XingchenError

PULL_RETRY_SECONDS = (30, 120, 600)


@shared_task(bind=True, max_retries=None)
def character_push(self, push_id: int) -> str:  # noqa: ANN001 - Celery's bound task
    """Sends one outbox entry; the service counts attempts and says when to try again."""
    outcome = services.character_push_run(push_id=push_id)
    # Eagerly run tasks cannot wait: the overdue-push sweep picks the push up again instead.
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


@shared_task
def character_push_sweep() -> int:
    return services.character_push_sweep()


@shared_task(bind=True, max_retries=len(PULL_RETRY_SECONDS))
def character_pull_all(self, scopes: list[str] | None = None) -> str:  # noqa: ANN001
    try:
        report = services.character_pull_all(scopes=scopes or ["my"])
    except XingchenError as exc:
        if not exc.retryable or self.request.is_eager:
            raise
        countdown = max(PULL_RETRY_SECONDS[min(self.request.retries, 2)], exc.retry_after or 0)
        raise self.retry(countdown=countdown, exc=exc) from exc
    return report.summary()
