"""Memory over real chats: turns through the socket, extraction and chat on the simulator."""

from __future__ import annotations

import pytest

from jobs.models import Job
from memories.models import Fact, Summary
from tests.memories.conftest import (
    EVERY,
    chat,
    last_chat_memory,
    memory_job_ended,
    memory_jobs,
    tags_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

INTRODUCTION = ("My name is Alice Wong.", "I like tea.", "I work as a nurse.")


def _remembered(alice, alice_keeps) -> list:
    said = chat(alice, alice_keeps, *INTRODUCTION)
    job = memory_job_ended(alice)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return said


def test_no_memory_job_runs_before_the_users_nth_turn(alice, alice_keeps):
    chat(alice, alice_keeps, *INTRODUCTION[: EVERY - 1])
    assert memory_jobs(alice) == []


def test_after_n_user_turns_a_job_remembers_the_facts_and_a_summary_with_their_messages(
    sim, alice, keeper, alice_keeps
):
    said = _remembered(alice, alice_keeps)

    facts = {f.key: f for f in Fact.objects.filter(user=alice, character=keeper)}
    assert {key: f.values for key, f in facts.items()} == {
        "name": ["Alice Wong"],
        "hobby": ["tea"],
        "job": ["nurse"],
    }
    assert facts["name"].source_message_ids == [said[0].pk]
    assert facts["hobby"].source_message_ids == [said[1].pk]
    summary = Summary.objects.get(user=alice, character=keeper)
    assert "The user's name is Alice Wong." in summary.sentences
    assert {m.pk for m in said} <= set(summary.source_message_ids)
    # Xingchen was asked with the character's own slots.
    slots = sim.requests("aca-extract-memory-kv")[-1]["json"]["kvMemoryConfigs"]
    assert [s["memoryText"] for s in slots] == ["name", "hobby", "job"]


def test_the_next_turn_carries_the_facts_and_the_latest_summary_upstream(
    sim, alice, keeper, alice_keeps
):
    _remembered(alice, alice_keeps)
    chat(alice, alice_keeps, "What do you know about me?")

    memory = last_chat_memory(sim)
    assert tags_of(memory) == {"name": ["Alice Wong"], "hobby": ["tea"], "job": ["nurse"]}
    assert all(tag["role"] == "user" for tag in memory["tags"])
    latest = Summary.objects.get(user=alice, character=keeper)
    assert memory["summaries"] == latest.sentences


def test_a_deleted_fact_is_not_sent_again(sim, alice, alice_client, alice_keeps):
    _remembered(alice, alice_keeps)
    hobby = Fact.objects.get(user=alice, key="hobby")
    assert alice_client.post(f"/memories/facts/{hobby.pk}/delete/").status_code == 302

    chat(alice, alice_keeps, "Good evening.")
    assert set(tags_of(last_chat_memory(sim))) == {"name", "job"}


def test_a_real_worker_remembers_the_facts_and_a_deleted_one_is_not_sent_again(
    sim, alice, alice_client, keeper, alice_keeps, worker
):
    said = chat(alice, alice_keeps, *INTRODUCTION)
    job = memory_job_ended(alice, worker)
    assert job.status == Job.Status.SUCCEEDED, job.error
    facts = {f.key: f for f in Fact.objects.filter(user=alice, character=keeper)}
    assert {key: f.values for key, f in facts.items()} == {
        "name": ["Alice Wong"],
        "hobby": ["tea"],
        "job": ["nurse"],
    }
    assert facts["job"].source_message_ids == [said[2].pk]

    chat(alice, alice_keeps, "What do you know about me?")
    assert set(tags_of(last_chat_memory(sim))) == {"name", "hobby", "job"}
    alice_client.post(f"/memories/facts/{facts['hobby'].pk}/delete/")
    chat(alice, alice_keeps, "Good evening.")
    assert tags_of(last_chat_memory(sim)) == {"name": ["Alice Wong"], "job": ["nurse"]}


def test_a_corrected_fact_is_sent_as_corrected(sim, alice, alice_client, alice_keeps):
    _remembered(alice, alice_keeps)
    job = Fact.objects.get(user=alice, key="job")
    alice_client.post(f"/memories/facts/{job.pk}/", {"values": "surgeon\nteacher"})

    chat(alice, alice_keeps, "Good evening.")
    assert tags_of(last_chat_memory(sim))["job"] == ["surgeon", "teacher"]


def test_the_users_own_correction_survives_later_turns_that_do_not_mention_it(
    sim, alice, alice_client, alice_keeps
):
    _remembered(alice, alice_keeps)
    name = Fact.objects.get(user=alice, key="name")
    alice_client.post(f"/memories/facts/{name.pk}/", {"values": "Ally"})

    chat(alice, alice_keeps, "I like hiking.", "Lovely weather.", "See you.")
    assert len(memory_jobs(alice)) == 2 and memory_job_ended(alice).status == "succeeded"
    chat(alice, alice_keeps, "Hello again.")
    tags = tags_of(last_chat_memory(sim))
    assert tags["name"] == ["Ally"] and tags["hobby"] == ["hiking"]


def test_reset_forgets_the_memories_when_the_character_says_so(
    alice, alice_client, keeper, alice_keeps
):
    keeper.reset_forgets_memories = True
    keeper.save(update_fields=["reset_forgets_memories"])
    _remembered(alice, alice_keeps)

    alice_client.post(f"/chat/{alice_keeps.pk}/reset/")
    assert not Fact.objects.filter(user=alice).exists()
    assert not Summary.objects.filter(user=alice).exists()
    page = alice_client.get(f"/memories/{keeper.pk}/").content.decode()
    assert "Alice Wong" not in page and "Nothing yet" in page


def test_reset_keeps_the_memories_when_the_character_does_not_forget(
    sim, alice, alice_client, keeper, alice_keeps
):
    _remembered(alice, alice_keeps)

    alice_client.post(f"/chat/{alice_keeps.pk}/reset/")
    fresh = alice.chat_sessions.get(status="active")
    chat(alice, fresh, "Hi again.")
    assert tags_of(last_chat_memory(sim))["name"] == ["Alice Wong"]
