"""Character descriptions as jobs: staff ask for one (admin action, admin page, or the button on
the character page), Xingchen (the simulator) writes it in the job's step, and the result is
offered beside the current basic information to accept (checked and pushed) or discard."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from docx import Document

from characters import services
from characters.models import Character, CharacterPush
from jobs.kinds import describe
from jobs.models import Job
from jobs.storage import private_storage
from tests.characters.helpers import remote_character
from tests.conftest import password
from tests.factories import character_create_synced

pytestmark = pytest.mark.django_db

CHANGELIST_URL = "/admin/characters/character/"
AUTO_DESC = "aca-char-auto-desc"


def persona(marker: str) -> str:
    return f"A cheerful baker from Lyon who hums while kneading. ({marker})"


def sent_with(sim, marker: str) -> list[dict]:
    """Auto-desc calls the simulator received whose text or file name carries `marker`."""
    return [
        entry
        for entry in sim.requests(AUTO_DESC)
        if marker in str((entry["json"] or {}).get("text"))
        or marker in str((entry["json"] or {}).get("fileName"))
    ]


def job_page(job: Job) -> str:
    return reverse("admin:characters_character_describe_job", args=[job.character_id, job.pk])


def described(character: Character, user, capture) -> Job:
    """A description job of `character`'s persona, run to its end."""
    with capture(execute=True):
        job = services.character_describe_start(character=character, user=user)
    job.refresh_from_db()
    return job


@pytest.fixture
def baker(sim) -> Character:
    return character_create_synced(name="Lea", basic_information=persona(uuid.uuid4().hex))


def test_the_admin_action_queues_a_job_and_xingchen_is_called_by_its_step(
    admin_client, admin_user, baker, sim, django_capture_on_commit_callbacks
):
    marker = baker.basic_information.rsplit("(", 1)[1].rstrip(")")

    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(
            CHANGELIST_URL, {"action": "generate_description", "_selected_action": [baker.pk]}
        )

    job = Job.objects.get(kind=Job.Kind.DESCRIBE, character=baker)
    assert response.status_code == 302
    assert response["Location"] == job_page(job)
    assert (job.owner, job.status) == (admin_user, Job.Status.QUEUED)
    assert sent_with(sim, marker) == []  # the request did not wait on Xingchen

    for run in queued:
        run()  # what the broker hands the worker once the request committed

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert "【基本信息】" in job.result["description"]
    assert len(sent_with(sim, marker)) == 1


def test_the_result_is_shown_beside_the_basic_information_on_its_page_and_card(
    admin_client, admin_user, baker, django_capture_on_commit_callbacks
):
    job = described(baker, admin_user, django_capture_on_commit_callbacks)

    for url in (job_page(job), reverse("jobs:card", args=[job.pk])):
        page = admin_client.get(url).content.decode()
        assert "Current basic information" in page
        assert baker.basic_information in page
        assert "Generated description" in page
        assert "【基本信息】" in page
        assert "Accept as basic information" in page and "Discard" in page


def test_accepting_saves_the_edited_description_and_pushes_it(
    admin_client, admin_user, baker, django_capture_on_commit_callbacks
):
    job = described(baker, admin_user, django_capture_on_commit_callbacks)
    text = job.result["description"] + "\nShe bakes at dawn."

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            job_page(job), {"decision": "accept", "basic_information": text}, follow=True
        )

    assert "The description is now the basic information." in response.content.decode()
    baker.refresh_from_db()
    assert baker.basic_information == text
    assert remote_character(baker.remote_id).basic_information == text
    job.refresh_from_db()
    assert job.result["decision"] == "accepted"
    assert "Accepted as the basic information" in admin_client.get(job_page(job)).content.decode()


def test_accepting_an_empty_text_shows_the_error_and_saves_nothing(
    admin_client, admin_user, baker, django_capture_on_commit_callbacks
):
    job = described(baker, admin_user, django_capture_on_commit_callbacks)
    pushes = CharacterPush.objects.count()

    response = admin_client.post(job_page(job), {"decision": "accept", "basic_information": " "})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    baker.refresh_from_db()
    assert baker.basic_information.startswith("A cheerful baker")
    assert CharacterPush.objects.count() == pushes
    job.refresh_from_db()
    assert "decision" not in job.result


