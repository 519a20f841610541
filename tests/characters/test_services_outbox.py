from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from characters import services, tasks
from characters.models import Character, CharacterPush, PushState, SyncState
from platforms.xingchen.errors import XingchenError
from platforms.xingchen.types import Character as RemoteCharacter
from project.upstream import call_sync, reset_clients
from tests.characters.helpers import create_remotely, remote_character, set_remote_status
from tests.factories import character_create, character_create_synced

pytestmark = pytest.mark.django_db


def _edit(character: Character, **changes: object) -> Character:
    for name, value in changes.items():
        setattr(character, name, value)
    return services.character_update(character=character)


def _open_push(character: Character) -> CharacterPush:
    return CharacterPush.objects.get(
        character=character, state__in=["pending", "waiting", "failed"]
    )


def test_a_new_character_is_saved_with_one_pending_push():
    character = services.character_create(
        character=Character(name="Nova", basic_information="A pilot.")
    )

    push = CharacterPush.objects.get(character=character)
    assert (push.operation, push.state) == ("create", "pending")
    assert character.sync_state == SyncState.PENDING
    assert character.remote_id is None


def test_a_new_character_reaches_the_simulator_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        character = services.character_create(
            character=Character(name="Nova", basic_information="A pilot.", opening_line="Hi!")
        )

    character.refresh_from_db()
    assert character.sync_state == SyncState.SYNCED
    remote = remote_character(character.remote_id)
    assert (remote.name, remote.opening_line) == ("Nova", "Hi!")
    assert CharacterPush.objects.get(character=character).state == PushState.SENT


def _updates_of(sim, character) -> list[dict]:
    """The update requests of `character` (the simulator's log holds other tests' too)."""
    requests = sim.requests("aca-character-update")
    return [r["json"] for r in requests if r["json"].get("characterId") == character.remote_id]


def test_an_edit_reaches_the_simulator(sim, django_capture_on_commit_callbacks):
    character = character_create_synced(name="Before")

    with django_capture_on_commit_callbacks(execute=True):
        _edit(character, name="After", introduction="")

    character.refresh_from_db()
    assert character.sync_state == SyncState.SYNCED
    assert remote_character(character.remote_id).name == "After"
    sent = _updates_of(sim, character)[-1]
    assert (sent["name"], sent["introduction"]) == ("After", "")


def test_many_edits_while_pending_become_one_push_of_the_latest_state(sim):
    character = character_create_synced(name="One")
    for name in ("Two", "Three", "Four"):
        _edit(character, name=name)

    push = _open_push(character)
    assert CharacterPush.objects.filter(character=character, state="pending").count() == 1
    tasks.character_push.delay(push.pk)

    assert remote_character(character.remote_id).name == "Four"
    assert [r["name"] for r in _updates_of(sim, character)][-1:] == ["Four"]


def test_edits_stay_pending_while_xingchen_fails_and_land_once_it_recovers(
    sim, django_capture_on_commit_callbacks
):
    character = character_create_synced(name="Steady")
    sim.inject("aca-character-update", status=503, count=3)

    with django_capture_on_commit_callbacks(execute=True):
        _edit(character, name="Stormy")
    character.refresh_from_db()
    push = _open_push(character)
    assert character.sync_state == SyncState.PENDING
    assert "unavailable" in character.last_sync_error
    assert (push.state, push.attempts) == ("pending", 1)
    assert push.next_attempt_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        _edit(character, introduction="Edited while Xingchen was down.")
    for _ in range(2):  # what Celery's delayed retries do
        tasks.character_push.delay(push.pk)

    character.refresh_from_db()
    push.refresh_from_db()
    assert (character.sync_state, push.state) == (SyncState.SYNCED, PushState.SENT)
    assert push.attempts == 4
    remote = remote_character(character.remote_id)
    assert (remote.name, remote.introduction) == ("Stormy", "Edited while Xingchen was down.")


def test_a_push_honours_retry_after(sim):
    character = character_create_synced()
    _edit(character, name="Later")
    sim.inject("aca-character-update", status=429, count=1, retry_after=40)

    outcome = services.character_push_run(push_id=_open_push(character).pk)

    assert outcome.state == "retry"
    assert outcome.retry_in >= 40


