from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _resume_work_of_dead_workers(**kwargs: Any) -> None:
    # A worker killed mid-push takes its message with it (the filesystem broker keeps none once
    # read): the outbox row is the record, and the push goes out again now, not after its lease.
    from django.db import connections

    from characters.services import character_push_release_orphans
    from jobs.services import jobs_resume_orphans
    from ratings.services import rating_push_release_orphans

    try:
        character_push_release_orphans()
        jobs_resume_orphans()
        rating_push_release_orphans()
    finally:
        connections.close_all()
