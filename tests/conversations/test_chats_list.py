"""The chats list: search, rename, delete with undo, archived chats by character, recent chats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.template import Context, Template
from django.utils import timezone

from conversations import services, session_services
from conversations.models import ChatSession
from ratings.models import Rating
from tests.conversations.helpers import socket_for
from tests.factories import (
    character_create,
    character_create_synced,
    chat_session_create,
    message_create,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SEARCH = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "chats"}


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def mara_chat(sim, alice):
    """Alice's chat with a second character, Mara (on the upstream too)."""
    return services.session_start(user=alice, character=character_create_synced(name="Mara"))


def _resets_for(sim, user) -> int:
    user_id = services.biz_user_id(user.pk)
    return sum(1 for r in sim.requests("aca-chat-reset") if r["json"].get("userId") == user_id)


# --- search -----------------------------------------------------------------------------------


def test_searching_by_a_characters_name_finds_only_the_chats_with_it(
    alice_client, alice_chat, mara_chat
):
    html = alice_client.get("/chat/", {"q": "mAr"}).content.decode()
    assert f'id="chat-{mara_chat.pk}"' in html
    assert f'id="chat-{alice_chat.pk}"' not in html


def test_searching_by_message_text_shows_the_matching_message_marked(
    alice_client, alice_chat, mara_chat
):
    message_create(session=mara_chat, content="We found the lighthouse key under the stairs.")
    message_create(session=mara_chat, content="Later, something else.")
    html = alice_client.get("/chat/", {"q": "LIGHTHOUSE"}).content.decode()
    assert f'id="chat-{mara_chat.pk}"' in html and f'id="chat-{alice_chat.pk}"' not in html
    assert "We found the <mark>lighthouse</mark> key" in html


def test_a_message_that_matches_is_shown_escaped(alice_client, alice_chat):
    message_create(session=alice_chat, content="<b>lighthouse</b> at night")
    html = alice_client.get("/chat/", {"q": "lighthouse"}).content.decode()
    assert "&lt;b&gt;<mark>lighthouse</mark>&lt;/b&gt; at night" in html


def test_search_finds_a_renamed_chat_by_its_title(alice_client, alice_chat, mara_chat):
    services_title = "Planning the voyage"
    alice_client.post(f"/chat/{mara_chat.pk}/rename/", {"title": services_title})
    html = alice_client.get("/chat/", {"q": "voyage"}).content.decode()
    assert services_title in html and f'id="chat-{alice_chat.pk}"' not in html


def test_search_never_shows_other_users_chats(alice_client, bob, alice_chat, character):
    bobs_chat = services.session_start(user=bob, character=character)
    message_create(session=bobs_chat, content="Bob's secret lighthouse")
    html = alice_client.get("/chat/", {"q": "lighthouse"}).content.decode()
    assert "No chat matches “lighthouse”." in html
    assert f"chat-{bobs_chat.pk}" not in html
    html = alice_client.get("/chat/", {"q": "Lin"}).content.decode()
    assert f'id="chat-{alice_chat.pk}"' in html and f"chat-{bobs_chat.pk}" not in html


def test_search_as_you_type_gets_only_the_results(alice_client, alice_chat):
    html = alice_client.get("/chat/", {"q": "Lin"}, **SEARCH).content.decode()
    assert "<html" not in html and 'id="chats"' in html and f'id="chat-{alice_chat.pk}"' in html


def test_searching_takes_the_same_queries_for_one_chat_or_many(
    alice_client, alice, django_assert_num_queries
):
    def add_chat():
        session = chat_session_create(user=alice)
        message_create(session=session, content="The tide is high")

    add_chat()
    with django_assert_num_queries(3):
        alice_client.get("/chat/", {"q": "tide"})
    for _ in range(4):
        add_chat()
    chat_session_create(user=alice, status="archived")
    with django_assert_num_queries(3):
        response = alice_client.get("/chat/", {"q": "tide"})
    assert response.content.decode().count("<mark>tide</mark>") == 5


