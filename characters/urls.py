from __future__ import annotations

from django.urls import URLPattern, path

from characters import views

app_name = "characters"

urlpatterns: list[URLPattern] = [
    path("", views.gallery, name="gallery"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/describe/", views.describe, name="describe"),
    path("describe-sources/<uuid:token>/", views.describe_source, name="describe_source"),
]
