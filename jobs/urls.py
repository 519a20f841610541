from __future__ import annotations

from django.urls import path

from jobs import convert_views, views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:job_id>/card/", views.job_card, name="card"),
    path("<int:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("<int:job_id>/retry/", views.job_retry, name="retry"),
    path("files/<int:file_id>/", views.job_file, name="file"),
    path("convert/", convert_views.convert_page, name="convert"),
    # Fetched by Xingchen; the suffix tells it what kind of file to expect.
    path("sources/<uuid:token>.xlsx", convert_views.convert_source, name="convert_source"),
]
