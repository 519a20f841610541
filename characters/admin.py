"""Character editing in the Django admin.

Saving never calls Xingchen: it stores the row and its outbox entry, and a Celery task pushes.
The sync actions (push now, pull, versions) call services, which talk to Xingchen synchronously
and report back through `messages`. A description is a job: the request only queues it, and its
page (or its card anywhere) offers the result to accept or discard.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from characters import services
from characters.forms import CharacterAdminForm, DescribeSourceForm, DescriptionForm
from characters.models import OPEN_PUSH_STATES, Character, CharacterPush, PushState, SyncState
from conversations.rendering import markdown_to_html
from jobs.models import Job
from jobs.services import JobNotFound, job_for_user
from platforms.xingchen.errors import XingchenError

_SYNC_FIELDS = (
    "sync_state",
    "sync_error",
    "remote_id",
    "remote_version",
    "audit_status_label",
    "config_status_label",
    "green_status_label",
    "manageable",
    "is_pre_configured",
    "tags",
    "remote_modified_at",
    "synced_at",
)
_PROBLEM_STATES = (SyncState.WAITING, SyncState.FAILED, SyncState.CONFLICTED, SyncState.PENDING)
_PREVIEW_MAX_CHARS = 10_000
# Xingchen's review and shelf statuses in words ("succcess" arrives as "success").
_STATUS_LABELS = {
    "review": _("in review"),
    "update": _("update in review"),
    "success": _("passed"),
    "refuse": _("refused"),
    "normal": _("on shelf"),
    "out": _("off shelf"),
}


def status_label(value: str) -> str | None:
    """A review or shelf status in the reader's language; one Xingchen added later as it is
    spelt; None (the admin's dash) for none."""
    return str(_STATUS_LABELS.get(value, value)) if value else None


def _upstream_error(request: HttpRequest, action: str, exc: XingchenError) -> None:
    values = {"action": action, "message": exc.message, "status": exc.status}
    if exc.status:
        text = gettext("%(action)s failed: Xingchen said “%(message)s” (HTTP %(status)s).")
    else:
        text = gettext("%(action)s failed: Xingchen said “%(message)s”.")
    messages.error(request, text % values)


class _StatusFilter(admin.SimpleListFilter):
    """The statuses the characters have, in words; the query string keeps Xingchen's value."""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str | None]]:
        field = self.parameter_name
        values = Character.objects.exclude(**{field: ""}).values_list(field, flat=True)
        return [(value, status_label(value)) for value in sorted(set(values))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Character]) -> QuerySet[Character]:
        value = self.value()
        return queryset.filter(**{self.parameter_name: value}) if value else queryset


class _AuditStatusFilter(_StatusFilter):
    title = _("publication review")
    parameter_name = "audit_status"


class _ConfigStatusFilter(_StatusFilter):
    title = _("shelf status")
    parameter_name = "config_status"


