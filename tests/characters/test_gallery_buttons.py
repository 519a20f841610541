"""The gallery and the character page offer "Continue chat" where a conversation is on, and
staff who may add characters get a "New character" button."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import character_create, chat_session_create

pytestmark = pytest.mark.django_db

GALLERY = reverse("characters:gallery")
NEW_CHARACTER = reverse("admin:characters_character_add")


def _login(client, user):
    client.force_login(user)
    return client


def _chat(session) -> str:
    return reverse("conversations:chat", args=[session.pk])


def _start(character) -> str:
    return reverse("conversations:start", args=[character.pk])


def test_a_card_says_continue_chat_and_links_to_the_conversation_on(client, alice):
    talked_to = character_create(name="Lin", remote_id="r-lin")
    untouched = character_create(name="Mira", remote_id="r-mira")
    session = chat_session_create(user=alice, character=talked_to)

    page = _login(client, alice).get(GALLERY).content.decode()

    assert page.count("Continue chat") == 1
    assert f'href="{_chat(session)}"' in page
    assert f'action="{_start(untouched)}"' in page
    assert f'action="{_start(talked_to)}"' not in page


def test_an_archived_conversation_or_another_users_one_leaves_start_chat(client, alice, bob):
    lin = character_create(name="Lin", remote_id="r-lin")
    chat_session_create(user=alice, character=lin, status="archived")
    bobs = chat_session_create(user=bob, character=lin)

    page = _login(client, alice).get(GALLERY).content.decode()

    assert "Continue chat" not in page
    assert f'action="{_start(lin)}"' in page
    assert _chat(bobs) not in page


def test_search_results_keep_the_continue_chat_button(client, alice):
    lin = character_create(name="Lin", remote_id="r-lin")
    session = chat_session_create(user=alice, character=lin)

    response = _login(client, alice).get(GALLERY, {"q": "lin"}, headers={"HX-Request": "true"})

    fragment = response.content.decode()
    assert "<html" not in fragment
    assert f'href="{_chat(session)}"' in fragment


def test_an_unavailable_character_offers_no_start_but_its_conversation_goes_on(client, alice):
    never_synced = character_create(name="Draft")
    resumable = character_create(name="Old friend")
    session = chat_session_create(user=alice, character=resumable)

    page = _login(client, alice).get(GALLERY).content.decode()

    assert f'action="{_start(never_synced)}"' not in page
    assert f'href="{_chat(session)}"' in page


@pytest.mark.parametrize("count", [3, 12])
def test_the_gallery_takes_the_same_queries_however_many_chats_are_on(
    client, alice, django_assert_num_queries, count
):
    for n in range(count):
        character = character_create(name=f"Char {n}", remote_id=f"r-{count}-{n}")
        if n % 2:
            chat_session_create(user=alice, character=character)
    _login(client, alice)

    with django_assert_num_queries(4):  # session, user, count, the page with its chats
        page = client.get(GALLERY).content.decode()

    assert page.count("Continue chat") == count // 2


def test_the_character_page_says_continue_chat_when_a_conversation_is_on(client, alice):
    lin = character_create(name="Lin", remote_id="r-lin")
    session = chat_session_create(user=alice, character=lin)

    page = _login(client, alice).get(reverse("characters:detail", args=[lin.pk])).content.decode()

    assert "Continue chat" in page and f'href="{_chat(session)}"' in page
    assert "Start chat" not in page


def test_the_character_page_says_start_chat_without_a_conversation(client, alice, bob):
    lin = character_create(name="Lin", remote_id="r-lin")
    chat_session_create(user=bob, character=lin)

    page = _login(client, alice).get(reverse("characters:detail", args=[lin.pk])).content.decode()

    assert "Continue chat" not in page
    assert f'action="{_start(lin)}"' in page and "Start chat" in page


def test_continue_chat_opens_the_conversation(client, alice):
    lin = character_create(name="Lin", remote_id="r-lin")
    session = chat_session_create(user=alice, character=lin)

    response = _login(client, alice).get(_chat(session))

    assert response.status_code == 200
    assert f'data-session-id="{session.pk}"' in response.content.decode()


def test_staff_who_may_add_characters_see_new_character(client, staff):
    staff.user_permissions.add(Permission.objects.get(codename="add_character"))

    page = _login(client, staff).get(GALLERY).content.decode()

    assert f'href="{NEW_CHARACTER}"' in page and "New character" in page


def test_a_superuser_sees_new_character(client, admin_user):
    page = _login(client, admin_user).get(GALLERY).content.decode()

    assert f'href="{NEW_CHARACTER}"' in page


def test_staff_without_the_permission_and_users_do_not_see_new_character(client, staff, alice):
    for user in (staff, alice):
        page = _login(client, user).get(GALLERY).content.decode()

        assert NEW_CHARACTER not in page and "New character" not in page


def test_new_character_opens_the_admins_add_page(client, admin_user):
    response = _login(client, admin_user).get(NEW_CHARACTER)

    assert response.status_code == 200
