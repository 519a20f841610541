"""The rules of remembering, driven step by step: idempotent runs, deleted and corrected facts,
characters without slots, resets that forget."""

from __future__ import annotations

import pytest

from jobs import services as jobs
from jobs.kinds import memory as memory_kind
from jobs.models import Job
from jobs.steps import Empty, Succeeded
from memories import services
from memories.models import Fact, Progress, Summary
from tests.factories import (
    character_create,
    character_create_synced,
    chat_session_create,
    message_create,
)

pytestmark = pytest.mark.django_db


def _turns(session, *texts: str):
    """Finished turns with short replies; returns the last reply."""
    reply = None
    for text in texts:
        query = message_create(session=session, content=text)
        reply = message_create(session=session, role="assistant", query=query, content="I see.")
    return reply


def _remember(session, *texts: str) -> Job:
    """Makes the turns and runs the memory job they queue, step by step."""
    job = services.memory_after_turn(reply=_turns(session, *texts))
    assert job is not None
    jobs.job_step(job.pk)
    job.refresh_from_db()
    return job


def _values(user, key: str) -> list[str] | None:
    fact = Fact.objects.filter(user=user, key=key).first()
    return fact.values if fact and fact.is_remembered() else None


@pytest.fixture
def session(alice, keeper):
    return chat_session_create(user=alice, character=keeper)


def test_a_step_run_again_after_a_crash_stores_nothing_twice(alice, session):
    reply = _turns(session, "My name is Alice.", "I like tea.", "I work as a nurse.")
    job = services.memory_after_turn(reply=reply)

    first, again = memory_kind.step(job), memory_kind.step(job)

    assert isinstance(first, Succeeded) and isinstance(again, Empty)
    assert Fact.objects.filter(user=alice).count() == 3
    assert Summary.objects.filter(user=alice).count() == 1


def test_storing_the_same_extraction_twice_updates_the_same_rows(alice, keeper, session):
    reply = _turns(session, "My name is Alice.")
    batch = services.memory_batch(
        user_id=alice.pk, character_id=keeper.pk, after=0, through=reply.pk
    )
    found = [services.Extracted("name", ("Alice",))]
    for _ in range(2):
        Progress.objects.filter(user=alice).update(extracted_through=0)
        services.memory_store(
            user_id=alice.pk,
            character_id=keeper.pk,
            after=0,
            through=reply.pk,
            batch=batch,
            facts=found,
            summary=["The user's name is Alice."],
        )
    assert Fact.objects.filter(user=alice).count() == 1
    assert Summary.objects.filter(user=alice).count() == 1


def test_turns_are_counted_per_character_and_only_since_the_last_memory(alice, keeper, session):
    _remember(session, "My name is Alice.", "Hi.", "Hello.")
    assert services.memory_after_turn(reply=_turns(session, "One.", "Two.")) is None
    assert services.memory_after_turn(reply=_turns(session, "Three.")) is not None


def test_memory_every_zero_turns_memory_off(settings, session):
    settings.MEMORY_EVERY_TURNS = 0
    assert services.memory_after_turn(reply=_turns(session, "a", "b", "c", "d")) is None


@pytest.mark.parametrize(
    "masking",
    [{"reply_platform": "dms", "dms_masking": True}, {"privacy_mode": "local"}],
    ids=["by-dms", "here"],
)
def test_masked_chats_are_never_read_for_memories(settings, alice, client, masking):
    settings.MEMORY_EVERY_TURNS = 1
    masked = character_create(name="Wen", **masking)
    clear = character_create(name="Bo", reply_platform="dms")

    for character, remembered in ((masked, False), (clear, True)):
        session = chat_session_create(user=alice, character=character)
        job = services.memory_after_turn(reply=_turns(session, "My phone is 13812345678."))
        assert (job is not None) is remembered
    client.force_login(alice)
    panel = client.get(f"/memories/{masked.pk}/").content.decode()
    assert "masked for privacy" in panel


def test_re_reading_the_messages_of_a_deleted_fact_does_not_bring_it_back(alice, keeper, session):
    _remember(session, "My name is Alice.", "I like tea.", "Hi.")
    services.fact_delete(user=alice, fact_id=Fact.objects.get(user=alice, key="name").pk)

    # The same messages read once more (as if their memory had been lost).
    Progress.objects.filter(user=alice).update(extracted_through=0)
    Summary.objects.all().delete()
    last = session.messages.latest("pk")
    job = jobs.job_create(
        owner=alice, kind="memory", character=keeper, params={"after": 0, "through": last.pk}
    )
    jobs.job_step(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert _values(alice, "name") is None and _values(alice, "hobby") == ["tea"]


def test_a_deleted_fact_comes_back_when_the_user_says_it_again_later(alice, session):
    _remember(session, "My name is Alice.", "Hi.", "Hello.")
    services.fact_delete(user=alice, fact_id=Fact.objects.get(user=alice, key="name").pk)

    _remember(session, "Hi again.", "My name is Alice.", "Bye.")

    fact = Fact.objects.get(user=alice, key="name")
    said_again = session.messages.filter(content="My name is Alice.").latest("pk")
    assert fact.values == ["Alice"] and fact.state == Fact.State.EXTRACTED
    assert fact.source_message_ids == [said_again.pk]


def test_a_correction_stands_until_new_turns_change_it(alice, session):
    _remember(session, "I work as a nurse.", "Hi.", "Hello.")
    job_fact = Fact.objects.get(user=alice, key="job")
    services.fact_correct(user=alice, fact_id=job_fact.pk, values=["surgeon"])

    _remember(session, "I like tea.", "Nice day.", "Indeed.")
    assert _values(alice, "job") == ["surgeon"]

    _remember(session, "I work as a pilot.", "Really.", "Yes.")
    assert _values(alice, "job") == ["pilot"]
    assert Fact.objects.get(user=alice, key="job").state == Fact.State.EXTRACTED


def test_a_character_without_kv_slots_remembers_only_a_summary(sim, alice):
    plain = character_create_synced(name="Tao")
    session = chat_session_create(user=alice, character=plain)
    asked = len(sim.requests("aca-extract-memory-kv"))

    job = _remember(session, "My name is Alice.", "Hi.", "Hello.")

    assert job.status == Job.Status.SUCCEEDED
    assert not Fact.objects.filter(user=alice).exists()
    assert "The user's name is Alice." in Summary.objects.get(user=alice).sentences
    assert len(sim.requests("aca-extract-memory-kv")) == asked


def test_a_reset_that_forgets_also_stops_old_turns_and_running_jobs_from_returning(
    alice, keeper, session
):
    keeper.reset_forgets_memories = True
    keeper.save(update_fields=["reset_forgets_memories"])
    _remember(session, "My name is Alice.", "Hi.", "Hello.")
    in_flight = services.memory_after_turn(reply=_turns(session, "I like tea.", "Hm.", "Ok."))

    services.memory_after_reset(user_id=alice.pk, character=keeper)
    jobs.job_step(in_flight.pk)

    in_flight.refresh_from_db()
    assert in_flight.status == Job.Status.EMPTY
    assert not Fact.objects.filter(user=alice).exists()
    assert services.memory_after_turn(reply=_turns(session, "New.", "Start.")) is None


def test_a_reset_without_forgetting_keeps_everything(alice, keeper, session):
    _remember(session, "My name is Alice.", "Hi.", "Hello.")
    services.memory_after_reset(user_id=alice.pk, character=keeper)
    assert _values(alice, "name") == ["Alice"]
