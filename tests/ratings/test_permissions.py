"""Every page and endpoint under /staff/ratings/ needs the rate permission: anonymous visitors go
to the login page, chat users and staff without the permission get 403, raters get in. The
patterns are read from the URL namespace, so pages added later are covered without listing them.
Chat users never see staff ratings."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import URLPattern, reverse

from ratings import urls as ratings_urls
from ratings.defaults import RATERS_GROUP
from ratings.models import Rating, ReasonTag
from tests.ratings.conftest import HTMX, logged_in

pytestmark = pytest.mark.django_db

PATTERNS: list[URLPattern] = list(ratings_urls.urlpatterns)
ENDPOINTS = [(p.name, method) for p in PATTERNS for method in ("get", "post")]


def _kwargs(pattern: URLPattern, alice, reply) -> dict[str, object]:
    """A real object for every path parameter, so a rater reaches the view itself."""
    found: dict[str, object] = {}
    for name in pattern.pattern.converters:
        if "session" in name:
            found[name] = reply.session_id
        elif "character" in name:
            found[name] = reply.session.character_id
        elif "user" in name:
            found[name] = alice.pk
        else:
            found[name] = reply.pk
    return found


def _call(client, method: str, url: str):
    return getattr(client, method)(url, **HTMX) if method == "get" else client.post(url, **HTMX)


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.url.startswith(settings.LOGIN_URL)


def test_the_namespace_holds_the_queue_and_the_dashboard():
    names = {pattern.name for pattern in PATTERNS}
    assert {"queue", "rate", "dashboard"} <= names
    assert all(pattern.name for pattern in PATTERNS)  # reversible, so covered below
    assert reverse("ratings:queue") == "/staff/ratings/"


def test_a_migration_makes_the_raters_group_with_the_permission_and_the_reasons():
    Group.objects.filter(name=RATERS_GROUP).delete()
    ReasonTag.objects.all().delete()
    name = "0002_raters_group_and_reasons"
    migration = importlib.import_module(f"ratings.migrations.{name}")
    state = MigrationLoader(connection).project_state(("ratings", name))

    migration.forwards(state.apps, schema_editor=None)

    group = Group.objects.get(name=RATERS_GROUP)
    assert [p.codename for p in group.permissions.all()] == ["rate_replies"]
    labels = list(ReasonTag.objects.order_by("position").values_list("label", flat=True))
    assert labels == [
        "Out of character",
        "Contradicts the persona",
        "Repetitive",
        "Too long",
        "Too short",
        "Unsafe",
        "Memory error",
        "Factual error",
    ]


@pytest.mark.parametrize(("name", "method"), ENDPOINTS, ids=[f"{n}-{m}" for n, m in ENDPOINTS])
def test_only_raters_get_in(client, alice, staff, rater, admin_user, replies, name, method):
    pattern = next(p for p in PATTERNS if p.name == name)
    url = reverse(f"ratings:{name}", kwargs=_kwargs(pattern, alice, replies[0]))
    refused = {who.username: _call(logged_in(who), method, url) for who in (alice, staff)}
    anonymous = _call(client, method, url)

    as_rater = _call(logged_in(rater), method, url)
    as_superuser = _call(logged_in(admin_user), method, url)

    assert _is_login_redirect(anonymous), anonymous
    for response in (as_rater, as_superuser):
        assert response.status_code < 500 and response.status_code != 403
        assert not _is_login_redirect(response)
    if as_rater.status_code == 405:  # the endpoint does not take this method from anyone
        assert all(r.status_code in (403, 405) for r in refused.values())
        return
    assert {who: r.status_code for who, r in refused.items()} == {"alice": 403, "staff": 403}
    assert not Rating.objects.filter(rater__in=[alice, staff]).exists()


@pytest.mark.parametrize("name", ["queue", "dashboard"])
def test_raters_open_the_workbench_pages(rater_client, replies, name):
    assert rater_client.get(reverse(f"ratings:{name}")).status_code == 200


def test_a_staff_user_without_the_permission_cannot_save_a_rating(staff_client, replies):
    response = staff_client.post(reverse("ratings:rate", args=[replies[0].pk]), {"verdict": "bad"})

    assert response.status_code == 403
    assert not Rating.objects.exists()


def test_a_chat_user_never_sees_staff_ratings_of_her_replies(
    alice_client, rater, make_rater, alice_chat, replies
):
    for who in (rater, make_rater("otto")):
        rating = Rating.objects.create(
            message=replies[0],
            rater=who,
            verdict="bad",
            comment=f"SECRET-COMMENT-{who.username}",
            ideal_reply=f"SECRET-IDEAL-{who.username}",
        )
        rating.reasons.set(ReasonTag.objects.filter(slug="factual-error"))

    chat = alice_client.get(reverse("conversations:chat", args=[alice_chat.pk]))
    feedback = alice_client.post(
        reverse("feedback:reply", args=[replies[0].pk]), {"thumb": "down"}, **HTMX
    )

    assert chat.status_code == 200
    assert "Do you like tea?" in chat.content.decode()  # her conversation, rated replies and all
    for response in (chat, feedback):
        html = response.content.decode()
        assert "SECRET-" not in html
        assert "rita" not in html and "otto" not in html
        assert "Factual error" not in html
        assert "/staff/ratings/" not in html
