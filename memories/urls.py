from __future__ import annotations

from django.urls import URLPattern, path

from memories import views

app_name = "memories"

urlpatterns: list[URLPattern] = [
    path("<int:character_id>/", views.memory_panel, name="panel"),
    path("facts/<int:fact_id>/", views.fact_detail, name="fact"),
    path("facts/<int:fact_id>/edit/", views.fact_edit, name="fact_edit"),
    path("facts/<int:fact_id>/delete/", views.fact_delete, name="fact_delete"),
]
