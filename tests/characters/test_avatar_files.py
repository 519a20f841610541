"""Avatars are stored and served as what they are, whatever the uploaded file was called."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from characters.models import Character
from tests.characters.test_admin import _form
from tests.factories import character_create

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def _image(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), "#c46a2d").save(buffer, format=image_format)
    return buffer.getvalue()


def _upload(admin_client, character: Character, name: str, body: bytes):
    upload = SimpleUploadedFile(name, body, "application/octet-stream")
    url = f"/admin/characters/character/{character.pk}/change/"
    return admin_client.post(url, {**_form(), "avatar": upload})


@pytest.mark.parametrize(
    ("name", "image_format", "suffix", "content_type"),
    [
        ("avatar.pdf", "PNG", ".png", "image/png"),
        ("photo.png", "JPEG", ".jpg", "image/jpeg"),
        ("anim.html", "GIF", ".gif", "image/gif"),
        ("picture", "WEBP", ".webp", "image/webp"),
    ],
)
def test_an_avatar_is_stored_and_served_as_its_detected_format(
    admin_client, client, name, image_format, suffix, content_type
):
    character = character_create()

    response = _upload(admin_client, character, name, _image(image_format))

    assert response.status_code == 302
    character.refresh_from_db()
    assert character.avatar.name.startswith("avatars/")
    assert character.avatar.name.endswith(suffix)
    served = client.get(character.avatar.url)
    assert served.status_code == 200
    assert served["Content-Type"] == content_type
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == _image(image_format)


@pytest.mark.parametrize("name", ["avatar.png", "avatar.pdf"])
def test_a_pdf_is_refused_whatever_it_is_called(admin_client, name):
    character = character_create()

    response = _upload(admin_client, character, name, PDF)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["avatar"] == ["Upload a valid image (PNG, JPEG, GIF or WebP)."]
    assert "Upload a valid image (PNG, JPEG, GIF or WebP)." in response.content.decode()
    character.refresh_from_db()
    assert not character.avatar


def test_an_image_of_a_format_avatars_do_not_take_is_refused(admin_client):
    character = character_create()

    response = _upload(admin_client, character, "avatar.png", _image("BMP"))

    errors = response.context["adminform"].form.errors
    assert errors["avatar"] == ["Upload a PNG, JPEG, GIF or WebP image."]
