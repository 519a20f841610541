from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from accounts.services import admin_ensure


class Command(BaseCommand):
    help = (
        "Creates the admin account once: DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD "
        "when set, otherwise 'admin' with a generated password printed here only."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        account = admin_ensure(
            username=os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin",
            password=os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None,
        )
        if not account.created:
            self.stdout.write(f"Admin account '{account.username}' already exists.")
        elif account.password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created admin account '{account.username}' with password: "
                    f"{account.password}\nThis password is shown only once."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Created admin account '{account.username}'."))
