from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from jobs.models import Job, JobFile


class JobFileInline(admin.TabularInline):
    model = JobFile
    extra = 0
    can_delete = False
    fields = ("position", "name", "content_type", "size", "created_at")
    readonly_fields = fields


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "owner", "progress", "created_at", "finished_at")
    list_filter = ("kind", "status", "created_at")
    search_fields = ("owner__username", "error", "note", "upstream_id")
    list_select_related = ("owner",)
    readonly_fields = ("card", *[f.name for f in Job._meta.fields])
    fields = (
        "card",
        "kind",
        "status",
        "owner",
        "character",
        "message",
        "params",
        "result",
        "error",
        "upstream_id",
        "steps",
        "next_run_at",
        "deadline_at",
        "claimed_by",
        "claimed_until",
        "created_at",
        "started_at",
        "finished_at",
    )
    inlines = [JobFileInline]
    change_form_template = "jobs/admin_change_form.html"

    class Media:
        css = {"all": ["css/jobs.css"]}

    @admin.display(description=_("Job"))
    def card(self, obj: Job) -> str:
        return render_to_string("jobs/_card.html", {"job": obj, "in_chat": False})

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
