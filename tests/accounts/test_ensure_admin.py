from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_creates_admin_with_a_generated_password_printed_once(capsys, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    call_command("ensure_admin")
    first = capsys.readouterr().out
    call_command("ensure_admin")
    second = capsys.readouterr().out

    password = first.split("password: ")[1].split()[0]
    assert authenticate(username="admin", password=password).is_superuser
    assert "already exists" in second
    assert password not in second


def test_it_takes_the_admin_account_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-chosen-password")

    call_command("ensure_admin")

    assert "a-long-chosen-password" not in capsys.readouterr().out
    assert authenticate(username="boss", password="a-long-chosen-password").is_staff
