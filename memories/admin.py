from __future__ import annotations

from django.contrib import admin

from memories.models import Fact, Progress, Summary


@admin.register(Fact)
class FactAdmin(admin.ModelAdmin):
    list_display = ("key", "values", "state", "user", "character", "updated_at")
    list_filter = ("state", "character")
    search_fields = ("key", "user__username", "character__name")
    list_select_related = ("user", "character")
    readonly_fields = ("source_message_ids", "edited_through", "created_at", "updated_at")


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "character", "through_message_id", "created_at")
    list_filter = ("character",)
    search_fields = ("user__username", "character__name")
    list_select_related = ("user", "character")
    readonly_fields = ("source_message_ids", "through_message_id", "created_at")


@admin.register(Progress)
class ProgressAdmin(admin.ModelAdmin):
    list_display = ("user", "character", "extracted_through")
    list_select_related = ("user", "character")
