"""Telling open pages that a job changed.

A job that belongs to a chat message is pushed to that conversation's sockets as a `job` frame
holding the card's HTML. From a Celery worker this reaches the browsers only when the channel
layer spans processes (Redis); the card's own htmx polling covers the embedded setup.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from django.template.loader import render_to_string

from jobs.models import Job

logger = logging.getLogger(__name__)


def job_changed(job: Job) -> None:
    if job.message_id is None:
        return
    from conversations import relay

    job = Job.objects.select_related("message").prefetch_related("files").get(pk=job.pk)
    frame = {
        "type": "job",
        "job_id": job.pk,
        "message_id": job.message_id,
        "status": job.status,
        "html": render_to_string("jobs/_card.html", {"job": job, "in_chat": True}),
    }
    try:
        async_to_sync(relay.publish)(job.message.session_id, frame)
    except Exception:  # the card's polling still brings the change
        logger.exception("Could not push job %s to its conversation", job.pk)