def test_a_push_gives_up_retrying_automatically_but_keeps_the_edit(
    sim, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "MAX_AUTO_ATTEMPTS", 2)
    character = character_create_synced()
    _edit(character, name="Patient")
    push = _open_push(character)
    sim.inject("aca-character-update", status=500, count=2)

    outcomes = [services.character_push_run(push_id=push.pk).state for _ in range(2)]

    character.refresh_from_db()
    push.refresh_from_db()
    assert outcomes == ["retry", "failed"]
    assert (character.sync_state, push.state) == (SyncState.FAILED, PushState.FAILED)
    assert character.name == "Patient"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.character_push_retry(push=push)
    assert remote_character(character.remote_id).name == "Patient"


def test_overdue_pushes_are_swept_back_into_the_queue(sim):
    character = character_create_synced()
    _edit(character, name="Swept")
    push = _open_push(character)
    CharacterPush.objects.filter(pk=push.pk).update(next_attempt_at=push.created_at)

    assert services.character_push_sweep(grace=timedelta(0)) == 1

    assert remote_character(character.remote_id).name == "Swept"


@pytest.mark.parametrize(
    ("statuses", "reason"),
    [
        ({"auditStatus": "review"}, "under review"),
        ({"greenStatus": "update"}, "under review"),
        ({"configStatus": "out"}, "off-shelf"),
    ],
)
def test_a_refused_update_waits_with_the_reason_and_lands_after_the_refusal_ends(
    sim, django_capture_on_commit_callbacks, statuses, reason
):
    character = character_create_synced(name="Draft")
    set_remote_status(sim, character.remote_id, **statuses)

    with django_capture_on_commit_callbacks(execute=True):
        _edit(character, name="Reviewed")
    character.refresh_from_db()
    push = _open_push(character)
    assert (character.sync_state, push.state) == (SyncState.WAITING, PushState.WAITING)
    assert reason in character.last_sync_error
    assert "kept" in character.last_sync_error
    assert remote_character(character.remote_id).name == "Draft"

    normal = {k: ("normal" if k == "configStatus" else "success") for k in statuses}
    set_remote_status(sim, character.remote_id, **normal)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.character_pull(character=character) == "unchanged"

    character.refresh_from_db()
    assert character.sync_state == SyncState.SYNCED
    assert remote_character(character.remote_id).name == "Reviewed"


def test_an_edit_made_while_a_push_is_on_the_wire_is_sent_too(
    sim, monkeypatch, django_capture_on_commit_callbacks
):
    character = character_create_synced(name="First")
    _edit(character, name="Second")
    real_update = services.sync.remote_update

    def update_then_edit_again(pushed: Character) -> None:
        real_update(pushed)
        monkeypatch.setattr(services.sync, "remote_update", real_update)
        _edit(Character.objects.get(pk=pushed.pk), name="Third")

    monkeypatch.setattr(services.sync, "remote_update", update_then_edit_again)
    with django_capture_on_commit_callbacks(execute=True):
        services.character_push_run(push_id=_open_push(character).pk)

    character.refresh_from_db()
    assert character.name == "Third"
    assert remote_character(character.remote_id).name == "Third"
    assert character.sync_state == SyncState.SYNCED


def test_a_change_xingchen_rejects_fails_with_its_message(sim, django_capture_on_commit_callbacks):
    character = character_create_synced()

    with django_capture_on_commit_callbacks(execute=True):
        _edit(character, basic_information="   ")

    character.refresh_from_db()
    assert character.sync_state == SyncState.FAILED
    assert "basicInformation is required" in character.last_sync_error
    assert _open_push(character).state == PushState.FAILED


def test_deleting_a_synced_character_deletes_it_on_xingchen(django_capture_on_commit_callbacks):
    character = character_create_synced()

    with django_capture_on_commit_callbacks(execute=True):
        services.character_delete(character=character)

    character.refresh_from_db()
    assert (character.is_deleted, character.sync_state) == (True, SyncState.DELETED)
    with pytest.raises(XingchenError) as excinfo:
        remote_character(character.remote_id)
    assert excinfo.value.status == 404


def test_deleting_a_character_never_pushed_needs_no_push(sim):
    character = services.character_create(character=Character(name="Ghost", basic_information="x"))

    services.character_delete(character=character)

    character.refresh_from_db()
    assert (character.is_deleted, character.sync_state) == (True, SyncState.DELETED)
    assert CharacterPush.objects.get(character=character).state == PushState.CANCELLED


def test_a_new_avatar_is_sent_as_a_public_url(sim, settings, django_capture_on_commit_callbacks):
    character = character_create_synced(avatar=True)

    sent = sim.requests("aca-character-create")[-1]["json"]
    assert sent["avatar"]["fileUrl"] == (
        f"{settings.PUBLIC_BASE_URL}/media/{character.avatar.name}"
    )
    assert character.avatar_synced_name == character.avatar.name
    assert character.avatar.name.startswith("avatars/")


