"""Friendly error pages with DEBUG off, and the security headers on every page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path, reverse
from django.views.defaults import server_error

from project.urls import urlpatterns as project_urlpatterns


def _broken_view(request):
    raise RuntimeError("something broke")


urlpatterns = [path("broken/", _broken_view), *project_urlpatterns]

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    settings.DEBUG = False


def test_a_missing_page_links_back_to_the_characters(production, client, alice):
    client.force_login(alice)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert [t.name for t in response.templates][0] == "404.html"
    page = response.content.decode()
    assert "Page not found" in page
    assert f'href="{reverse("characters:gallery")}"' in page
    assert "alice" in page  # the usual top bar, with the user's name
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.urls(__name__)
def test_a_server_error_shows_the_friendly_page(production, alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    response = client.get("/broken/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "/static/css/app.css" in page
    assert "Traceback" not in page and "something broke" not in page
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_the_server_error_page_needs_no_database(production, rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def test_pages_carry_the_policies_in_development_too(client, settings):
    settings.DEBUG = True

    response = client.get(reverse("login"))

    header = response["Content-Security-Policy"]
    policy = dict(directive.strip().split(" ", 1) for directive in header.split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert settings.PUBLIC_BASE_URL.replace("http", "ws", 1) in policy["connect-src"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in response["Permissions-Policy"]
