from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from tests.conftest import password
from tests.factories import character_create, png_bytes

pytestmark = pytest.mark.django_db

GALLERY = "/characters/"


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def _detail(character) -> str:
    return f"/characters/{character.pk}/"


def test_the_gallery_shows_character_cards(alice_client):
    character_create(name="Mira", introduction="Starship captain.", remote_id="r-mira")

    response = alice_client.get(GALLERY)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" in content
    assert 'name="q"' in content
    assert "Mira" in content and "Starship captain." in content
    assert 'hx-trigger="input changed delay:300ms, search"' in content


def test_the_gallery_shows_avatars_or_an_initial(alice_client):
    with_avatar = character_create(name="Pictured", remote_id="r-pic")
    with_avatar.avatar.save("a.png", ContentFile(png_bytes()), save=True)
    character_create(name="Zed", remote_id="r-zed")

    content = alice_client.get(GALLERY).content.decode()

    assert f'src="{with_avatar.avatar.url}"' in content
    assert ">Z</span>" in content


def test_search_as_you_type_returns_only_the_results_fragment(alice_client):
    character_create(name="Lin Wanqiu")
    character_create(name="Captain Mira")

    response = alice_client.get(GALLERY, {"q": "mira"}, HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert "<html" not in content
    assert content.lstrip().startswith('<section id="results"')
    assert "Captain Mira" in content
    assert "Lin Wanqiu" not in content


def test_a_plain_search_returns_the_whole_page(alice_client):
    character_create(name="Lin Wanqiu")
    character_create(name="Captain Mira")

    content = alice_client.get(GALLERY, {"q": "Lin"}).content.decode()

    assert "<html" in content
    assert 'value="Lin"' in content
    assert "Lin Wanqiu" in content and "Captain Mira" not in content


def test_search_matches_the_introduction_and_says_when_nothing_matches(alice_client):
    character_create(name="Chef", introduction="Cooks 川菜 every day.")

    assert "Chef" in alice_client.get(GALLERY, {"q": "川菜"}).content.decode()
    empty = alice_client.get(GALLERY, {"q": "nothing-like-this"}).content.decode()
    assert "No character matches" in empty


def test_the_gallery_paginates_by_24(alice_client):
    for n in range(25):
        character_create(name=f"Char {n:02d}")

    first = alice_client.get(GALLERY)
    second = alice_client.get(GALLERY, {"page": 2}, HTTP_HX_REQUEST="true")

    assert len(first.context["page"].object_list) == 24
    assert "Page 1 of 2" in first.content.decode()
    assert [c.name for c in second.context["page"].object_list] == ["Char 24"]
    assert 'rel="prev"' in second.content.decode()


def test_the_gallery_hides_deleted_characters(alice_client):
    character_create(name="Visible")
    character_create(name="Removed", is_deleted=True)

    content = alice_client.get(GALLERY).content.decode()

    assert "Visible" in content and "Removed" not in content


def test_unavailable_characters_carry_a_badge(alice_client):
    character_create(name="Never synced")

    content = alice_client.get(GALLERY).content.decode()

    assert "Unavailable" in content


@pytest.mark.parametrize("count", [5, 30])
def test_the_gallery_query_count_does_not_grow_with_characters(
    alice_client, django_assert_num_queries, count
):
    for n in range(count):
        character_create(name=f"Char {n}", remote_id=f"r-{count}-{n}")

    # session, user, count, page
    with django_assert_num_queries(4):
        alice_client.get(GALLERY)


def test_the_gallery_needs_login(client):
    response = client.get(GALLERY)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_gallery_refuses_post(alice_client):
    assert alice_client.post(GALLERY).status_code == 405


def test_the_character_page_offers_to_start_a_chat(alice_client):
    character = character_create(
        name="Mira", opening_line="Welcome aboard.", remote_id="r-page", introduction="Captain."
    )

    response = alice_client.get(_detail(character))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Welcome aboard." in content and "Captain." in content
    assert f'action="/characters/{character.pk}/chat/"' in content
    assert "csrfmiddlewaretoken" in content
    assert "Start chat" in content


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({}, "not on Xingchen yet"),
        ({"remote_id": "r-off", "config_status": "out"}, "off-shelf"),
    ],
)
def test_an_unavailable_character_page_says_why_and_offers_no_chat(alice_client, overrides, reason):
    character = character_create(**overrides)

    content = alice_client.get(_detail(character)).content.decode()

    assert reason in content
    assert "Start chat" not in content


def test_a_deleted_or_unknown_character_page_is_not_found(alice_client):
    deleted = character_create(remote_id="r-del", is_deleted=True)

    assert alice_client.get(_detail(deleted)).status_code == 404
    assert alice_client.get("/characters/999999/").status_code == 404


def test_the_character_page_needs_login_and_refuses_post(client, alice):
    character = character_create(remote_id="r-login")

    assert client.get(_detail(character))["Location"].startswith("/accounts/login/")
    client.login(username="alice", password=password())
    assert client.post(_detail(character)).status_code == 405
