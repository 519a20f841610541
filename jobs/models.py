"""Slow upstream work a user waits for: a picture being drawn, a workbook being converted, a
description being written, facts being remembered. The row is the truth; broker messages only
say "look at this job now"."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jobs.storage import private


class Job(models.Model):
    class Kind(models.TextChoices):
        PICTURE = "picture", _("Picture")
        CONVERT = "convert", _("Excel to Word")
        DESCRIBE = "describe", _("Character description")
        MEMORY = "memory", _("Memory")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Done")
        EMPTY = "empty", _("Nothing to do")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(max_length=12, choices=Kind)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, as far as it can be told
    note = models.CharField(max_length=200, blank=True)  # what is happening, for people
    error = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    # The upstream's id of the work (an image task, a conversion task), once it has one.
    upstream_id = models.CharField(max_length=100, blank=True)
    message = models.ForeignKey(
        "conversations.Message",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="jobs",
    )
    character = models.ForeignKey(
        "characters.Character", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    steps = models.PositiveIntegerField(default=0)
    next_run_at = models.DateTimeField(default=timezone.now)
    deadline_at = models.DateTimeField()
    # The process running a step now and until when; a step of a dead process is taken over.
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # An unguessable token for what the upstream must fetch from us (a workbook), valid while
    # the job runs.
    public_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
            models.Index(
                fields=["next_run_at"],
                condition=Q(status__in=["queued", "running"]),
                name="job_active_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.CANCELLED)


class JobFile(models.Model):
    """A stored result file (a picture, a document), kept in private storage."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(storage=private, upload_to="jobs/%Y/%m/", max_length=200)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("job file")
        verbose_name_plural = _("job files")
        ordering = ["position"]
        constraints = [
            # A step that runs again after a crash stores nothing twice.
            models.UniqueConstraint(fields=["job", "position"], name="job_file_once"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
