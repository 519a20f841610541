"""Password reset: offered only when mail can be sent, and throttled per address and email."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core import mail

from tests.accounts.test_login_throttle import address
from tests.conftest import password

pytestmark = pytest.mark.django_db

RESET = "/accounts/password_reset/"
THROTTLED = "Too many reset requests; try again in"


def unique_email() -> str:
    # Reset counters live in the cache, which outlives a test on Redis: one email per test.
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def mail_on(settings):
    settings.EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = "https://studio.example.com"
    settings.PASSWORD_RESET_IP_RATE = "10/d"  # day-long windows: no edge passes mid-test
    settings.PASSWORD_RESET_EMAIL_RATE = "3/d"


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", email=unique_email(), password=password())


def ask_for_reset(client, email: str, ip: str):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


def test_without_mail_the_reset_pages_are_not_found_and_not_linked(client, settings, carol):
    settings.EMAIL_ENABLED = False

    assert "Forgot your password?" not in client.get("/accounts/login/").content.decode()
    assert client.get(RESET).status_code == 404
    assert ask_for_reset(client, carol.email, address()).status_code == 404
    assert client.get("/accounts/password_reset/done/").status_code == 404
    assert client.get("/accounts/reset/MQ/set-password/").status_code == 404
    assert client.get("/accounts/reset/done/").status_code == 404
    assert mail.outbox == []


def test_with_mail_the_login_page_links_to_the_reset(client, mail_on):
    page = client.get("/accounts/login/").content.decode()

    assert "Forgot your password?" in page and f'href="{RESET}"' in page


def test_the_whole_reset_flow_sets_a_new_password(client, mail_on, carol):
    form = client.get(RESET)
    assert form.status_code == 200 and 'class="card narrow"' in form.content.decode()

    response = ask_for_reset(client, carol.email, address())
    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert "Check your email" in client.get(response["Location"]).content.decode()

    (message,) = mail.outbox
    assert message.to == [carol.email]
    assert message.subject == "Reset your Persona Studio password"
    link = re.search(r"https://studio\.example\.com(/accounts/reset/\S+/)", message.body).group(1)

    set_password = client.get(link, follow=True)
    assert "Choose a new password" in set_password.content.decode()
    done = client.post(
        set_password.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-secret", "new_password2": "a-brand-new-secret"},
        follow=True,
    )
    assert "Password saved" in done.content.decode()

    assert (
        client.post(
            "/accounts/login/", {"username": "carol", "password": password()}, REMOTE_ADDR=address()
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/accounts/login/",
            {"username": "carol", "password": "a-brand-new-secret"},
            REMOTE_ADDR=address(),
        ).status_code
        == 302
    )
    # The link works once.
    assert "already been used" in client.get(link, follow=True).content.decode()


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, mail_on):
    response = ask_for_reset(client, unique_email(), address())

    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_requests_for_one_email_are_throttled_from_any_address(client, mail_on, carol):
    answers = [ask_for_reset(client, carol.email.upper(), address()) for _ in range(4)]

    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert THROTTLED in answers[-1].content.decode()
    assert 'class="card narrow"' in answers[-1].content.decode()
    assert int(answers[-1]["Retry-After"]) > 0
    assert len(mail.outbox) == 3


def test_requests_from_one_address_are_throttled_whatever_the_email(client, settings, mail_on):
    settings.PASSWORD_RESET_IP_RATE = "3/d"
    ip = address()
    answers = [ask_for_reset(client, unique_email(), ip).status_code for _ in range(4)]

    assert answers == [302, 302, 302, 429]
    assert ask_for_reset(client, unique_email(), address()).status_code == 302


def test_the_reset_page_answers_get_and_post_only(client, mail_on):
    assert client.put(RESET).status_code == 405


def test_password_change_still_works_for_a_signed_in_user(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/password_change/").status_code == 200
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": password(),
            "new_password1": "another-long-secret",
            "new_password2": "another-long-secret",
        },
        follow=True,
    )
    assert "Password saved" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("another-long-secret")
