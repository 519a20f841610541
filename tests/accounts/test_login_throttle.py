"""Sign-ins are throttled per username and per client address (django-axes)."""

from __future__ import annotations

import random
from datetime import timedelta
from ipaddress import IPv6Address

import pytest
from asgiref.sync import sync_to_async
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.db import connections
from django.test import AsyncClient

from tests.conftest import password

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LOCKED = "Too many failed sign-ins; try again in 15 minutes."


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.CLIENT_IP_HEADER = ""


def address() -> str:
    """A client address of its own (a documentation range, never contacted)."""
    return str(IPv6Address((0x20010DB8 << 96) | random.getrandbits(64)))


def sign_in(client, username: str, secret: str, ip: str, url: str = LOGIN, **headers):
    return client.post(url, {"username": username, "password": secret}, REMOTE_ADDR=ip, **headers)


def is_signed_in(client) -> bool:
    return client.get("/accounts/profile/").status_code == 200


def test_fifty_wrong_passwords_lock_the_account_and_then_refuse_the_right_one(client, alice):
    ip = address()
    answers = [sign_in(client, "alice", f"guess-{n}", ip).status_code for n in range(50)]

    assert answers == [200] * 4 + [429] * 46
    response = sign_in(client, "alice", password(), ip)
    assert response.status_code == 429
    assert not is_signed_in(client)


def test_the_lockout_is_said_on_the_sites_own_login_page(client, alice):
    ip = address()
    for n in range(5):
        response = sign_in(client, "alice", f"guess-{n}", ip)

    page = response.content.decode()
    assert response.status_code == 429
    assert LOCKED in page
    assert 'class="card narrow"' in page and 'name="password"' in page
    assert response["Retry-After"] == "900"


def test_a_wrong_password_before_the_limit_says_so_without_locking(client, alice):
    response = sign_in(client, "alice", "nope", address())

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert LOCKED not in response.content.decode()


def test_an_account_stays_locked_whatever_address_the_guesses_come_from(client, alice, bob):
    for n in range(5):
        sign_in(client, "alice", f"guess-{n}", address())
    fresh = address()

    assert sign_in(client, "alice", password(), fresh).status_code == 429
    # The fresh address itself is not locked: another account signs in from it.
    assert sign_in(client, "bob", password(), fresh).status_code == 302


def test_an_address_is_locked_whatever_usernames_it_tries(client, alice):
    ip = address()
    for n in range(5):
        sign_in(client, f"nobody-{n}", "guess", ip)

    assert sign_in(client, "alice", password(), ip).status_code == 429
    assert sign_in(client, "alice", password(), address()).status_code == 302


def test_a_successful_sign_in_clears_the_earlier_failures(client, alice):
    ip = address()
    for n in range(4):
        sign_in(client, "alice", f"guess-{n}", ip)
    assert sign_in(client, "alice", password(), ip).status_code == 302
    client.post("/accounts/logout/")

    answers = [sign_in(client, "alice", f"again-{n}", ip).status_code for n in range(4)]
    assert answers == [200] * 4


def test_the_admin_login_is_throttled_too(client, staff):
    ip = address()
    for n in range(5):
        response = sign_in(client, "staff", f"guess-{n}", ip, url=ADMIN_LOGIN)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "Log in | Persona Studio" in response.content.decode()  # the admin's own page
    assert sign_in(client, "staff", password(), ip, url=ADMIN_LOGIN).status_code == 429
    assert client.get("/admin/").status_code == 302


def test_staff_see_a_lockout_in_the_admin_and_clearing_it_lets_the_user_in(client, alice, staff):
    for n in range(5):
        sign_in(client, "alice", f"guess-{n}", address())
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_accessattempt", "delete_accessattempt"])
    )
    admin = type(client)()
    admin.force_login(staff)

    listing = admin.get("/admin/axes/accessattempt/?q=alice")
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    ids = [
        str(pk)
        for pk in AccessAttempt.objects.filter(username="alice").values_list("pk", flat=True)
    ]
    admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )

    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert sign_in(client, "alice", password(), address()).status_code == 302


def test_a_forwarded_header_is_ignored_unless_a_proxy_is_configured(client, alice):
    ip = address()
    for n in range(5):
        sign_in(client, f"nobody-{n}", "guess", ip, HTTP_X_FORWARDED_FOR=address())

    assert (
        sign_in(client, "alice", password(), ip, HTTP_X_FORWARDED_FOR=address()).status_code == 429
    )


def test_behind_a_configured_proxy_the_address_it_forwarded_is_locked(client, settings, alice):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    proxy, client_ip = address(), address()
    for n in range(5):
        # Whatever the client puts on the left, the proxy appends the address it saw.
        sign_in(
            client, f"nobody-{n}", "guess", proxy, HTTP_X_FORWARDED_FOR=f"{address()}, {client_ip}"
        )

    assert (
        sign_in(client, "alice", password(), proxy, HTTP_X_FORWARDED_FOR=client_ip).status_code
        == 429
    )
    # Other clients behind the same proxy still sign in.
    assert (
        sign_in(client, "alice", password(), proxy, HTTP_X_FORWARDED_FOR=address()).status_code
        == 302
    )


@pytest.mark.django_db(transaction=True)
async def test_the_lockout_page_is_the_same_under_asgi(alice):
    client, ip = AsyncClient(), address()
    try:
        for n in range(5):
            response = await client.post(
                LOGIN, {"username": "alice", "password": f"guess-{n}"}, REMOTE_ADDR=ip
            )
    finally:
        # The views ran in the thread-sensitive worker; its connection must not outlive the test.
        await sync_to_async(connections.close_all)()

    page = response.content.decode()
    assert response.status_code == 429
    assert LOCKED in page and 'class="card narrow"' in page
