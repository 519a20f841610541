from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from accounts.models import Profile


@dataclass(frozen=True)
class AdminAccount:
    username: str
    created: bool
    password: str | None  # only when generated here; shown once, never stored in clear


def admin_ensure(*, username: str, password: str | None) -> AdminAccount:
    """Creates the superuser unless it exists. A missing password is generated."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return AdminAccount(username=username, created=False, password=None)
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email="", password=password)
    return AdminAccount(username=username, created=True, password=password if generated else None)


def profile_for(user: AbstractBaseUser) -> Profile:
    """The user's profile; an unsaved empty one when they never filled it in."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def profile_update(*, user: AbstractBaseUser, display_name: str, basic_info: str) -> Profile:
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"display_name": display_name, "basic_info": basic_info}
    )
    return profile
