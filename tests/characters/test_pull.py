from __future__ import annotations

import pytest
from PIL import Image

from characters import services, sync
from characters.models import Character, CharacterPush, PushState, SyncState
from platforms.xingchen.types import PermConfig
from project.upstream import call_sync, reset_clients
from tests.characters.helpers import create_remotely, edit_remotely, remote_character
from tests.factories import character_create_synced
from tests.simulator_fixture import make_simulator

pytestmark = pytest.mark.django_db


def _edit_locally(character: Character, **changes: object) -> None:
    for name, value in changes.items():
        setattr(character, name, value)
    services.character_update(character=character)


def test_a_change_made_directly_in_the_simulator_is_pulled():
    character = character_create_synced(name="Local name", traits="Polite.")
    edit_remotely(character.remote_id, name="Renamed upstream", traits="Blunt.")

    report = services.character_pull_all(scopes=["my"])

    character.refresh_from_db()
    assert (character.name, character.traits) == ("Renamed upstream", "Blunt.")
    assert character.sync_state == SyncState.SYNCED
    assert report.updated >= 1
    assert not character.has_unpushed_changes()


def test_a_character_deleted_directly_in_the_simulator_leaves_the_gallery(client, alice):
    gone = character_create_synced(name="Gone upstream")
    kept = character_create_synced(name="Still there")
    call_sync(lambda xingchen: xingchen.character_delete(character_id=gone.remote_id))

    report = services.character_pull_all(scopes=["my"])

    gone.refresh_from_db()
    assert (gone.is_deleted, gone.sync_state) == (True, SyncState.DELETED)
    assert report.deleted == 1
    kept.refresh_from_db()
    assert not kept.is_deleted
    client.force_login(alice)
    assert client.get(f"/characters/{gone.pk}/").status_code == 404
    # Searched: the pull also imports the simulator's other characters, past the first page.
    assert "Still there" in client.get("/characters/", {"q": "Still there"}).content.decode()
    assert "Gone upstream" not in client.get("/characters/", {"q": "Gone"}).content.decode()


def test_a_pull_without_remote_changes_leaves_the_row_alone():
    character = character_create_synced(name="Quiet")

    assert services.character_pull(character=character) == "unchanged"

    character.refresh_from_db()
    assert (character.name, character.sync_state) == ("Quiet", SyncState.SYNCED)


def test_characters_created_on_xingchen_are_imported_with_their_avatar(png_url):
    remote_id = create_remotely(
        name="Made upstream",
        avatar_url=png_url,
        opening_line="Hello from Xingchen.",
        perm_config=PermConfig(is_public=True, allow_chat=True, allow_api=False),
    )

    services.character_pull_all(scopes=["my"])

    character = Character.objects.get(remote_id=remote_id)
    assert (character.name, character.opening_line) == ("Made upstream", "Hello from Xingchen.")
    assert (character.perm_is_public, character.perm_allow_api) == (True, False)
    assert character.sync_state == SyncState.SYNCED
    assert character.avatar.name.startswith("avatars/")
    with Image.open(character.avatar.path) as image:
        assert image.size == (96, 96)
    assert character.avatar_remote_path == remote_character(remote_id).avatar.file_save_path


@pytest.fixture
def own_sim(settings, tmp_path):
    """A simulator holding only this test's characters (its request log keeps 50 calls)."""
    handle = make_simulator(tmp_path / "own-simulator")
    settings.XINGCHEN_BASE_URL = handle.base_url
    settings.XINGCHEN_API_KEY = handle.api_key
    reset_clients()
    yield handle
    reset_clients()
    handle.stop()


def test_a_pull_reads_every_page_of_search(own_sim, monkeypatch):
    monkeypatch.setattr(sync, "SEARCH_PAGE_SIZE", 2)
    remote_ids = [create_remotely(name=f"Paged {n}") for n in range(5)]

    services.character_pull_all(scopes=["my"])

    assert Character.objects.filter(remote_id__in=remote_ids).count() == 5
    pages = [r["json"]["pageNum"] for r in own_sim.requests("aca-character-search")]
    assert pages == [1, 2, 3]


def test_built_in_characters_are_imported_read_only():
    services.character_pull_all(scopes=["pre_configured"])

    ada = Character.objects.get(remote_id="builtin-travel-guide-ada")
    assert ada.name == "Ada the Travel Guide"
    assert (ada.manageable, ada.is_pre_configured) == (False, True)
    assert ada.is_available()


def test_a_remote_change_to_a_row_with_an_unpushed_edit_is_a_conflict():
    character = character_create_synced(name="Base")
    _edit_locally(character, name="Mine")
    edit_remotely(character.remote_id, name="Theirs")

    assert services.character_pull(character=character) == "conflicted"

    character.refresh_from_db()
    assert character.sync_state == SyncState.CONFLICTED
    assert character.name == "Mine"
    assert character.remote_snapshot["name"] == "Theirs"
    rows = services.character_conflict_rows(character=character)
    assert ("Name", "Mine", "Theirs") in rows


def test_a_conflicted_push_waits_instead_of_overwriting_xingchen():
    character = character_create_synced(name="Base")
    _edit_locally(character, name="Mine")
    edit_remotely(character.remote_id, name="Theirs")
    services.character_pull(character=character)

    push = CharacterPush.objects.get(character=character, state="pending")
    outcome = services.character_push_run(push_id=push.pk)

    assert outcome.state == "waiting"
    assert remote_character(character.remote_id).name == "Theirs"


def test_keeping_mine_resolves_a_conflict_by_pushing_the_local_version(
    django_capture_on_commit_callbacks,
):
    character = character_create_synced(name="Base")
    _edit_locally(character, name="Mine")
    edit_remotely(character.remote_id, name="Theirs")
    services.character_pull(character=character)

    with django_capture_on_commit_callbacks(execute=True):
        services.character_resolve_conflict(character=character, keep="mine")

    character.refresh_from_db()
    assert character.sync_state == SyncState.SYNCED
    assert remote_character(character.remote_id).name == "Mine"


def test_taking_theirs_resolves_a_conflict_by_adopting_the_remote_version():
    character = character_create_synced(name="Base")
    _edit_locally(character, name="Mine", opening_line="Mine too")
    edit_remotely(character.remote_id, name="Theirs")
    services.character_pull(character=character)

    services.character_resolve_conflict(character=character, keep="theirs")

    character.refresh_from_db()
    assert (character.name, character.sync_state) == ("Theirs", SyncState.SYNCED)
    assert character.opening_line == remote_character(character.remote_id).opening_line
    assert not character.has_unpushed_changes()
    assert not CharacterPush.objects.filter(character=character, state=PushState.PENDING).exists()


def test_a_remote_change_matching_the_local_edit_is_no_conflict():
    character = character_create_synced(name="Base")
    _edit_locally(character, name="Same")
    edit_remotely(character.remote_id, name="Same")

    assert services.character_pull(character=character) == "unchanged"

    character.refresh_from_db()
    assert character.sync_state == SyncState.PENDING


def test_locally_deleted_characters_are_not_brought_back_by_a_pull():
    character = character_create_synced(name="Gone")
    services.character_delete(character=character)

    assert services.character_pull(character=character) == "skipped"

    character.refresh_from_db()
    assert character.is_deleted