def test_discarding_leaves_the_character_unchanged(
    admin_client, admin_user, baker, django_capture_on_commit_callbacks
):
    job = described(baker, admin_user, django_capture_on_commit_callbacks)
    before = (baker.basic_information, baker.revision)

    response = admin_client.post(job_page(job), {"decision": "discard"}, follow=True)

    assert "The description was discarded; nothing changed." in response.content.decode()
    baker.refresh_from_db()
    assert (baker.basic_information, baker.revision) == before
    job.refresh_from_db()
    assert job.result["decision"] == "discarded"
    # A decided description cannot be accepted afterwards.
    again = admin_client.post(
        job_page(job), {"decision": "accept", "basic_information": job.result["description"]}
    )
    assert "already discarded" in again.content.decode()
    baker.refresh_from_db()
    assert baker.basic_information == before[0]


def test_a_basic_information_changed_meanwhile_is_only_replaced_once_confirmed(
    admin_client, admin_user, baker, django_capture_on_commit_callbacks
):
    job = described(baker, admin_user, django_capture_on_commit_callbacks)
    baker.basic_information = "Rewritten by a colleague while the job ran."
    services.character_update(character=baker)
    accept = {"decision": "accept", "basic_information": job.result["description"]}

    page = admin_client.get(job_page(job)).content.decode()
    assert "The basic information changed after this description was asked for." in page
    refused = admin_client.post(job_page(job), accept)

    assert refused.status_code == 200
    assert "Confirm to replace it anyway." in refused.content.decode()
    baker.refresh_from_db()
    assert baker.basic_information == "Rewritten by a colleague while the job ran."

    admin_client.post(job_page(job), {**accept, "confirm": "on"})
    baker.refresh_from_db()
    assert baker.basic_information == job.result["description"]


def test_an_upstream_refusal_fails_the_job_readably_and_retry_succeeds(
    admin_client, admin_user, baker, sim, django_capture_on_commit_callbacks
):
    sim.inject(AUTO_DESC, status=400, count=1)

    job = described(baker, admin_user, django_capture_on_commit_callbacks)

    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Xingchen rejected the request")
    assert job.error.endswith("(HTTP 400): Injected failure.")
    card = admin_client.get(reverse("jobs:card", args=[job.pk])).content.decode()
    assert job.error in card and "Try again" in card

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("jobs:retry", args=[job.pk]))

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert "【基本信息】" in job.result["description"]


def test_a_step_run_again_after_its_result_was_stored_does_not_call_xingchen(
    admin_user, baker, sim, django_capture_on_commit_callbacks
):
    job = described(baker, admin_user, django_capture_on_commit_callbacks)
    calls = {r["requestId"] for r in sim.requests(AUTO_DESC)}

    outcome = describe.step(job)

    assert outcome.result == job.result
    assert {r["requestId"] for r in sim.requests(AUTO_DESC)} <= calls


def test_pasted_text_is_what_xingchen_describes(admin_client, baker, sim, settings):
    marker = uuid.uuid4().hex
    text = f"Mara keeps the lighthouse on a northern island. {marker}"

    response = admin_client.post(
        reverse("admin:characters_character_describe", args=[baker.pk]), {"text": text}
    )

    job = Job.objects.get(kind=Job.Kind.DESCRIBE, character=baker)
    assert response["Location"] == job_page(job)
    assert job.params["source"] == "text"
    describe.step(job)
    assert [entry["json"]["type"] for entry in sent_with(sim, marker)] == ["text"]


def test_the_staff_button_on_the_character_page_starts_a_job_and_shows_its_card(
    admin_client, baker, sim
):
    page = admin_client.get(reverse("characters:detail", args=[baker.pk])).content.decode()
    assert "Write a description" in page

    response = admin_client.post(
        reverse("characters:describe", args=[baker.pk]), HTTP_HX_REQUEST="true"
    )

    job = Job.objects.get(kind=Job.Kind.DESCRIBE, character=baker)
    card = response.content.decode()
    assert response.status_code == 200
    assert f'id="job-{job.pk}"' in card
    assert f'hx-get="{reverse("jobs:card", args=[job.pk])}"' in card  # it follows its progress


