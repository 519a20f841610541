"""The one door texts pass through on their way to an upstream platform, and back.

Chat content, the transcript, the user's profile, the scenario and memories all go out through
an `Outbound`; the replies come back through its restorer. For a character that masks personal
data (`Character.privacy_mode`), personal data leaves as placeholders from the conversation's
vault and the replies get the real values back before anyone sees or stores them. The vault is
sealed in `ChatSession.masking_vault`; no value ever goes into a log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings

from conversations.models import ChatSession
from privacy.masking import Masked, StreamRestorer, Vault, mask, remask, restore
from privacy.sealing import VaultUnreadable, seal, unseal

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Outbound:
    """Texts of one conversation on their way out; `vault` None sends them as written."""

    vault: Vault | None = None
    _masked: dict[str, Masked] = field(default_factory=dict, repr=False)

    def text(self, text: str) -> str:
        """`text` as it may leave; the same text is masked once however often it is asked."""
        return self.masked(text).text

    def masked(self, text: str) -> Masked:
        if self.vault is None or not text:
            return Masked(text, frozenset())
        if text not in self._masked:
            self._masked[text] = mask(text, self.vault)
        return self._masked[text]

    def reply_text(self, text: str) -> str:
        """A reply's restored text on its way back upstream (a stop keeps it there): the
        values the vault holds go back to their placeholders, nothing new is masked."""
        return text if self.vault is None else remask(text, self.vault)

    def restorer(self) -> StreamRestorer | None:
        return None if self.vault is None else StreamRestorer(self.vault)

    def restore(self, text: str) -> str:
        return text if self.vault is None else restore(text, self.vault)[0]


AS_WRITTEN = Outbound()


def outbound_for(session: ChatSession) -> Outbound:
    """The session's door, with its vault as stored now (read it where the caller's turn is
    serialised, so two turns never add to one vault at once)."""
    if not session.character.masks_personal_data():
        return AS_WRITTEN
    sealed = (
        ChatSession.objects.filter(pk=session.pk).values_list("masking_vault", flat=True).first()
    )
    try:
        values = unseal(sealed or "", _secrets())
    except VaultUnreadable:
        # Sealed under a secret no longer configured: earlier placeholders cannot be restored,
        # new ones start afresh.
        logger.warning(
            "The masking vault of session %s cannot be opened; starting anew", session.pk
        )
        values = {}
    return Outbound(vault=Vault(values))


def outbound_save(*, session_id: int, outbound: Outbound) -> None:
    """Stores the vault when the last texts added values to it."""
    vault = outbound.vault
    if vault is None or not vault.changed:
        return
    ChatSession.objects.filter(pk=session_id).update(masking_vault=seal(vault.values(), _secrets()))
    vault.changed = False


def vault_counts(session: ChatSession) -> dict[str, int]:
    """Values masked in the conversation, per type (for the admin; never the values)."""
    try:
        return Vault(unseal(session.masking_vault, _secrets())).counts()
    except VaultUnreadable:
        return {}


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
