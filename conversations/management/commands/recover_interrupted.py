from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from conversations.services import message_end_abandoned


class Command(BaseCommand):
    help = "Ends replies left streaming by a stopped server (their lease ran out) as interrupted."

    def handle(self, *args: Any, **options: Any) -> None:
        count = message_end_abandoned()
        self.stdout.write(f"{count} interrupted repl{'y' if count == 1 else 'ies'} recovered.")