def test_a_character_is_available_only_on_xingchen_and_on_shelf():
    assert not character_create().is_available()
    assert character_create(remote_id="r-1").is_available()
    assert not character_create(remote_id="r-2", config_status="out").is_available()
    assert not character_create(remote_id="r-3", is_deleted=True).is_available()


# --- creates whose answer was lost ---------------------------------------------------------------


@pytest.fixture
def short_read_timeout(settings) -> Iterator[None]:
    settings.XINGCHEN_READ_TIMEOUT = 0.5
    reset_clients()
    yield
    reset_clients()


def _unique_name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _remote_named(name: str) -> list[RemoteCharacter]:
    page = call_sync(lambda client: client.character_search(scope="my", name=name, page_size=50))
    return [remote for remote in page.items if remote.name == name]


def _new_character(name: str) -> tuple[Character, CharacterPush]:
    character = services.character_create(
        character=Character(name=name, basic_information="Twins share a name.")
    )
    return character, _open_push(character)


def test_a_create_that_timed_out_upstream_is_adopted_on_retry_instead_of_duplicated(
    sim, short_read_timeout
):
    name = _unique_name("Echo")
    character, push = _new_character(name)
    sim.inject("aca-character-create", kind="slow_response", seconds=2)

    first = services.character_push_run(push_id=push.pk)
    push.refresh_from_db()
    assert first.state == "retry"
    assert push.unconfirmed_create_at is not None
    second = services.character_push_run(push_id=push.pk)

    character.refresh_from_db()
    [remote] = _remote_named(name)
    assert second.state == "sent"
    assert character.remote_id == remote.character_id
    assert character.sync_state == SyncState.SYNCED


def test_a_same_named_character_made_before_the_first_attempt_is_not_adopted(sim, settings):
    settings.XINGCHEN_CLOCK_SKEW = 0
    name = _unique_name("Twin")
    older_id = create_remotely(name=name, basic_information="Twins share a name.")
    character, push = _new_character(name)
    sim.inject("aca-character-create", status=503, count=1)

    assert services.character_push_run(push_id=push.pk).state == "retry"
    assert services.character_push_run(push_id=push.pk).state == "sent"

    character.refresh_from_db()
    assert character.remote_id not in (None, older_id)
    assert {r.character_id for r in _remote_named(name)} == {older_id, character.remote_id}


def test_a_create_xingchen_refused_is_retried_without_looking_for_a_copy(sim):
    character, push = _new_character(_unique_name("Refused"))
    sim.inject("aca-character-create", status=400, count=1)

    assert services.character_push_run(push_id=push.pk).state == "failed"
    push.refresh_from_db()
    assert push.unconfirmed_create_at is None
    searches = {r["requestId"] for r in sim.requests("aca-character-search")}
    services.character_push_retry(push=push)
    assert services.character_push_run(push_id=push.pk).state == "sent"

    assert {r["requestId"] for r in sim.requests("aca-character-search")} <= searches


def test_an_edit_made_after_an_unanswered_create_reaches_the_adopted_character(
    sim, short_read_timeout, django_capture_on_commit_callbacks
):
    name = _unique_name("Later")
    character, push = _new_character(name)
    sim.inject("aca-character-create", kind="slow_response", seconds=2)
    services.character_push_run(push_id=push.pk)

    with django_capture_on_commit_callbacks(execute=True):
        _edit(character, opening_line="Edited while the create was unanswered.")

    character.refresh_from_db()
    [remote] = _remote_named(name)
    assert character.remote_id == remote.character_id
    assert remote_character(remote.character_id).opening_line == (
        "Edited while the create was unanswered."
    )
    assert character.sync_state == SyncState.SYNCED


def test_deleting_a_character_whose_create_went_unanswered_deletes_the_copy_that_landed(
    sim, short_read_timeout, django_capture_on_commit_callbacks
):
    name = _unique_name("Gone")
    character, push = _new_character(name)
    sim.inject("aca-character-create", kind="slow_response", seconds=2)
    services.character_push_run(push_id=push.pk)
    assert len(_remote_named(name)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.character_delete(character=character)

    character.refresh_from_db()
    assert (character.is_deleted, character.sync_state) == (True, SyncState.DELETED)
    assert _remote_named(name) == []
