"""Accepting a generated description: the text is checked like any edit of the character."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from characters import services
from characters.models import BASIC_INFORMATION_MAX_LENGTH, Character, CharacterPush
from jobs.models import Job
from tests.characters.helpers import remote_character
from tests.factories import character_create_synced

pytestmark = pytest.mark.django_db

BAKER = "A cheerful baker from Lyon."


def _accept_url(character: Character, user, capture) -> str:
    """The page of a finished description job of `character`, where it is accepted."""
    with capture(execute=True):
        job = services.character_describe_start(character=character, user=user)
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    return f"/admin/characters/character/{character.pk}/describe/{job.pk}/"


def _accept(text: str) -> dict[str, str]:
    return {"decision": "accept", "basic_information": text}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "This field is required."),
        ("  \n\t ", "This field is required."),
        ("x" * (BASIC_INFORMATION_MAX_LENGTH + 1), "at most 10000 characters"),
        ("A baker\x00 from Lyon.", "Null characters are not allowed."),
    ],
    ids=["empty", "blank", "too-long", "null-character"],
)
def test_a_bad_description_is_refused_with_the_error_and_nothing_changes(
    admin_client, admin_user, django_capture_on_commit_callbacks, text, message
):
    character = character_create_synced(basic_information=BAKER)
    url = _accept_url(character, admin_user, django_capture_on_commit_callbacks)
    pushes = CharacterPush.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(url, _accept(text))

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "nothing was saved" in page
    character.refresh_from_db()
    assert character.basic_information == BAKER
    assert character.revision == 1
    assert CharacterPush.objects.count() == pushes
    assert callbacks == []
    assert remote_character(character.remote_id).basic_information == BAKER


def test_a_good_description_is_saved_and_pushed(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    character = character_create_synced(basic_information=BAKER)
    url = _accept_url(character, admin_user, django_capture_on_commit_callbacks)
    text = "  A cheerful baker from Lyon who hums while kneading.  "

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, _accept(text))

    assert response.status_code == 302
    character.refresh_from_db()
    assert character.basic_information == text.strip()
    assert remote_character(character.remote_id).basic_information == text.strip()


def test_a_description_for_a_character_breaking_another_rule_shows_that_rule(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    # Pulled from Xingchen with web search on but no keyword: the edit must fix that first.
    character = character_create_synced(basic_information=BAKER)
    url = _accept_url(character, admin_user, django_capture_on_commit_callbacks)
    Character.objects.filter(pk=character.pk).update(is_real_info=True, search_keyword="")

    response = admin_client.post(url, _accept("New text."))

    assert response.status_code == 200
    assert "A search keyword is required when web search is on." in response.content.decode()
    character.refresh_from_db()
    assert character.basic_information == BAKER


def test_the_service_refuses_an_empty_description_without_queueing_a_push():
    character = character_create_synced(basic_information=BAKER)
    pushes = CharacterPush.objects.count()

    with pytest.raises(ValidationError) as error:
        services.character_apply_description(character=character, text="   ")

    assert "basic_information" in error.value.message_dict
    character.refresh_from_db()
    assert character.basic_information == BAKER
    assert CharacterPush.objects.count() == pushes
