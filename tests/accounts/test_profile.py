"""The profile page: what characters are told about the user."""

from __future__ import annotations

import pytest

from accounts.models import Profile

pytestmark = pytest.mark.django_db


def test_the_profile_page_saves_the_display_name_and_basic_info(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/profile/").status_code == 200
    response = client.post(
        "/accounts/profile/", {"display_name": "Ally", "basic_info": "Likes tea."}, follow=True
    )
    assert "Your profile was saved." in response.content.decode()
    profile = Profile.objects.get(user=alice)
    assert (profile.display_name, profile.basic_info) == ("Ally", "Likes tea.")


def test_a_too_long_display_name_is_refused(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/profile/", {"display_name": "x" * 41, "basic_info": ""})
    assert response.status_code == 200 and "at most 40 characters" in response.content.decode()
    assert not Profile.objects.exists()


def test_each_user_edits_only_their_own_profile(client, alice, bob):
    Profile.objects.create(user=alice, display_name="Ally")
    client.force_login(bob)
    client.post("/accounts/profile/", {"display_name": "Bobby", "basic_info": ""})
    assert Profile.objects.get(user=alice).display_name == "Ally"
    assert Profile.objects.get(user=bob).display_name == "Bobby"


def test_the_profile_page_needs_a_login(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_profile_page_answers_get_and_post_only(client, alice):
    client.force_login(alice)
    assert client.delete("/accounts/profile/").status_code == 405
