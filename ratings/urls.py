"""The staff rating workbench under /staff/ratings/ (every view needs the rate permission)."""

from __future__ import annotations

from ratings import urls_queue, urls_reminders, urls_reports

app_name = "ratings"

urlpatterns = [*urls_queue.urlpatterns, *urls_reports.urlpatterns, *urls_reminders.urlpatterns]
