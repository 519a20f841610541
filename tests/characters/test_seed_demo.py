from __future__ import annotations

import pytest
from django.core.management import call_command
from PIL import Image

from characters import services
from characters.management.commands.seed_demo import DEMO_CHARACTERS
from characters.models import Character, CharacterPush, SyncState
from tests.factories import character_create

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_demo_characters_with_avatars_on_xingchen(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")

    characters = list(Character.objects.all())
    names = {c.name for c in characters}
    assert {"林晚秋", "Captain Mira Vance", "学习助手小智"} <= names
    platforms = {c.name: c.reply_platform for c in characters}
    assert platforms["Service desk Wen"] == "dms" and platforms["Company expert Ada"] == "lingma"
    assert any(c.character_type == "assistant" for c in characters)
    for character in characters:
        assert character.sync_state == SyncState.SYNCED
        assert character.is_available()
        with Image.open(character.avatar.path) as image:
            assert image.size == (256, 256)


def test_seed_demo_is_idempotent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
        call_command("seed_demo")

    assert Character.objects.count() == len(DEMO_CHARACTERS)
    assert CharacterPush.objects.count() == len(DEMO_CHARACTERS)


def test_seed_demo_skips_platforms_this_server_does_not_offer(
    settings, django_capture_on_commit_callbacks
):
    settings.DMS_ENABLED = False

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")

    assert not Character.objects.filter(reply_platform="dms").exists()
    assert Character.objects.filter(reply_platform="lingma").exists()


def test_seed_demo_succeeds_while_xingchen_is_down(sim, django_capture_on_commit_callbacks):
    sim.inject("aca-character-create", status=503, count=len(DEMO_CHARACTERS))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")

    assert Character.objects.count() == len(DEMO_CHARACTERS)
    assert set(Character.objects.values_list("sync_state", flat=True)) == {SyncState.PENDING}
    assert CharacterPush.objects.filter(state="pending").count() == len(DEMO_CHARACTERS)


def test_a_renamed_demo_character_is_not_made_again(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    mira = Character.objects.get(name="Captain Mira Vance")
    mira.name = "Admiral Mira"
    with django_capture_on_commit_callbacks(execute=True):
        services.character_update(character=mira)
    pushes = CharacterPush.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")

    assert Character.objects.count() == len(DEMO_CHARACTERS)
    assert not Character.objects.filter(name="Captain Mira Vance").exists()
    assert CharacterPush.objects.count() == pushes
    mira.refresh_from_db()
    assert (mira.name, mira.sync_state) == ("Admiral Mira", SyncState.SYNCED)


def test_a_deleted_demo_character_stays_deleted(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
        services.character_delete(character=Character.objects.get(name="厨神阿福"))
        call_command("seed_demo")

    assert Character.objects.filter(is_deleted=False).count() == len(DEMO_CHARACTERS) - 1
    assert Character.objects.filter(name="厨神阿福").count() == 1


def test_demo_characters_seeded_before_seed_keys_are_adopted_once(
    django_capture_on_commit_callbacks,
):
    # A database seeded by an older version: demo rows without a key, one of them renamed since.
    older = {spec["name"]: spec for spec in DEMO_CHARACTERS}
    character_create(name="林晚秋", basic_information=older["林晚秋"]["basic_information"])
    renamed = character_create(
        name="Mira", basic_information=older["Captain Mira Vance"]["basic_information"]
    )

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
        call_command("seed_demo")

    assert Character.objects.count() == len(DEMO_CHARACTERS)
    # Only the demo characters it had to make were pushed.
    assert CharacterPush.objects.count() == len(DEMO_CHARACTERS) - 2
    renamed.refresh_from_db()
    assert (renamed.name, renamed.seed_key) == ("Mira", "demo-mira-vance")
