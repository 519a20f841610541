from __future__ import annotations

from celery import shared_task

from conversations import services


@shared_task
def reply_sweep() -> int:
    """Ends replies whose server process died mid-reply (their lease ran out)."""
    return services.message_end_abandoned()
