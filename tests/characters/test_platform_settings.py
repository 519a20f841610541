"""A character's reply platform and its settings, checked as the upstream checks them."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from characters.knowledge_bases import cache_key
from characters.models import Character
from project.upstream import reset_clients
from tests.characters.test_admin import ADD_URL, _errors, _form
from tests.factories import character_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    ("platform", "field", "value", "words"),
    [
        ("dms", "dms_temperature", "2.5", "less than 2"),
        ("dms", "dms_top_p", "0", "greater than 0"),
        ("dms", "dms_presence_penalty", "-3", "greater than or equal to -2"),
        ("lingma", "lingma_temperature", "1.5", "less than or equal to 1"),
        ("lingma", "lingma_max_tokens", "5000", "less than or equal to 4096"),
    ],
)
def test_out_of_range_settings_are_refused_on_their_field(
    admin_client, platform, field, value, words
):
    response = admin_client.post(ADD_URL, _form(reply_platform=platform, **{field: value}))

    assert response.status_code == 200
    errors = _errors(response)
    assert words in " ".join(errors[field])
    assert not Character.objects.exists()


def test_masking_needs_a_category(admin_client):
    response = admin_client.post(
        ADD_URL, _form(reply_platform="dms", dms_masking="on", dms_masking_rule="")
    )

    assert "Masking needs a category" in " ".join(_errors(response)["dms_masking_rule"])


def test_settings_of_another_platform_are_not_checked(admin_client):
    response = admin_client.post(
        ADD_URL, _form(reply_platform="xingchen", dms_temperature="9", lingma_max_tokens="9999")
    )

    assert response.status_code == 302
    assert Character.objects.get().reply_platform == "xingchen"


def test_a_dms_character_is_saved_and_available_without_xingchen(admin_client):
    response = admin_client.post(
        ADD_URL,
        _form(
            reply_platform="dms",
            dms_model="qwen-max",
            dms_masking="on",
            dms_temperature="0.7",
            dms_thinking="on",
            dms_thinking_budget="512",
        ),
    )

    assert response.status_code == 302
    character = Character.objects.get()
    assert (character.reply_platform, character.dms_model, character.dms_masking) == (
        "dms",
        "qwen-max",
        True,
    )
    assert character.remote_id is None and character.is_available()


def test_knowledge_bases_are_picked_from_the_organisations_list(admin_client, lingma_sim):
    bases = lingma_sim.knowledge_bases()
    answering = [kb for kb in bases if kb["sceneType"] != "complement"]
    completion = [kb for kb in bases if kb["sceneType"] == "complement"]

    page = admin_client.get(ADD_URL).content.decode()
    response = admin_client.post(
        ADD_URL, _form(reply_platform="lingma", lingma_kb_ids=[answering[0]["id"]])
    )

    assert all(kb["name"] in page for kb in answering)
    assert completion and all(kb["name"] not in page for kb in completion)
    assert response.status_code == 302
    assert Character.objects.get().lingma_kb_ids == [answering[0]["id"]]


def test_a_knowledge_base_no_longer_listed_is_shown_and_refused(admin_client, lingma_sim):
    character = character_create(reply_platform="lingma", lingma_kb_ids=["kb-gone"])
    url = f"/admin/characters/character/{character.pk}/change/"

    page = admin_client.get(url).content.decode()
    response = admin_client.post(url, _form(reply_platform="lingma", lingma_kb_ids=["kb-gone"]))

    assert "kb-gone (no longer listed)" in page
    assert "does not list these knowledge bases: kb-gone" in " ".join(
        _errors(response)["lingma_kb_ids"]
    )


def test_without_the_list_ids_can_be_typed(admin_client, settings):
    settings.LINGMA_TOKEN = "not-the-token"
    reset_clients()
    cache.delete(cache_key())  # an earlier test's list, in a shared cache

    page = admin_client.get(ADD_URL).content.decode()
    response = admin_client.post(
        ADD_URL, _form(reply_platform="lingma", lingma_kb_ids="kb-1, kb-2")
    )

    assert "The list could not be read" in page and "not-the-token" not in page
    assert response.status_code == 302
    assert Character.objects.get().lingma_kb_ids == ["kb-1", "kb-2"]


def test_a_platform_this_server_does_not_offer_cannot_be_chosen(admin_client, settings):
    settings.DMS_ENABLED = False

    response = admin_client.post(ADD_URL, _form(reply_platform="dms"))

    assert "DMS is not configured on this server" in " ".join(_errors(response)["reply_platform"])


def test_a_character_of_a_platform_turned_off_cannot_be_chatted_with(client, alice, settings):
    ada = character_create(reply_platform="lingma")
    settings.LINGMA_ENABLED = False
    client.force_login(alice)

    page = client.get(f"/characters/{ada.pk}/").content.decode()
    response = client.post(f"/characters/{ada.pk}/chat/")

    assert "Lingma is not configured on this server" in page
    assert response.status_code in (302, 403)
    assert not ada.chat_sessions.exists()
