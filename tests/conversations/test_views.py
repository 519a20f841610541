"""Chat pages: start, the chat page and its history pages, reset, scenario, the sessions list."""

from __future__ import annotations

import pytest

from conversations import services
from conversations.models import ChatSession, Message
from tests.factories import character_create, chat_session_create, message_create

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


# --- start ------------------------------------------------------------------------------------


def test_starting_a_chat_opens_a_session_that_begins_with_the_opening_line(
    alice_client, alice, character
):
    response = alice_client.post(f"/characters/{character.pk}/chat/")
    session = ChatSession.objects.get(user=alice, character=character)
    assert response.status_code == 302 and response.url == f"/chat/{session.pk}/"
    assert session.messages.get().content == character.opening_line


def test_starting_again_resumes_the_same_session(alice_client, character, alice_chat):
    response = alice_client.post(f"/characters/{character.pk}/chat/")
    assert response.url == f"/chat/{alice_chat.pk}/"
    assert ChatSession.objects.count() == 1


def test_starting_over_htmx_redirects_the_whole_page(alice_client, alice_chat, character):
    response = alice_client.post(f"/characters/{character.pk}/chat/", **HTMX)
    assert response.headers["HX-Redirect"] == f"/chat/{alice_chat.pk}/"


def test_starting_a_chat_needs_a_post(alice_client, character):
    assert alice_client.get(f"/characters/{character.pk}/chat/").status_code == 405


def test_a_character_that_cannot_chat_sends_the_user_back_with_the_reason(alice_client):
    offline = character_create()
    response = alice_client.post(f"/characters/{offline.pk}/chat/", follow=True)
    assert response.redirect_chain[-1][0] == f"/characters/{offline.pk}/"
    assert "not on Xingchen yet" in response.content.decode()
    assert not ChatSession.objects.exists()


def test_a_deleted_character_is_not_found(alice_client):
    gone = character_create(remote_id="gone-1", is_deleted=True)
    assert alice_client.post(f"/characters/{gone.pk}/chat/").status_code == 404