def test_people_who_are_not_staff_get_nothing_of_it(
    client, bob, staff, admin_user, baker, django_capture_on_commit_callbacks
):
    job = described(baker, admin_user, django_capture_on_commit_callbacks)
    detail = reverse("characters:detail", args=[baker.pk])
    accept = {"decision": "accept", "basic_information": "Bob's version."}

    client.login(username=bob.username, password=password())
    assert "Write a description" not in client.get(detail).content.decode()
    assert client.post(reverse("characters:describe", args=[baker.pk])).status_code == 404
    assert client.get(reverse("jobs:card", args=[job.pk])).status_code == 404
    assert client.post(job_page(job), accept).status_code == 302  # to the admin's login
    assert (
        client.post(
            CHANGELIST_URL, {"action": "generate_description", "_selected_action": [baker.pk]}
        ).status_code
        == 302
    )

    # Staff without the right to edit characters are refused too.
    client.login(username=staff.username, password=password())
    assert client.post(reverse("characters:describe", args=[baker.pk])).status_code == 404
    assert client.post(job_page(job), accept).status_code == 403
    describe_page = reverse("admin:characters_character_describe", args=[baker.pk])
    assert client.post(describe_page, {"text": "x"}).status_code == 403

    assert Job.objects.filter(kind=Job.Kind.DESCRIBE).count() == 1
    baker.refresh_from_db()
    assert baker.basic_information != "Bob's version."


# --- files -------------------------------------------------------------------------------------


def docx_bytes(*paragraphs: str) -> bytes:
    document = Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(line: str) -> bytes:
    """A one-page PDF whose text is `line` (ASCII), built by hand: offsets must be exact."""
    stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.mark.django_db(transaction=True)
def test_a_docx_file_is_handed_to_xingchen_by_url_and_described(
    admin_client, sim, live_server, settings
):
    settings.PUBLIC_BASE_URL = live_server.url  # where Xingchen fetches the file from
    baker = character_create_synced(name="Lea", basic_information=persona("docx"))
    marker = f"notes-{uuid.uuid4().hex[:8]}"
    upload = SimpleUploadedFile(
        f"{marker}.docx", docx_bytes("Mara keeps the lighthouse on a northern island.")
    )

    admin_client.post(
        reverse("admin:characters_character_describe", args=[baker.pk]), {"file": upload}
    )

    job = Job.objects.get(kind=Job.Kind.DESCRIBE, character=baker)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "Mara keeps the lighthouse" in job.result["description"]
    [sent] = sent_with(sim, marker)
    assert sent["json"]["type"] == "file"
    assert sent["json"]["fileUrl"].startswith(live_server.url)
    # Once the description is written, the upload is gone and no longer handed out.
    assert Client().get(sent["json"]["fileUrl"]).status_code == 404
    assert not private_storage.exists(job.params["file"])
    page = admin_client.get(job_page(job)).content.decode()
    assert f"From the file {marker}.docx" in page


def test_a_pdf_is_read_here_and_sent_as_text(admin_client, baker, sim):
    marker = uuid.uuid4().hex[:12]
    upload = SimpleUploadedFile(
        "profile.pdf", pdf_bytes(f"Mara keeps the lighthouse. {marker}"), "application/pdf"
    )

    admin_client.post(
        reverse("admin:characters_character_describe", args=[baker.pk]), {"file": upload}
    )
    job = Job.objects.get(kind=Job.Kind.DESCRIBE, character=baker)
    outcome = describe.step(job)

    assert "Mara keeps the lighthouse" in outcome.result["description"]
    assert [entry["json"]["type"] for entry in sent_with(sim, marker)] == ["text"]


def test_files_of_other_kinds_are_refused_on_the_form(admin_client, baker):
    upload = SimpleUploadedFile("face.png", b"\x89PNG\r\n", "image/png")

    response = admin_client.post(
        reverse("admin:characters_character_describe", args=[baker.pk]), {"file": upload}
    )

    assert "Upload a .txt, .md, .docx or .pdf file." in response.content.decode()
    assert not Job.objects.filter(kind=Job.Kind.DESCRIBE).exists()
