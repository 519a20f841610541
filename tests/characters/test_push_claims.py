"""Claims of pushes name the process holding them; only a holder proven gone loses its claim."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from characters import services
from characters.models import CharacterPush, PushState, SyncState
from project import holders
from tests.characters.helpers import remote_character
from tests.factories import character_create_synced
from tests.simulator_process import ROOT

pytestmark = pytest.mark.django_db


def _holder_of_a_finished_process() -> str:
    code = "from project import holders; print(holders.current())"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_a_running_process_is_not_gone():
    assert holders.is_gone(holders.current()) is False


def test_a_finished_process_on_this_host_is_gone():
    assert holders.is_gone(_holder_of_a_finished_process()) is True


def test_a_reused_pid_is_not_mistaken_for_the_holder():
    host, pid, started = holders.current().rsplit("|", 2)

    assert holders.is_gone(f"{host}|{pid}|{float(started) - 60:.2f}") is True


@pytest.mark.parametrize(
    "holder", ["other-host|1|1700000000.00", "garbage", "", "vm|not-a-pid|1.00"]
)
def test_a_holder_that_cannot_be_checked_here_is_not_gone(holder):
    assert holders.is_gone(holder) is False


def _claimed_edit(holder: str, django_capture_on_commit_callbacks) -> CharacterPush:
    """An edit whose push `holder` claimed and never finished."""
    character = character_create_synced(name="Claimed")
    character.name = "Claimed edit"
    with django_capture_on_commit_callbacks(execute=False):
        services.character_update(character=character)
    push = CharacterPush.objects.get(character=character, state=PushState.PENDING)
    lease = timezone.now() + services.CLAIM_LEASE
    CharacterPush.objects.filter(pk=push.pk).update(claimed_by=holder, claimed_until=lease)
    return push


def test_a_claim_of_a_gone_process_is_released_and_sent(django_capture_on_commit_callbacks):
    push = _claimed_edit(_holder_of_a_finished_process(), django_capture_on_commit_callbacks)

    assert services.character_push_release_orphans() == 1

    push.refresh_from_db()
    assert (push.state, push.claimed_by, push.claimed_until) == (PushState.SENT, "", None)
    assert push.character.sync_state == SyncState.SYNCED
    assert remote_character(push.character.remote_id).name == "Claimed edit"


@pytest.mark.parametrize("holder", ["live", "another host"])
def test_a_claim_of_a_live_or_unknown_process_is_kept(holder, django_capture_on_commit_callbacks):
    holder = holders.current() if holder == "live" else "worker-2|4242|1700000000.00"
    push = _claimed_edit(holder, django_capture_on_commit_callbacks)

    assert services.character_push_release_orphans() == 0
    assert services.character_push_sweep(grace=timedelta(0)) == 0

    push.refresh_from_db()
    assert push.state == PushState.PENDING
    assert push.claimed_by == holder
    assert services.character_push_run(push_id=push.pk).state == "skipped"


def test_a_finished_push_leaves_no_claim_behind():
    character = character_create_synced(name="Unclaimed")

    push = CharacterPush.objects.get(character=character)
    assert (push.state, push.claimed_by, push.claimed_until) == (PushState.SENT, "", None)
