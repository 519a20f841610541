from __future__ import annotations

import pytest
from django.core.management import call_command
from PIL import Image

from characters.models import Character, CharacterPush, SyncState

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_demo_characters_with_avatars_on_xingchen(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")

    characters = list(Character.objects.all())
    names = {c.name for c in characters}
    assert {"林晚秋", "Captain Mira Vance", "学习助手小智"} <= names
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

    assert Character.objects.count() == 4
    assert CharacterPush.objects.count() == 4


def test_seed_demo_succeeds_while_xingchen_is_down(sim, django_capture_on_commit_callbacks):
    sim.inject("aca-character-create", status=503, count=4)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")

    assert Character.objects.count() == 4
    assert set(Character.objects.values_list("sync_state", flat=True)) == {SyncState.PENDING}
    assert CharacterPush.objects.filter(state="pending").count() == 4