class _GreenStatusFilter(_StatusFilter):
    title = _("moderation status")
    parameter_name = "green_status"


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    form = CharacterAdminForm
    change_form_template = "admin/characters/character/change_form.html"
    change_list_template = "admin/characters/character/change_list.html"
    list_display = (
        "avatar_thumb",
        "name",
        "reply_platform",
        "sync_badge",
        "open_pushes",
        "audit_status_label",
        "config_status_label",
        "remote_id",
        "updated_at",
    )
    list_display_links = ("avatar_thumb", "name")
    list_filter = (
        "reply_platform",
        "sync_state",
        _AuditStatusFilter,
        _ConfigStatusFilter,
        _GreenStatusFilter,
        "manageable",
        "is_deleted",
    )
    search_fields = ("name", "introduction", "remote_id")
    readonly_fields = ("avatar_preview", "opening_line_preview", *_SYNC_FIELDS)
    actions = ("push_now", "pull_selected", "generate_description", "list_versions")
    list_per_page = 50

    class Media:
        css = {"all": ("css/character_editor.css",)}
        js = ("js/character_platform.js", "js/character_editor.js")

    fieldsets = (
        (
            _("Persona"),
            {
                "fields": (
                    "name",
                    ("avatar", "avatar_preview"),
                    "introduction",
                    "basic_information",
                    "opening_line",
                    "opening_line_preview",
                    "traits",
                    "chat_example",
                    "character_type",
                    "chat_objective",
                    "role_types",
                )
            },
        ),
        (
            _("Replies"),
            {
                "fields": ("reply_platform", "privacy_mode", "reset_forgets_memories"),
                "description": _(
                    "Which upstream writes this character's replies, and whether personal data "
                    "is masked before anything leaves. Only the settings of the chosen platform "
                    "are shown below."
                ),
            },
        ),
        (
            _("Xingchen: behaviour"),
            {
                "classes": ("platform-settings", "platform-xingchen"),
                "fields": (
                    "model_name",
                    ("temperature", "top_p", "top_k", "max_length"),
                    "function_list",
                ),
            },
        ),
        (
            _("Xingchen: memory and plugins"),
            {
                "classes": ("platform-settings", "platform-xingchen"),
                "fields": (
                    ("is_real_info", "search_keyword"),
                    "is_real_time",
                    "short_term_memory_round",
                    "long_term_memories",
                    "platform_plugins",
                    "knowledge_bases",
                ),
            },
        ),
        (
            _("DMS: Qwen with personal-data masking"),
            {
                "classes": ("platform-settings", "platform-dms"),
                "fields": (
                    "dms_model",
                    ("dms_masking", "dms_masking_rule"),
                    ("dms_temperature", "dms_top_p", "dms_top_k"),
                    ("dms_presence_penalty", "dms_seed", "dms_max_tokens"),
                    ("dms_thinking", "dms_thinking_budget"),
                    "dms_web_search",
                ),
            },
        ),
        (
            _("Lingma: answers from knowledge bases"),
            {
                "classes": ("platform-settings", "platform-lingma"),
                "fields": (
                    "lingma_team_docs",
                    "lingma_kb_ids",
                    ("lingma_temperature", "lingma_top_p", "lingma_top_k"),
                    ("lingma_seed", "lingma_max_tokens"),
                ),
            },
        ),
        (
            _("Sharing on Xingchen"),
            {
                "fields": ("perm_is_public", "perm_allow_chat", "perm_allow_api"),
                "description": _(
                    "Who else may see or use this character on Xingchen itself. Chats in this "
                    "studio do not need any of these."
                ),
            },
        ),
        (_("Sync with Xingchen"), {"fields": _SYNC_FIELDS}),
    )

    # --- list columns --------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Character]:
        return (
            super()
            .get_queryset(request)
            .annotate(open_push_count=Count("pushes", filter=Q(pushes__state__in=OPEN_PUSH_STATES)))
        )

    @admin.display(description="")
    def avatar_thumb(self, obj: Character) -> str:
        if not obj.avatar:
            return format_html('<span class="character-initial">{}</span>', obj.name[:1])
        return format_html('<img src="{}" alt="" class="character-thumb">', obj.avatar.url)

    @admin.display(description=_("Avatar preview"))
    def avatar_preview(self, obj: Character) -> str:
        # `character_editor.js` shows a newly chosen file here before it is uploaded.
        if not obj.avatar:
            return format_html(
                '<img alt="" class="character-preview" data-avatar-preview hidden>'
                "<span data-avatar-empty>{}</span>",
                gettext("No avatar yet."),
            )
        return format_html(
            '<img src="{}" alt="" class="character-preview" data-avatar-preview>', obj.avatar.url
        )

    @admin.display(description=_("Opening line as the chat shows it"))
    def opening_line_preview(self, obj: Character) -> str:
        # Rendered like the opening message of a chat; the script re-renders it while typing.
        return format_html(
            '<div class="opening-preview" data-opening-preview data-preview-url="{}" '
            'aria-live="polite">{}</div>',
            reverse("admin:characters_character_preview_opening_line"),
            markdown_to_html(obj.opening_line) if obj.opening_line.strip() else "",
        )

    @admin.display(description=_("Sync"), ordering="sync_state")
    def sync_badge(self, obj: Character) -> str:
        problem = self.sync_error(obj) if obj.sync_state in _PROBLEM_STATES else ""
        return format_html(
            '<span class="sync-badge sync-{}">{}</span>{}',
            obj.sync_state,
            obj.get_sync_state_display(),
            format_html('<div class="sync-reason">{}</div>', problem) if problem else "",
        )

    @admin.display(description=_("Open pushes"), ordering="open_push_count")
    def open_pushes(self, obj: Character) -> int:
        return obj.open_push_count

    @admin.display(description=_("last sync error"))
    def sync_error(self, obj: Character) -> str:
        return services.SYNC_MESSAGES.shown(obj.last_sync_error)

    @admin.display(description=_("publication review"), ordering="audit_status")
    def audit_status_label(self, obj: Character) -> str | None:
        return status_label(obj.audit_status)

    @admin.display(description=_("shelf status"), ordering="config_status")
    def config_status_label(self, obj: Character) -> str | None:
        return status_label(obj.config_status)

    @admin.display(description=_("moderation status"), ordering="green_status")
    def green_status_label(self, obj: Character) -> str | None:
        return status_label(obj.green_status)

    # --- permissions -------------------------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: Character | None = None) -> bool:
        # Deleted rows and characters of other Xingchen accounts are shown read-only.
        if obj is not None and (obj.is_deleted or not obj.manageable):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Character | None = None) -> bool:
        if obj is not None and obj.is_deleted:
            return False
        return super().has_delete_permission(request, obj)

    # --- saving through the services ----------------------------------------------------------

    def delete_model(self, request: HttpRequest, obj: Character) -> None:
        services.character_delete(character=obj)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        # Deletion is soft (chats keep their character), so nothing else is deleted with it.
        names = [str(obj) for obj in objs]
        return names, {str(self.opts.verbose_name_plural): len(names)}, set(), []

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        for character in queryset:
            services.character_delete(character=character)

    def response_add(self, request: HttpRequest, obj: Character, *args: Any) -> HttpResponse:
        transaction.on_commit(partial(self._report_sync, request, obj))
        return super().response_add(request, obj, *args)

    def response_change(self, request: HttpRequest, obj: Character) -> HttpResponse:
        transaction.on_commit(partial(self._report_sync, request, obj))
        return super().response_change(request, obj)

    def message_user(
        self, request: HttpRequest, message: str, level: int = messages.INFO, *args: Any, **kw: Any
    ) -> None:
        # Django's own "was added/changed successfully" would be a second message about the
        # same save: `_report_sync` says it once, with where the change stands on Xingchen.
        if level == messages.SUCCESS and getattr(request, "_character_save_reported", False):
            return
        super().message_user(request, message, level, *args, **kw)

    def save_model(self, request: HttpRequest, obj: Character, form: Any, change: bool) -> None:
        if change:
            services.character_update(character=obj)
        else:
            services.character_create(character=obj)
        request._character_save_reported = True  # type: ignore[attr-defined]

    def _report_sync(self, request: HttpRequest, obj: Character) -> None:
        # Runs after commit, behind the queued push: when the push ran at once, say how it went.
        obj.refresh_from_db()
        if obj.sync_state == SyncState.SYNCED:
            messages.success(
                request, gettext("“%(name)s” was saved and is on Xingchen.") % {"name": obj}
            )
        elif obj.sync_state in (SyncState.WAITING, SyncState.FAILED, SyncState.CONFLICTED):
            messages.warning(
                request,
                gettext("“%(name)s” was saved here but is not on Xingchen yet: %(error)s")
                % {"name": obj, "error": self.sync_error(obj)},
            )
        else:
            messages.success(
                request,
                gettext("“%(name)s” was saved; the change is on its way to Xingchen.")
                % {"name": obj},
            )

    # --- actions -------------------------------------------------------------------------------

    @admin.action(description=_("Push now to Xingchen"), permissions=["change"])
    def push_now(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        for character in queryset.filter(is_deleted=False):
            outcome = services.character_push_now(character=character)
            level = messages.SUCCESS if outcome.state == "sent" else messages.WARNING
            shown = services.SYNC_MESSAGES.shown(outcome.message)
            self.message_user(request, f"{character}: {shown}", level)

    @admin.action(description=_("Pull from Xingchen"), permissions=["change"])
    def pull_selected(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        for character in queryset.filter(is_deleted=False):
            try:
                outcome = services.character_pull(character=character)
            except XingchenError as exc:
                _upstream_error(request, gettext("Pulling %(name)s") % {"name": character}, exc)
                continue
            self.message_user(request, f"{character}: {_PULL_OUTCOMES[outcome]}")

    @admin.action(description=_("Generate a description"), permissions=["change"])
    def generate_description(
        self, request: HttpRequest, queryset: QuerySet[Character]
    ) -> HttpResponse | None:
        # Queued, not waited for: each description is written by a job.
        jobs = [
            services.character_describe_start(character=character, user=request.user)
            for character in queryset.filter(is_deleted=False, manageable=True)
        ]
        if len(jobs) == 1:
            return HttpResponseRedirect(_describe_job_url(jobs[0]))
        on_their_way = gettext("%(count)s description(s) on their way; see them under Jobs.")
        self.message_user(request, on_their_way % {"count": len(jobs)}, messages.INFO)
        return HttpResponseRedirect(f"{reverse('jobs:list')}?kind={Job.Kind.DESCRIBE}")

    @admin.action(description=_("List versions on Xingchen"), permissions=["view"])
    def list_versions(
        self, request: HttpRequest, queryset: QuerySet[Character]
    ) -> HttpResponse | None:
        return self._one_character_page(request, queryset, "versions")

    def _one_character_page(
        self, request: HttpRequest, queryset: QuerySet[Character], view: str
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, gettext("Select exactly one character."), messages.WARNING)
            return None
        url = reverse(f"admin:characters_character_{view}", args=[queryset.get().pk])
        return HttpResponseRedirect(url)

    # --- extra pages ---------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("pull-all/", wrap(self.pull_all_view), name="characters_character_pull_all"),
            path(
                "preview-opening-line/",
                wrap(self.preview_opening_line_view),
                name="characters_character_preview_opening_line",
            ),
            path("<int:pk>/push/", wrap(self.push_view), name="characters_character_push"),
            path("<int:pk>/resolve/", wrap(self.resolve_view), name="characters_character_resolve"),
            path(
                "<int:pk>/describe/", wrap(self.describe_view), name="characters_character_describe"
            ),
            path(
                "<int:pk>/describe/<int:job_id>/",
                wrap(self.describe_job_view),
                name="characters_character_describe_job",
            ),
            path(
                "<int:pk>/versions/", wrap(self.versions_view), name="characters_character_versions"
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        character = Character.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        context = dict(extra_context or {})
        if character is not None and character.sync_state == SyncState.CONFLICTED:
            context["conflict_rows"] = services.character_conflict_rows(character=character)
        if character is not None and character.sync_state in (SyncState.WAITING, SyncState.FAILED):
            context["sync_problem"] = self.sync_error(character)
        if character is not None:
            pushes = character.pushes.order_by("-created_at", "-pk")[:10]
            context["recent_pushes"] = [(push, push_progress(push)) for push in pushes]
        return super().change_view(request, object_id, form_url, extra_context=context)

    @method_decorator(require_POST)
    def preview_opening_line_view(self, request: HttpRequest) -> HttpResponse:
        """The opening line being typed, rendered as the chat renders it (sanitised)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        text = request.POST.get("text", "")[:_PREVIEW_MAX_CHARS]
        return HttpResponse(markdown_to_html(text) if text.strip() else "")

    def _character_for_change(self, request: HttpRequest, pk: int) -> Character:
        character = get_object_or_404(Character, pk=pk)
        if not self.has_change_permission(request, character):
            raise PermissionDenied
        return character

    def pull_all_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            report = services.character_pull_all(scopes=request.POST.getlist("scope") or ["my"])
        except XingchenError as exc:
            _upstream_error(request, gettext("Pulling from Xingchen"), exc)
        else:
            level = messages.WARNING if report.errors else messages.SUCCESS
            pulled = gettext("Pulled from Xingchen: %(summary)s.") % {"summary": report.summary()}
            self.message_user(request, pulled, level)
        return HttpResponseRedirect(reverse("admin:characters_character_changelist"))

    def push_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        character = self._character_for_change(request, pk)
        outcome = services.character_push_now(character=character)
        level = messages.SUCCESS if outcome.state == "sent" else messages.WARNING
        self.message_user(request, services.SYNC_MESSAGES.shown(outcome.message), level)
        return HttpResponseRedirect(reverse("admin:characters_character_change", args=[pk]))

    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        character = self._character_for_change(request, pk)
        keep = request.POST.get("keep")
        if keep not in ("mine", "theirs"):
            messages.error(request, gettext("Choose which version to keep."))
        else:
            message = services.character_resolve_conflict(character=character, keep=keep)
            self.message_user(request, message)
        return HttpResponseRedirect(reverse("admin:characters_character_change", args=[pk]))

    def describe_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Asks for a description from text, a file or the persona, as a job."""
        character = self._character_for_change(request, pk)
        form = DescribeSourceForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = services.character_describe_start(
                character=character,
                user=request.user,
                text=form.cleaned_data["text"],
                upload=form.cleaned_data["file"],
            )
            return HttpResponseRedirect(_describe_job_url(job))
        jobs = character.jobs.filter(kind=Job.Kind.DESCRIBE).select_related("owner", "character")
        context = {
            "form": form,
            "jobs": jobs.prefetch_related("files")[:3],
            "title": gettext("%(name)s: generate a description") % {"name": character},
        }
        return self._render(request, "describe", character, context)

    def describe_job_view(self, request: HttpRequest, pk: int, job_id: int) -> HttpResponse:
        """A description job's card; once written, accept it (validated like the change form,
        then pushed) or discard it."""
        character = self._character_for_change(request, pk)
        try:
            job = job_for_user(request.user, job_id)
        except JobNotFound as exc:
            raise Http404(gettext("No such job.")) from exc
        if job.kind != Job.Kind.DESCRIBE or job.character_id != character.pk:
            raise Http404(gettext("No such job."))
        title = gettext("%(name)s: description #%(number)s") % {"name": character, "number": job.pk}
        context: dict[str, Any] = {"job": job, "title": title}
        if request.method == "POST":
            response = self._describe_decide(request, job, context)
            if response is not None:
                return response
            job = job_for_user(request.user, job_id)
        return self._render(request, "describe_job", character, {**context, "job": job})

    def _describe_decide(
        self, request: HttpRequest, job: Job, context: dict[str, Any]
    ) -> HttpResponse | None:
        """Carries out Accept or Discard; None (with what to show in `context`) when the page
        must be shown again."""
        change_url = reverse("admin:characters_character_change", args=[job.character_id])
        try:
            if request.POST.get("decision") == "discard":
                services.character_describe_discard(user=request.user, job_id=job.pk)
                self.message_user(
                    request, gettext("The description was discarded; nothing changed.")
                )
                return HttpResponseRedirect(change_url)
            form = context["describe_form"] = DescriptionForm(request.POST)
            if not form.is_valid():
                return None
            services.character_describe_accept(
                user=request.user,
                job_id=job.pk,
                text=form.cleaned_data["basic_information"],
                confirm=form.cleaned_data["confirm"],
            )
        except services.DescriptionChanged as exc:
            context["describe_changed"] = True
            messages.warning(request, str(exc))
            return None
        except services.DescriptionRefused as exc:
            messages.error(request, str(exc))
            return None
        except ValidationError as exc:
            form.add_service_errors(exc)
            return None
        self.message_user(request, gettext("The description is now the basic information."))
        return HttpResponseRedirect(change_url)

    def versions_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        character = get_object_or_404(Character, pk=pk)
        if not self.has_view_permission(request, character):
            raise PermissionDenied
        try:
            versions = services.character_versions_list(character=character)
        except XingchenError as exc:
            _upstream_error(request, gettext("Listing versions"), exc)
            versions = []
        rows = [
            (version, status_label(version.audit_status), status_label(version.config_status))
            for version in versions
        ]
        title = gettext("%(name)s: versions") % {"name": character}
        return self._render(
            request, "versions", character, {"versions": versions, "rows": rows, "title": title}
        )

    def _render(
        self, request: HttpRequest, page: str, character: Character, context: dict[str, Any]
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": character,
            "title": f"{character}: {page}",
            **context,
        }
        return TemplateResponse(request, f"admin/characters/character/{page}.html", context)


def _describe_job_url(job: Job) -> str:
    return reverse("admin:characters_character_describe_job", args=[job.character_id, job.pk])


_PULL_OUTCOMES = {
    "created": _("imported from Xingchen."),
    "updated": _("updated from Xingchen."),
    "unchanged": _("already up to date."),
    "conflicted": _("changed both here and on Xingchen; choose which version to keep."),
    "skipped": _("not on Xingchen yet."),
}


@admin.register(CharacterPush)
class CharacterPushAdmin(admin.ModelAdmin):
    list_display = (
        "character",
        "operation",
        "state",
        "attempts",
        "progress",
        "updated_at",
    )
    list_filter = ("state", "operation")
    list_select_related = ("character",)
    search_fields = ("character__name", "last_error")
    actions = ("retry",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Progress"))
    def progress(self, push: CharacterPush) -> str:
        return push_progress(push)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("characters.change_character")

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[CharacterPush]) -> None:
        skipped = queryset.exclude(state__in=OPEN_PUSH_STATES).count()
        retried = [
            push
            for push in queryset.filter(state__in=OPEN_PUSH_STATES)
            if services.character_push_retry(push=push)
        ]
        again = gettext("Sending %(count)s push(es) again; see their state below.")
        self.message_user(request, again % {"count": len(retried)})
        if skipped:
            done = gettext("%(count)s were already sent or cancelled.")
            self.message_user(request, done % {"count": skipped}, messages.WARNING)


def push_progress(push: CharacterPush) -> str:
    """Where a push stands, in words: when it was sent, or when it is tried next and why the
    last try failed. A sent push keeps its old retry time in the row; it is not shown."""
    when = _local_time
    if push.state == PushState.SENT:
        return gettext("Sent %(when)s") % {"when": when(push.sent_at or push.updated_at)}
    if push.state == PushState.CANCELLED:
        return gettext("Cancelled; nothing more will be sent")
    parts = []
    if push.last_error:
        error = services.SYNC_MESSAGES.shown(push.last_error)
        parts.append(gettext("Last try failed: %(error)s") % {"error": error})
    if push.next_attempt_at:
        parts.append(gettext("Next attempt %(when)s") % {"when": when(push.next_attempt_at)})
    else:
        parts.append(gettext("Queued; sent as soon as a worker is free"))
    return " · ".join(parts)


def _local_time(moment: Any) -> str:
    return date_format(localtime(moment), "DATETIME_FORMAT")
