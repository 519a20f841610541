from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from conversations.services import message_recover_interrupted


class Command(BaseCommand):
    help = "Marks replies left streaming by a stopped server as interrupted (run before daphne)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = message_recover_interrupted()
        self.stdout.write(f"{count} interrupted repl{'y' if count == 1 else 'ies'} recovered.")