def test_starting_a_chat_needs_a_login(client, character):
    response = client.post(f"/characters/{character.pk}/chat/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# --- the chat page --------------------------------------------------------------------------------


def test_the_chat_page_shows_the_history_and_the_composer(alice_client, alice_chat):
    message_create(session=alice_chat, content="What is your **name**?")
    response = alice_client.get(f"/chat/{alice_chat.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hello, I am Lin." in html
    assert "What is your **name**?" in html  # the user's text is not markdown
    assert (
        'data-role="composer"' in html and f'data-socket-path="/ws/chat/{alice_chat.pk}/"' in html
    )


def test_the_chat_page_shows_the_newest_messages_and_a_trigger_for_older_ones(
    settings, alice_client, alice_chat
):
    settings.CHAT_HISTORY_PAGE_SIZE = 3
    older = [message_create(session=alice_chat, content=f"Line {n}") for n in range(5)]
    html = alice_client.get(f"/chat/{alice_chat.pk}/").content.decode()
    assert "Line 4" in html and "Line 2" in html and "Line 1" not in html
    assert f"?before={older[2].pk}" in html and 'hx-trigger="intersect once"' in html


def test_older_messages_come_as_a_fragment_for_htmx(settings, alice_client, alice_chat):
    settings.CHAT_HISTORY_PAGE_SIZE = 3
    older = [message_create(session=alice_chat, content=f"Line {n}") for n in range(5)]
    response = alice_client.get(f"/chat/{alice_chat.pk}/?before={older[2].pk}", **HTMX)
    html = response.content.decode()
    assert "<html" not in html and 'data-role="composer"' not in html
    assert "Line 1" in html and "Line 0" in html and "Hello, I am Lin." in html
    assert "Line 2" not in html and "before=" not in html


@pytest.mark.parametrize("before", ["²", "abc", "-3"])
def test_a_malformed_history_cursor_shows_the_newest_page(
    settings, alice_client, alice_chat, before
):
    settings.CHAT_HISTORY_PAGE_SIZE = 3
    [message_create(session=alice_chat, content=f"Line {n}") for n in range(5)]
    response = alice_client.get(f"/chat/{alice_chat.pk}/", {"before": before})
    assert response.status_code == 200 and "Line 4" in response.content.decode()


def test_only_the_chosen_alternative_shows_with_its_switch(alice_client, alice_chat):
    question = message_create(session=alice_chat, content="Pick one.")
    first = message_create(
        session=alice_chat, role="assistant", query=question, content="Red", is_chosen=False
    )
    second = message_create(
        session=alice_chat, role="assistant", query=question, content="Blue", alternative_index=1
    )
    html = alice_client.get(f"/chat/{alice_chat.pk}/").content.decode()
    assert "Blue" in html and "Red" not in html
    assert "2/2" in html and f'data-choose="{first.pk}"' in html
    assert f'id="msg-{second.pk}"' in html and 'data-action="regenerate"' in html


def test_a_flagged_reply_is_shown_as_flagged_with_the_safe_answer(alice_client, alice_chat):
    question = message_create(session=alice_chat)
    message_create(
        session=alice_chat,
        role="assistant",
        query=question,
        content="Something risky",
        has_risk=True,
        safety_std_answer="Let us talk about something else.",
    )
    html = alice_client.get(f"/chat/{alice_chat.pk}/").content.decode()
    assert "flagged" in html and "Let us talk about something else." in html
    assert "Something risky" not in html


def test_a_function_call_and_token_usage_are_shown_readably(alice_client, alice_chat):
    question = message_create(session=alice_chat)
    message_create(
        session=alice_chat,
        role="assistant",
        query=question,
        content="Let me check.",
        input_tokens=120,
        output_tokens=42,
        function_call={
            "thought": "The user wants the weather.",
            "api_calls": [{"api_name": "weather", "parameters": {"city": "Hangzhou"}}],
        },
    )
    html = alice_client.get(f"/chat/{alice_chat.pk}/").content.decode()
    assert "Function call" in html and "<code>weather</code>" in html
    assert "&quot;city&quot;: &quot;Hangzhou&quot;" in html
    assert "out tokens" not in html  # token counts are for staff (CHAT_TOKEN_COUNTS)


def test_an_xss_payload_in_a_name_or_message_is_escaped_on_the_page(alice_client, alice):
    evil = character_create(remote_id="evil-1", name="<svg/onload=alert()>")
    session = chat_session_create(user=alice, character=evil)
    message_create(session=session, content="<script>alert('user')</script>")
    question = message_create(session=session)
    message_create(session=session, role="assistant", query=question, content="<b onclick=x>hi</b>")
    html = alice_client.get(f"/chat/{session.pk}/").content.decode()
    assert "<svg/onload" not in html and "<script>alert" not in html
    assert "&lt;svg/onload=alert()&gt;" in html
    assert "onclick" not in html.replace("&lt;b onclick=x&gt;", "")


def test_bob_cannot_open_alices_chat_page(bob_client, alice_chat):
    assert bob_client.get(f"/chat/{alice_chat.pk}/").status_code == 404


def test_the_chat_page_answers_only_get(alice_client, alice_chat):
    assert alice_client.post(f"/chat/{alice_chat.pk}/").status_code == 405


def test_an_archived_session_is_readable_without_a_composer(alice_client, alice, alice_chat):
    ChatSession.objects.filter(pk=alice_chat.pk).update(status=ChatSession.Status.ARCHIVED)
    current = services.session_start(user=alice, character=alice_chat.character)
    html = alice_client.get(f"/chat/{alice_chat.pk}/").content.decode()
    assert "Hello, I am Lin." in html and 'data-role="composer"' not in html
    assert "data-socket-path" not in html and f"/chat/{current.pk}/" in html


# --- reset ------------------------------------------------------------------------------------


def test_reset_archives_the_chat_and_opens_a_new_one(sim, alice_client, alice, alice_chat):
    response = alice_client.post(f"/chat/{alice_chat.pk}/reset/")
    fresh = ChatSession.objects.get(user=alice, status="active")
    assert response.status_code == 302 and response.url == f"/chat/{fresh.pk}/"
    assert fresh.pk != alice_chat.pk
    alice_chat.refresh_from_db()
    assert alice_chat.status == "archived"


def test_reset_over_htmx_redirects_the_whole_page(sim, alice_client, alice, alice_chat):
    response = alice_client.post(f"/chat/{alice_chat.pk}/reset/", **HTMX)
    fresh = ChatSession.objects.get(user=alice, status="active")
    assert response.headers["HX-Redirect"] == f"/chat/{fresh.pk}/"


def test_reset_while_a_reply_is_streaming_is_refused_with_a_message(alice_client, alice_chat):
    question = message_create(session=alice_chat)
    message_create(session=alice_chat, role="assistant", query=question, state="streaming")
    response = alice_client.post(f"/chat/{alice_chat.pk}/reset/", follow=True)
    assert "Wait for the reply to finish" in response.content.decode()
    alice_chat.refresh_from_db()
    assert alice_chat.is_active()


def test_reset_needs_a_post(alice_client, alice_chat):
    assert alice_client.get(f"/chat/{alice_chat.pk}/reset/").status_code == 405


def test_bob_cannot_reset_alices_chat(bob_client, alice_chat):
    assert bob_client.post(f"/chat/{alice_chat.pk}/reset/").status_code == 404
    alice_chat.refresh_from_db()
    assert alice_chat.is_active()


# --- scenario ---------------------------------------------------------------------------------


def test_the_scenario_is_saved_and_the_form_comes_back_as_a_fragment(alice_client, alice_chat):
    response = alice_client.post(
        f"/chat/{alice_chat.pk}/scenario/", {"scenario": "  A quiet library.  "}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Saved" in html and "A quiet library." in html
    alice_chat.refresh_from_db()
    assert alice_chat.scenario == "A quiet library."


def test_the_scenario_form_without_htmx_goes_back_to_the_chat(alice_client, alice_chat):
    response = alice_client.post(f"/chat/{alice_chat.pk}/scenario/", {"scenario": "Dawn."})
    assert response.status_code == 302 and response.url == f"/chat/{alice_chat.pk}/"


def test_the_scenario_needs_a_post(alice_client, alice_chat):
    assert alice_client.get(f"/chat/{alice_chat.pk}/scenario/").status_code == 405


def test_bob_cannot_set_the_scenario_of_alices_chat(bob_client, alice_chat):
    response = bob_client.post(f"/chat/{alice_chat.pk}/scenario/", {"scenario": "x"}, **HTMX)
    assert response.status_code == 404


# --- sessions list ----------------------------------------------------------------------------


def test_the_sessions_list_shows_each_chat_with_its_last_message(alice_client, alice, alice_chat):
    message_create(session=alice_chat, content="See you tomorrow!")
    html = alice_client.get("/chat/").content.decode()
    assert "Lin" in html and "You: See you tomorrow!" in html
    assert f"/chat/{alice_chat.pk}/" in html


def test_the_sessions_list_shows_only_the_users_own_chats(bob_client, alice_chat):
    html = bob_client.get("/chat/").content.decode()
    assert f"/chat/{alice_chat.pk}/" not in html and "No chats yet" in html


def test_the_sessions_list_takes_the_same_queries_for_one_chat_or_many(
    alice_client, alice, django_assert_num_queries
):
    def add_chat():
        session = chat_session_create(user=alice)
        message_create(session=session, content="Hi")

    add_chat()
    with django_assert_num_queries(3):
        alice_client.get("/chat/")
    for _ in range(4):
        add_chat()
    with django_assert_num_queries(3):
        response = alice_client.get("/chat/")
    assert response.content.decode().count('class="session-row') == 5


def test_the_sessions_list_answers_only_get(alice_client):
    assert alice_client.post("/chat/").status_code == 405


def test_the_sessions_list_is_the_same_page_for_htmx(alice_client, alice_chat):
    assert "<html" in alice_client.get("/chat/", **HTMX).content.decode()


def test_message_states_are_labelled(alice_client, alice_chat):
    question = message_create(session=alice_chat)
    message_create(
        session=alice_chat,
        role="assistant",
        query=question,
        content="Half a repl",
        state=Message.State.INTERRUPTED,
        error="The connection to Xingchen broke off. The text so far is kept.",
    )
    html = alice_client.get(f"/chat/{alice_chat.pk}/").content.decode()
    assert "interrupted" in html and "Half a repl" in html and "broke off" in html
