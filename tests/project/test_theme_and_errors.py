"""Theme, icon and titles on every page, and the product's 404 page with DEBUG on."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.http import HttpResponseNotFound
from django.test import Client
from django.urls import path, reverse

from project.urls import urlpatterns as project_urlpatterns
from tests.factories import character_create, chat_session_create

pytestmark = pytest.mark.django_db

APP_CSS = settings.BASE_DIR / "static" / "css" / "app.css"


def _broken_view(request):
    raise RuntimeError("something broke")


def _own_not_found(request):
    return HttpResponseNotFound("nothing under this key")


urlpatterns = [
    path("broken/", _broken_view),
    path("lookup/", _own_not_found),
    *project_urlpatterns,
]


@pytest.fixture
def development(settings):
    settings.DEBUG = True


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def _title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()


def _head(page: str) -> str:
    return page.split("</head>", 1)[0]


# --- theme and icon ---------------------------------------------------------------------------


def test_the_theme_script_runs_in_the_head_before_the_page_is_drawn(alice_client):
    page = alice_client.get(reverse("characters:gallery")).content.decode()

    script = re.search(r"<script[^>]*theme\.js[^>]*>", _head(page)).group(0)
    assert "defer" not in script and "async" not in script and 'type="module"' not in script
    assert _head(page).index("theme.js") < _head(page).index("css/app.css")


def test_the_top_bar_has_the_theme_toggle_with_its_three_choices(alice_client):
    page = alice_client.get(reverse("characters:gallery")).content.decode()

    toggle = re.search(r"<button[^>]*data-theme-toggle[^>]*>", page, re.S).group(0)
    for choice in ("system", "light", "dark"):
        assert f"data-label-{choice}=" in toggle
    assert "hidden" in toggle  # shown by the script, the only thing that can make it work


def test_the_login_page_has_the_toggle_too(client):
    page = client.get(reverse("login")).content.decode()

    assert "data-theme-toggle" in page and "theme.js" in _head(page)


def test_the_dark_theme_gives_every_colour_a_dark_value():
    css = APP_CSS.read_text()
    light = re.search(r":root \{(.*?)\n\}", css, re.S).group(1)
    dark = re.search(r':root\[data-theme="dark"\] \{(.*?)\n\}', css, re.S).group(1)

    def names(block: str) -> set[str]:
        return set(re.findall(r"(--[\w-]+):", block))

    assert names(light) - {"--radius"} == names(dark)


def test_pages_link_the_icon_and_the_icon_is_served(alice_client):
    page = alice_client.get(reverse("characters:gallery")).content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)"', _head(page)).group(1)

    response = alice_client.get(href)

    assert href.endswith(".svg") and response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")


@pytest.mark.parametrize("debug", [True, False])
def test_favicon_ico_answers_for_browsers_that_ask_for_it(client, settings, debug):
    settings.DEBUG = debug

    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"


# --- titles -----------------------------------------------------------------------------------


def test_every_page_title_ends_with_the_product_name(alice_client, alice):
    lin = character_create(name="Lin", remote_id="r-lin")
    session = chat_session_create(user=alice, character=lin)
    urls = [
        reverse("characters:gallery"),
        reverse("characters:detail", args=[lin.pk]),
        reverse("conversations:sessions"),
        reverse("conversations:chat", args=[session.pk]),
        reverse("jobs:list"),
        reverse("accounts:profile"),
        "/no-such-page/",
    ]
    for url in urls:
        assert _title(alice_client.get(url).content.decode()).endswith("Persona Studio"), url
    assert _title(Client().get(reverse("login")).content.decode()).endswith("Persona Studio")


def test_the_admin_is_headed_persona_studio_with_the_icon(client, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("admin:index")).content.decode()

    assert "Django administration" not in page
    assert re.search(r'id="site-name"><a [^>]*>Persona Studio</a>', page)
    assert _title(page).endswith("Persona Studio")
    assert "Persona Studio administration" in page
    assert 'rel="icon"' in _head(page) and "favicon.svg" in _head(page)


def test_the_admin_login_page_carries_the_title_and_the_icon(client):
    page = client.get(reverse("admin:login")).content.decode()

    assert _title(page).endswith("Persona Studio") and "favicon.svg" in _head(page)


# --- the 404 page in development --------------------------------------------------------------


def test_a_missing_page_is_the_products_page_in_development(development, alice_client):
    response = alice_client.get("/no-such-page/")

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert "Page not found" in page and "alice" in page
    assert f'href="{reverse("characters:gallery")}"' in page
    assert "URLconf" not in page  # none of Django's technical page


def test_a_view_refusing_an_object_shows_the_products_page_in_development(
    development, client, alice, bob
):
    alices = chat_session_create(user=alice)
    client.force_login(bob)

    response = client.get(reverse("conversations:chat", args=[alices.pk]))

    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and "No such conversation" not in page


def test_a_path_without_its_slash_is_still_redirected_in_development(development, alice_client):
    response = alice_client.get("/characters")

    assert response.status_code == 301
    assert response["Location"] == "/characters/"


@pytest.mark.urls(__name__)
def test_a_views_own_not_found_answer_is_left_alone(development, alice_client):
    response = alice_client.get("/lookup/")

    assert response.status_code == 404
    assert response.content == b"nothing under this key"


@pytest.mark.urls(__name__)
def test_a_server_error_keeps_the_traceback_in_development(development, alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    response = client.get("/broken/")

    assert response.status_code == 500
    assert "something broke" in response.content.decode()


def test_the_server_error_page_keeps_the_theme_and_the_icon(settings, rf):
    from django.views.defaults import server_error

    settings.DEBUG = False

    page = server_error(rf.get("/")).content.decode()

    assert "theme.js" in _head(page) and "favicon.svg" in _head(page)
    assert _title(page).endswith("Persona Studio")