def test_an_overlong_search_shows_every_chat(alice_client, alice_chat):
    html = alice_client.get("/chat/", {"q": "x" * 101}).content.decode()
    assert f'id="chat-{alice_chat.pk}"' in html


# --- rename ------------------------------------------------------------------------------------


def test_a_chat_shows_the_characters_name_and_date_until_renamed(alice_client, alice_chat):
    html = alice_client.get("/chat/").content.decode()
    assert alice_chat.default_title() in html and alice_chat.default_title().startswith("Lin · ")


def test_renaming_over_htmx_returns_the_row_with_the_new_title(alice_client, alice_chat):
    response = alice_client.post(
        f"/chat/{alice_chat.pk}/rename/", {"title": "  Tea with Lin  "}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Tea with Lin" in html and f'id="chat-{alice_chat.pk}"' in html
    assert "Hello, I am Lin." in html  # the row still shows the last message
    alice_chat.refresh_from_db()
    assert alice_chat.title == "Tea with Lin"


def test_renaming_without_htmx_goes_back_to_the_list(alice_client, alice_chat):
    response = alice_client.post(f"/chat/{alice_chat.pk}/rename/", {"title": "Tea"})
    assert response.status_code == 302 and response.url == "/chat/"
    assert "Tea" in alice_client.get("/chat/").content.decode()


def test_an_empty_title_brings_back_the_default_one(alice_client, alice_chat):
    services_title = "Something"
    alice_client.post(f"/chat/{alice_chat.pk}/rename/", {"title": services_title})
    alice_client.post(f"/chat/{alice_chat.pk}/rename/", {"title": ""})
    alice_chat.refresh_from_db()
    assert alice_chat.title == ""
    assert alice_chat.default_title() in alice_client.get("/chat/").content.decode()


def test_the_rename_form_comes_as_a_fragment_for_htmx_and_in_the_page_otherwise(
    alice_client, alice_chat
):
    alice_client.post(f"/chat/{alice_chat.pk}/rename/", {"title": "Tea"})
    fragment = alice_client.get(f"/chat/{alice_chat.pk}/rename/", **HTMX).content.decode()
    assert "<html" not in fragment and 'name="title"' in fragment and 'value="Tea"' in fragment
    page = alice_client.get(f"/chat/{alice_chat.pk}/rename/").content.decode()
    assert "<html" in page and 'name="title"' in page


def test_cancelling_a_rename_puts_the_row_back(alice_client, alice_chat):
    html = alice_client.get(f"/chat/{alice_chat.pk}/row/", **HTMX).content.decode()
    assert 'class="session-row"' in html and 'name="title"' not in html
    assert alice_client.get(f"/chat/{alice_chat.pk}/row/").url == "/chat/"


def test_a_title_too_long_is_refused_with_the_form_again(alice_client, alice_chat):
    response = alice_client.post(f"/chat/{alice_chat.pk}/rename/", {"title": "x" * 81}, **HTMX)
    assert response.status_code == 200 and 'name="title"' in response.content.decode()
    assert "at most 80 characters" in response.content.decode()
    alice_chat.refresh_from_db()
    assert alice_chat.title == ""


# --- delete and undo -----------------------------------------------------------------------


def test_deleting_over_htmx_offers_undo_and_hides_the_chat(alice_client, alice_chat):
    response = alice_client.post(f"/chat/{alice_chat.pk}/delete/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'data-action="undo"' in html and f"/chat/{alice_chat.pk}/restore/" in html
    assert 'data-undo-seconds="10"' in html
    assert f'id="chat-{alice_chat.pk}"' not in alice_client.get("/chat/").content.decode()
    assert alice_client.get(f"/chat/{alice_chat.pk}/").status_code == 404


def test_deleting_without_htmx_goes_back_to_the_list_with_a_note(alice_client, alice_chat):
    response = alice_client.post(f"/chat/{alice_chat.pk}/delete/", follow=True)
    assert response.redirect_chain == [("/chat/", 302)]
    assert "Chat deleted." in response.content.decode()


def test_deleting_the_current_chat_makes_the_character_forget_it(
    sim, alice_client, alice, alice_chat, character
):
    resets = _resets_for(sim, alice)
    alice_client.post(f"/chat/{alice_chat.pk}/delete/", **HTMX)
    assert _resets_for(sim, alice) == resets + 1
    fresh = services.session_start(user=alice, character=character)
    assert fresh.pk != alice_chat.pk
    assert [m.content for m in fresh.messages.all()] == [character.opening_line]


def test_undo_brings_the_chat_back_to_the_list(alice_client, alice_chat, mara_chat):
    alice_client.post(f"/chat/{mara_chat.pk}/delete/", **HTMX)
    response = alice_client.post(f"/chat/{mara_chat.pk}/restore/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and f'id="chat-{mara_chat.pk}"' in html
    assert 'class="session-row"' in html
    assert f'id="chat-{mara_chat.pk}"' in alice_client.get("/chat/").content.decode()
    assert alice_client.get(f"/chat/{mara_chat.pk}/").status_code == 200


def test_an_undone_current_chat_comes_back_archived(alice_client, alice_chat):
    alice_client.post(f"/chat/{alice_chat.pk}/delete/", **HTMX)
    alice_client.post(f"/chat/{alice_chat.pk}/restore/", **HTMX)
    alice_chat.refresh_from_db()
    assert alice_chat.deleted_at is None and alice_chat.status == "archived"
    assert "Archived conversations" in alice_client.get("/chat/").content.decode()


def test_undo_without_htmx_goes_back_to_the_list(alice_client, mara_chat):
    alice_client.post(f"/chat/{mara_chat.pk}/delete/")
    response = alice_client.post(f"/chat/{mara_chat.pk}/restore/")
    assert response.status_code == 302 and response.url == "/chat/"
    mara_chat.refresh_from_db()
    assert mara_chat.deleted_at is None


def test_undo_is_gone_once_its_time_has_passed(alice_client, mara_chat):
    alice_client.post(f"/chat/{mara_chat.pk}/delete/", **HTMX)
    long_ago = timezone.now() - timedelta(minutes=5)
    ChatSession.objects.filter(pk=mara_chat.pk).update(deleted_at=long_ago)
    assert alice_client.post(f"/chat/{mara_chat.pk}/restore/", **HTMX).status_code == 404
    assert f'id="chat-{mara_chat.pk}"' not in alice_client.get("/chat/").content.decode()


def test_deleting_keeps_what_other_users_made_from_the_chat(alice_client, staff, alice_chat):
    reply = alice_chat.messages.get()
    rating = Rating.objects.create(message=reply, rater=staff, verdict="good")
    alice_client.post(f"/chat/{alice_chat.pk}/delete/", **HTMX)
    assert Rating.objects.filter(pk=rating.pk).exists()


def test_deleting_while_a_reply_is_written_is_refused_in_the_row(alice_client, alice_chat):
    question = message_create(session=alice_chat)
    message_create(session=alice_chat, role="assistant", query=question, state="streaming")
    html = alice_client.post(f"/chat/{alice_chat.pk}/delete/", **HTMX).content.decode()
    assert "Wait for the reply to finish" in html and 'class="session-row"' in html
    alice_chat.refresh_from_db()
    assert alice_chat.deleted_at is None and alice_chat.is_active()


@pytest.mark.django_db(transaction=True)
async def test_a_deleted_chat_has_no_socket_any_more(alice, mara_chat):
    await database_sync_to_async(session_services.session_delete)(session=mara_chat, user=alice)
    socket = await socket_for(alice, mara_chat.pk)
    connected, code = await socket.connect(timeout=10)
    assert not connected and code == 4404
    await socket.disconnect()


def test_a_deleted_chat_is_not_deleted_twice(alice_client, mara_chat):
    alice_client.post(f"/chat/{mara_chat.pk}/delete/", **HTMX)
    assert alice_client.post(f"/chat/{mara_chat.pk}/delete/", **HTMX).status_code == 404


# --- archived conversations ----------------------------------------------------------------


def test_archived_chats_are_grouped_under_their_character(alice_client, alice, alice_chat):
    lin = alice_chat.character
    for _ in range(2):
        chat_session_create(user=alice, character=lin, status="archived")
    mara = character_create(name="Mara", remote_id="remote-mara")
    chat_session_create(user=alice, character=mara, status="archived")
    html = alice_client.get("/chat/").content.decode()
    current, archived = html.split("Archived conversations")
    assert f'id="chat-{alice_chat.pk}"' in current
    groups = archived.split('<details class="archived-group')[1:]
    assert [("Lin" in g, "Mara" in g) for g in groups] == [(False, True), (True, False)]
    assert "2 conversations" in groups[1] and "1 conversation" in groups[0]
    assert " open" not in archived.split(">")[0]  # collapsed until searched


def test_a_search_opens_the_archived_groups_it_matches(alice_client, alice, alice_chat):
    archived = chat_session_create(user=alice, character=alice_chat.character, status="archived")
    message_create(session=archived, content="An old harbour story")
    html = alice_client.get("/chat/", {"q": "harbour"}).content.decode()
    assert '<details class="archived-group card" open>' in html
    assert f'id="chat-{archived.pk}"' in html and f'id="chat-{alice_chat.pk}"' not in html


# --- only the user's own -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("get", "rename"),
        ("post", "rename"),
        ("get", "row"),
        ("post", "delete"),
        ("post", "restore"),
    ],
)
def test_bob_gets_not_found_for_alices_chat(bob_client, alice_chat, method, action):
    response = getattr(bob_client, method)(f"/chat/{alice_chat.pk}/{action}/", {"title": "x"})
    assert response.status_code == 404
    alice_chat.refresh_from_db()
    assert alice_chat.title == "" and alice_chat.deleted_at is None


def test_bob_cannot_undo_alices_deletion(client, alice, bob, mara_chat):
    client.force_login(alice)
    client.post(f"/chat/{mara_chat.pk}/delete/", **HTMX)
    client.force_login(bob)
    assert client.post(f"/chat/{mara_chat.pk}/restore/", **HTMX).status_code == 404
    mara_chat.refresh_from_db()
    assert mara_chat.deleted_at is not None


@pytest.mark.parametrize(
    ("method", "action"),
    [("get", "delete"), ("get", "restore"), ("put", "rename"), ("post", "row")],
)
def test_each_action_answers_only_its_methods(alice_client, alice_chat, method, action):
    response = getattr(alice_client, method)(f"/chat/{alice_chat.pk}/{action}/")
    assert response.status_code == 405


def test_the_actions_need_a_login(client, alice_chat):
    response = client.post(f"/chat/{alice_chat.pk}/delete/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# --- recent chats --------------------------------------------------------------------------


def _recent(user, current) -> str:
    template = Template("{% load chats %}{% recent_chats user current %}")
    return template.render(Context({"user": user, "current": current}))


def test_recent_chats_are_the_users_own_newest_first_with_the_current_one_marked(
    alice, bob, alice_chat, mara_chat, character, django_assert_num_queries
):
    ChatSession.objects.filter(pk=mara_chat.pk).update(updated_at=timezone.now())
    bobs_chat = services.session_start(user=bob, character=character)
    gone = chat_session_create(user=alice, deleted_at=timezone.now())
    with django_assert_num_queries(1):
        html = _recent(alice, alice_chat)
    assert html.index(f"/chat/{mara_chat.pk}/") < html.index(f"/chat/{alice_chat.pk}/")
    assert f'is-current" href="/chat/{alice_chat.pk}/" aria-current="page"' in html
    assert html.count('aria-current="page"') == 1
    assert f"/chat/{bobs_chat.pk}/" not in html and f"/chat/{gone.pk}/" not in html
