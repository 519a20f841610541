"""Character business logic: local edits with their outbox, pushes, pulls and conflicts.

Every local change is saved together with its pending push in one transaction; the push itself
runs later in a Celery task (or on demand from the admin) and never loses an edit: a refused or
failed push stays open until it lands.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from characters import sync, tasks
from characters.models import (
    OPEN_PUSH_STATES,
    Character,
    CharacterPush,
    PushOperation,
    PushState,
    SyncState,
)
from characters.platform_settings import PLATFORM_FIELDS
from jobs.models import Job
from jobs.services import JobNotFound, job_create, job_for_user
from jobs.storage import private_storage
from platforms.xingchen.errors import XingchenError
from platforms.xingchen.types import Character as RemoteCharacter
from project import holders
from project.saved_text import SavedSentences

logger = logging.getLogger(__name__)

# Fields an editor may change; everything else on the row belongs to the sync machinery.
LOCAL_FIELDS = (
    *sync.EDITABLE_FIELDS,
    "avatar",
    "model_name",
    "temperature",
    "top_p",
    "top_k",
    "max_length",
    "function_list",
    "reset_forgets_memories",  # local only: never sent to Xingchen
    "privacy_mode",  # local only: masking happens here, before anything is sent
    *PLATFORM_FIELDS,  # local only: which upstream writes the replies, and its settings
)
_BOOKKEEPING_FIELDS = (
    "remote_id",
    "sync_state",
    "pushed_revision",
    "synced_at",
    "last_sync_error",
    "avatar_synced_name",
    "updated_at",
)
_SYNC_STATE_OF = {
    PushState.PENDING: SyncState.PENDING,
    PushState.WAITING: SyncState.WAITING,
    PushState.FAILED: SyncState.FAILED,
}
MAX_AUTO_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 600.0
FAILED_RETRY_INTERVAL = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=5)
# Failure kinds after which a create may have been carried out although no answer came back.
_CREATE_MAY_HAVE_LANDED_KINDS = frozenset({"timeout", "network", "cut", "malformed"})

# A push's outcome and its error are saved in English; `SYNC_MESSAGES.shown` says them in the
# reader's language. These are the sentences with values they are made from.
_UNAVAILABLE = gettext_noop("Xingchen is unavailable (%(error)s); trying again automatically.")
_STAYED_UNAVAILABLE = gettext_noop(
    "Xingchen stayed unavailable after %(attempts)s attempts (%(error)s); trying again every hour."
)
_REFUSED = gettext_noop("Xingchen refused the change: %(error)s.")
_UNDER_REVIEW = gettext_noop(
    "Xingchen refused the update: the character is under review (%(status)s). "
    "The edit is kept and will be sent once the review is over."
)
SYNC_MESSAGES = SavedSentences([_UNAVAILABLE, _STAYED_UNAVAILABLE, _REFUSED, _UNDER_REVIEW])
_ALREADY_DECIDED = {
    "accepted": gettext_lazy("This description was already accepted."),
    "discarded": gettext_lazy("This description was already discarded."),
}
_DECIDED_NOTES = {  # a job's note, translated where the job is shown
    "accepted": gettext_noop("Description accepted"),
    "discarded": gettext_noop("Description discarded"),
}


class UnconfirmedCreate(TypedDict):
    """What a create that may have landed sent: the revision and avatar it carried, and the
    fields that recognise the character it made (with its creation time)."""

    revision: int
    avatar_name: str
    name: str
    basic_information: str
    introduction: str


@dataclass(frozen=True)
class PushOutcome:
    """What one push attempt did. `retry_in` is set when the task should try again later."""

    state: Literal["sent", "retry", "waiting", "failed", "skipped"]
    message: str
    retry_in: float | None = None


@dataclass
class PullReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicted: int = 0
    skipped: int = 0
    deleted: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        text = _(
            "%(created)s new, %(updated)s updated, %(unchanged)s unchanged, "
            "%(conflicted)s in conflict, %(skipped)s skipped, %(deleted)s deleted on Xingchen"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "conflicted": self.conflicted,
            "skipped": self.skipped,
            "deleted": self.deleted,
        }
        if not self.errors:
            return text
        failed = _("%(count)s failed: %(error)s") % {
            "count": len(self.errors),
            "error": self.errors[0],
        }
        return f"{text}; {failed}"


# --- local edits -------------------------------------------------------------------------------


def character_create(*, character: Character) -> Character:
    """Saves a new character and queues its creation on Xingchen.

    Raises ValidationError when the editor's fields break the change form's rules.
    """
    _validate_edit(character)
    with transaction.atomic():
        character.sync_state = SyncState.PENDING
        character.revision, character.pushed_revision = 1, 0
        character.save()
        _outbox_record(character=character)
    return character


def character_update(*, character: Character) -> Character:
    """Saves the editor's fields of `character` and queues the update on Xingchen.

    Only LOCAL_FIELDS are written, so an edit never overwrites what a push or pull stored
    meanwhile (the remote id above all). Raises ValidationError when they break the change
    form's rules: nothing is saved, and no push that could only fail is queued.
    """
    _validate_edit(character)
    with transaction.atomic():
        current = _lock(character.pk)
        if current.is_deleted:
            raise ValueError("A deleted character cannot be edited.")
        character.revision = current.revision + 1
        keep_conflict = current.sync_state == SyncState.CONFLICTED
        character.sync_state = SyncState.CONFLICTED if keep_conflict else SyncState.PENDING
        character.save(update_fields=[*LOCAL_FIELDS, "revision", "sync_state", "updated_at"])
        _copy_sync_fields(source=_lock(character.pk), target=character)
        _outbox_record(character=character)
    return character


def character_delete(*, character: Character) -> None:
    """Hides the character at once and deletes it on Xingchen through the outbox."""
    with transaction.atomic():
        current = _lock(character.pk)
        if current.is_deleted:
            return
        current.is_deleted = True
        current.revision += 1
        fields = ["is_deleted", "revision", "sync_state", "updated_at"]
        if _needs_remote_delete(current):
            current.sync_state = SyncState.DELETING
            current.save(update_fields=fields)
            _outbox_record(character=current)
        else:
            current.sync_state = SyncState.DELETED
            current.save(update_fields=fields)
            _open_pushes(current).update(state=PushState.CANCELLED, updated_at=timezone.now())
    character.is_deleted, character.sync_state = True, current.sync_state


def _needs_remote_delete(character: Character) -> bool:
    # A create may be in flight, or may have landed unanswered: the delete must then follow it,
    # or a stray copy stays upstream.
    maybe_created = Q(claimed_until__gt=timezone.now()) | Q(unconfirmed_create_at__isnull=False)
    in_flight = _open_pushes(character).filter(maybe_created).exists()
    return (bool(character.remote_id) and character.manageable) or in_flight


def character_apply_description(*, character: Character, text: str) -> Character:
    """Adopts a generated description as the character's basic information (validated like
    any edit: raises ValidationError and saves nothing when the text breaks the rules)."""
    character.basic_information = text.strip()
    return character_update(character=character)


def _validate_edit(character: Character) -> None:
    """The change form's checks on the editor's fields, whoever changes them."""
    exclude = [f.name for f in Character._meta.concrete_fields if f.name not in LOCAL_FIELDS]
    character.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def _lock(pk: int) -> Character:
    return Character.objects.select_for_update().get(pk=pk)


def _copy_sync_fields(*, source: Character, target: Character) -> None:
    for name in (*sync.REMOTE_FIELDS, *_BOOKKEEPING_FIELDS, "revision", "is_deleted"):
        setattr(target, name, getattr(source, name))


def _open_pushes(character: Character) -> QuerySet[CharacterPush]:
    return CharacterPush.objects.filter(character=character, state__in=OPEN_PUSH_STATES)


def _intended_operation(character: Character) -> str:
    if character.is_deleted:
        return PushOperation.DELETE
    return PushOperation.UPDATE if character.remote_id else PushOperation.CREATE


def _outbox_record(*, character: Character) -> CharacterPush:
    """Opens a push for `character`, or folds this change into the one already open."""
    now = timezone.now()
    push = _open_pushes(character).select_for_update().first()
    operation = _intended_operation(character)
    if push is None:
        push = CharacterPush.objects.create(
            character=character, operation=operation, next_attempt_at=now
        )
    else:
        push.operation, push.state, push.next_attempt_at = operation, PushState.PENDING, now
        push.save(update_fields=["operation", "state", "next_attempt_at", "updated_at"])
    if character.sync_state != SyncState.CONFLICTED:
        tasks.character_push.delay_on_commit(push.pk)
    return push


# --- pushing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    push: CharacterPush
    character: Character
    revision: int
    avatar_name: str
    started_at: datetime


@dataclass(frozen=True)
class _Sent:
    """What Xingchen holds after a push: the id, and the local revision and avatar it carries."""

    remote_id: str | None
    revision: int
    avatar_name: str


def character_push_run(*, push_id: int) -> PushOutcome:
    """Sends the character's latest state to Xingchen for one open push (idempotent)."""
    claim = _push_claim(push_id)
    if isinstance(claim, PushOutcome):
        return claim
    try:
        sent, remote = _push_call(claim)
    except TimeoutError as exc:
        # The sync bridge gave up before the client did: to the outbox, Xingchen did not answer.
        return _push_failed(claim, XingchenError(str(exc), kind="timeout"))
    except XingchenError as exc:
        return _push_failed(claim, exc)
    return _push_succeeded(claim, sent=sent, remote=remote)


def character_push_now(*, character: Character) -> PushOutcome:
    """Pushes at once (admin "push now"), opening a push if none is open."""
    with transaction.atomic():
        current = _lock(character.pk)
        push = _open_pushes(current).first()
        if push is None:
            push = CharacterPush.objects.create(
                character=current, operation=_intended_operation(current)
            )
        elif current.sync_state != SyncState.CONFLICTED:
            push.state = PushState.PENDING
            push.save(update_fields=["state", "updated_at"])
    return character_push_run(push_id=push.pk)


def character_push_retry(*, push: CharacterPush) -> bool:
    """Re-arms an open push for an immediate attempt; False if it is no longer open."""
    with transaction.atomic():
        current = CharacterPush.objects.select_for_update().filter(pk=push.pk).first()
        if current is None or not current.is_open():
            return False
        current.state, current.next_attempt_at = PushState.PENDING, timezone.now()
        current.save(update_fields=["state", "next_attempt_at", "updated_at"])
        tasks.character_push.delay_on_commit(current.pk)
    return True


def character_push_sweep(*, grace: timedelta = timedelta(minutes=2)) -> int:
    """Re-queues open pushes whose retry is overdue (a lost task, a restarted worker)."""
    character_push_release_orphans()
    now = timezone.now()
    due = CharacterPush.objects.filter(
        state__in=[PushState.PENDING, PushState.FAILED], next_attempt_at__lte=now - grace
    ).exclude(claimed_until__gt=now)
    ids = list(due.values_list("pk", flat=True))
    for push_id in ids:
        tasks.character_push.delay(push_id)
    return len(ids)


def character_push_release_orphans() -> int:
    """Releases the claims of processes on this host that are gone and queues their pushes.

    A worker killed while sending (SIGKILL, OOM) takes its broker message with it, and its claim
    would hold the push for the whole lease. Run at worker start-up and by the sweep: a claim
    is released only when its holder provably no longer runs, so a live sender (another worker,
    a server process pushing from the admin, any process on another host) keeps its claim.
    """
    now = timezone.now()
    open_pushes = CharacterPush.objects.filter(state__in=OPEN_PUSH_STATES)
    released = holders.release_dead_claims(open_pushes, next_attempt_at=now, updated_at=now)
    for push_id, holder in released:
        logger.info("Push %s was held by %s, which is gone: sending it again", push_id, holder)
        tasks.character_push.delay(push_id)
    return len(released)


def _push_claim(push_id: int) -> _Claim | PushOutcome:
    now = timezone.now()
    with transaction.atomic():
        push = CharacterPush.objects.select_for_update().filter(pk=push_id).first()
        if push is None or not push.is_open():
            return PushOutcome("skipped", gettext_noop("Nothing left to push."))
        if push.claimed_until and push.claimed_until > now:
            return PushOutcome("skipped", gettext_noop("This change is being sent right now."))
        character = _lock(push.character_id)
        refusal = _push_refusal(character)
        if refusal is not None:
            state, message = refusal
            push.next_attempt_at = None
            _push_close(push, state=state, error=message)
            _character_mark(character, state=_SYNC_STATE_OF[state], error=message)
            return PushOutcome("waiting" if state == PushState.WAITING else "failed", message)
        push.operation = _intended_operation(character)
        push.attempts += 1
        push.claimed_until, push.claimed_by = now + CLAIM_LEASE, holders.current()
        push.save(
            update_fields=["operation", "attempts", "claimed_until", "claimed_by", "updated_at"]
        )
    avatar_name = character.avatar.name if character.avatar else ""
    return _Claim(push, character, character.revision, avatar_name, started_at=now)


def _push_refusal(character: Character) -> tuple[PushState, str] | None:
    """Why this push must not be sent now, decided locally before calling Xingchen."""
    if character.sync_state == SyncState.CONFLICTED:
        message = gettext_noop(
            "This character was also changed on Xingchen. Choose which version to keep "
            "before the edit is sent."
        )
        return PushState.WAITING, message
    if not character.manageable and not character.is_deleted:
        message = gettext_noop(
            "This character belongs to another Xingchen account and cannot be changed here."
        )
        return PushState.FAILED, message
    return None


def _push_call(claim: _Claim) -> tuple[_Sent, RemoteCharacter | None]:
    character = claim.character
    if character.is_deleted:
        return _push_delete(claim), None
    if character.remote_id:
        sync.remote_update(character)
        sent = _Sent(character.remote_id, claim.revision, claim.avatar_name)
    else:
        sent = _push_create(claim)
    return sent, _details_or_none(sent.remote_id) if sent.remote_id else None


def _push_delete(claim: _Claim) -> _Sent:
    character = claim.character
    if not character.remote_id:
        # Deleted before an unanswered create was confirmed: delete what it made, if anything.
        found = _find_unconfirmed_create(claim.push)
        character.remote_id = found.remote_id if found else None
    if character.remote_id and character.manageable:
        sync.remote_delete(character)
    return _Sent(character.remote_id, claim.revision, claim.avatar_name)


def _push_create(claim: _Claim) -> _Sent:
    """Creates the character, unless an earlier create whose answer was lost already did."""
    adopted = _find_unconfirmed_create(claim.push)
    if adopted is not None:
        logger.info("Adopting character %s made by an unanswered create", adopted.remote_id)
        return adopted
    # Recorded before sending: if this process dies mid-call, the next attempt looks first.
    _record_unconfirmed_create(claim)
    try:
        remote_id = sync.remote_create(claim.character)
    except (XingchenError, TimeoutError) as exc:
        if not _create_may_have_landed(exc):
            _forget_unconfirmed_create(claim)
        raise
    return _Sent(remote_id, claim.revision, claim.avatar_name)


def _create_may_have_landed(exc: XingchenError | TimeoutError) -> bool:
    # A connect failure also reads as "network": the lookup it causes is cheap and harmless.
    if isinstance(exc, TimeoutError):
        return True
    return exc.kind in _CREATE_MAY_HAVE_LANDED_KINDS or (exc.status or 0) >= 500


def _record_unconfirmed_create(claim: _Claim) -> None:
    character = claim.character
    record: UnconfirmedCreate = {
        "revision": claim.revision,
        "avatar_name": claim.avatar_name,
        "name": character.name,
        "basic_information": character.basic_information,
        "introduction": character.introduction,
    }
    CharacterPush.objects.filter(pk=claim.push.pk).update(
        unconfirmed_create_at=claim.started_at,
        unconfirmed_create=record,
        updated_at=timezone.now(),
    )


def _forget_unconfirmed_create(claim: _Claim) -> None:
    CharacterPush.objects.filter(pk=claim.push.pk).update(
        unconfirmed_create_at=None, unconfirmed_create=None, updated_at=timezone.now()
    )


def _find_unconfirmed_create(push: CharacterPush) -> _Sent | None:
    """The character the push's unanswered create made, or None if Xingchen has none.

    A match has the sent name, basic information and introduction, was created at or after the
    create was sent (less the allowed clock skew), and is not already linked to a local row.
    """
    record, sent_at = push.unconfirmed_create, push.unconfirmed_create_at
    if record is None or sent_at is None:
        return None
    earliest = sent_at - timedelta(seconds=settings.XINGCHEN_CLOCK_SKEW)
    for listed in sync.remote_search("my", name=record["name"]):
        if listed.name != record["name"] or _created_before(listed, earliest):
            continue
        if Character.objects.filter(remote_id=listed.character_id).exists():
            continue
        remote = sync.remote_details(listed.character_id)
        if _made_by(remote, record, earliest):
            return _Sent(remote.character_id, record["revision"], record["avatar_name"])
    return None


def _created_before(remote: RemoteCharacter, moment: datetime) -> bool:
    return remote.created_at is not None and remote.created_at < moment


def _made_by(remote: RemoteCharacter, record: UnconfirmedCreate, earliest: datetime) -> bool:
    # Without a creation time the match cannot be told from an older namesake: never adopt it.
    if remote.created_at is None or remote.created_at < earliest:
        return False
    values = sync.remote_editable_values(remote)
    return (
        values["name"] == record["name"]
        and values["basic_information"] == record["basic_information"]
        and values["introduction"] == record["introduction"]
    )


def _details_or_none(remote_id: str) -> RemoteCharacter | None:
    # The change is already accepted; details only refresh statuses, so a failure here is fine.
    try:
        return sync.remote_details(remote_id)
    except XingchenError as exc:
        logger.warning("Could not refresh character %s after a push: %s", remote_id, exc)
        return None


def _push_succeeded(claim: _Claim, *, sent: _Sent, remote: RemoteCharacter | None) -> PushOutcome:
    now = timezone.now()
    with transaction.atomic():
        push = CharacterPush.objects.select_for_update().get(pk=claim.push.pk)
        character = _lock(claim.character.pk)
        character.remote_id = sent.remote_id
        character.pushed_revision = max(character.pushed_revision, sent.revision)
        if sent.avatar_name:
            character.avatar_synced_name = sent.avatar_name
        if remote is not None:
            sync.apply_remote_state(character, remote)
        # An adopted create may carry an older revision: the newer one is then sent as an edit.
        edited_meanwhile = character.revision > sent.revision
        if edited_meanwhile:
            # An edit arrived while this one was on the wire: send the newer state too.
            push.state, push.next_attempt_at = PushState.PENDING, now
            tasks.character_push.delay_on_commit(push.pk)
        else:
            push.state, push.sent_at = PushState.SENT, now
            done = SyncState.DELETED if character.is_deleted else SyncState.SYNCED
            character.sync_state, character.synced_at = done, now
        push.claimed_until, push.claimed_by, push.last_error = None, "", ""
        push.unconfirmed_create_at, push.unconfirmed_create = None, None
        push.save(
            update_fields=[
                "state",
                "next_attempt_at",
                "sent_at",
                "claimed_until",
                "claimed_by",
                "last_error",
                "unconfirmed_create_at",
                "unconfirmed_create",
                "updated_at",
            ]
        )
        character.last_sync_error = ""
        character.save(update_fields=[*sync.REMOTE_FIELDS, *_BOOKKEEPING_FIELDS])
    return PushOutcome("sent", gettext_noop("The change reached Xingchen."))


def _push_failed(claim: _Claim, exc: XingchenError) -> PushOutcome:
    attempts = claim.push.attempts
    if exc.retryable and attempts < MAX_AUTO_ATTEMPTS:
        delay = _backoff(attempts, exc.retry_after)
        message = _UNAVAILABLE % {"error": _describe(exc)}
        _push_reschedule(claim, state=PushState.PENDING, error=message, delay=delay)
        return PushOutcome("retry", message, retry_in=delay)
    if exc.retryable:
        # Automatic retries go on, slowly: an outage must not lose the edit.
        message = _STAYED_UNAVAILABLE % {"attempts": attempts, "error": _describe(exc)}
        delay = FAILED_RETRY_INTERVAL.total_seconds()
        _push_reschedule(claim, state=PushState.FAILED, error=message, delay=delay)
        return PushOutcome("failed", message)
    waiting = _refusal_reason(claim.character, exc)
    state = PushState.WAITING if waiting else PushState.FAILED
    message = waiting or _REFUSED % {"error": _describe(exc)}
    _push_reschedule(claim, state=state, error=message, delay=None)
    return PushOutcome("waiting" if waiting else "failed", message)


def _refusal_reason(character: Character, exc: XingchenError) -> str:
    """Why Xingchen refused, when it is a state that passes (review, off-shelf), else ""."""
    remote = _details_or_none(character.remote_id) if character.remote_id else None
    if remote is None:
        return ""
    review = remote.audit_status if remote.audit_status in ("review", "update") else None
    review = review or (
        remote.green_status if remote.green_status in ("review", "update") else None
    )
    if review:
        return _UNDER_REVIEW % {"status": review}
    if remote.config_status == "out":
        return gettext_noop(
            "Xingchen refused the update: the character is off-shelf. "
            "The edit is kept and will be sent once it is back on shelf."
        )
    return ""


def _push_reschedule(claim: _Claim, *, state: PushState, error: str, delay: float | None) -> None:
    """Closes this attempt; `delay` None means no automatic retry (a person must act)."""
    next_attempt = timezone.now() + timedelta(seconds=delay) if delay is not None else None
    with transaction.atomic():
        push = CharacterPush.objects.select_for_update().get(pk=claim.push.pk)
        push.next_attempt_at = next_attempt
        _push_close(push, state=state, error=error)
        character = _lock(claim.character.pk)
        sync_state = _SYNC_STATE_OF[state]
        if character.is_deleted and state == PushState.PENDING:
            sync_state = SyncState.DELETING
        _character_mark(character, state=sync_state, error=error)


def _push_close(push: CharacterPush, *, state: PushState, error: str) -> None:
    push.state, push.last_error = state, error
    push.claimed_until, push.claimed_by = None, ""
    push.save(
        update_fields=[
            "state",
            "last_error",
            "claimed_until",
            "claimed_by",
            "next_attempt_at",
            "updated_at",
        ]
    )


def _character_mark(character: Character, *, state: SyncState, error: str) -> None:
    if character.sync_state != SyncState.CONFLICTED:
        character.sync_state = state
    character.last_sync_error = error
    character.save(update_fields=["sync_state", "last_sync_error", "updated_at"])


def _backoff(attempts: int, retry_after: float | None) -> float:
    step = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    delay = random.uniform(step / 2, step)  # jitter spreads retries of many pushes apart
    return max(delay, retry_after or 0.0)


def _describe(exc: XingchenError) -> str:
    status = f"HTTP {exc.status}: " if exc.status else ""
    return f"{status}{exc.message}"[:300]


# --- pulling -----------------------------------------------------------------------------------


def character_pull_all(*, scopes: Iterable[str] = ("my",)) -> PullReport:
    """Imports and refreshes every character of `scopes`: search page by page, then details."""
    report = PullReport()
    for scope in scopes:
        listed_ids: set[str] = set()
        for listed in sync.remote_search(scope):
            listed_ids.add(listed.character_id)
            try:
                remote = sync.remote_details(listed.character_id)
            except XingchenError as exc:
                report.errors.append(f"{listed.name or listed.character_id}: {_describe(exc)}")
                continue
            report.count(_pull_one(remote, scope=scope))
        if scope == "my":
            _pull_remote_deletions(listed_ids, report)
    return report


def _pull_remote_deletions(listed_ids: set[str], report: PullReport) -> None:
    """Marks as deleted the characters of ours that Xingchen no longer has.

    Only rows missing from a complete listing and confirmed gone by `details` (a listing may
    lag, a "not found" does not); a row with unpushed edits is left for its push to settle.
    """
    missing = Character.objects.filter(
        is_deleted=False, manageable=True, is_pre_configured=False, remote_id__isnull=False
    ).exclude(remote_id__in=listed_ids)
    for character in missing:
        if character.has_unpushed_changes():
            continue
        try:
            sync.remote_details(character.remote_id)
        except XingchenError as exc:
            if exc.status != 404:
                report.errors.append(f"{character.name}: {_describe(exc)}")
            elif _mark_deleted_remotely(character.pk):
                report.count("deleted")


def _mark_deleted_remotely(pk: int) -> bool:
    with transaction.atomic():
        character = Character.objects.select_for_update().get(pk=pk)
        if character.has_unpushed_changes():
            return False
        character.is_deleted = True
        character.sync_state = SyncState.DELETED
        character.last_sync_error = gettext_noop("Deleted on Xingchen.")
        character.save(update_fields=["is_deleted", "sync_state", "last_sync_error", "updated_at"])
    return True


def character_pull(*, character: Character) -> str:
    """Refreshes one character from Xingchen; returns "updated", "unchanged", "conflicted"..."""
    if not character.remote_id:
        return "skipped"
    return _pull_one(sync.remote_details(character.remote_id), scope="my")


def _pull_one(remote: RemoteCharacter, *, scope: str) -> str:
    avatar = _new_remote_avatar(remote)
    with transaction.atomic():
        local = Character.objects.select_for_update().filter(remote_id=remote.character_id).first()
        if local is None:
            outcome = _pull_create(remote, scope=scope, avatar=avatar)
        elif local.is_deleted:
            return "skipped"
        else:
            outcome = _pull_merge(local, remote, avatar=avatar)
    if local is not None:
        _rearm_waiting_push(local)
    return outcome


def _new_remote_avatar(remote: RemoteCharacter) -> ContentFile | None:
    # Downloaded before the transaction: no lock is held across the network.
    key = remote.avatar.file_save_path if remote.avatar else None
    known = (
        Character.objects.filter(remote_id=remote.character_id)
        .values_list("avatar_remote_path", "avatar", "avatar_synced_name")
        .first()
    )
    if known is not None:
        remote_path, name, synced_name = known
        unpushed_upload = bool(name) and name != synced_name
        if unpushed_upload or (key or "") == remote_path:
            return None
    return sync.fetch_avatar(remote)


def _pull_create(remote: RemoteCharacter, *, scope: str, avatar: ContentFile | None) -> str:
    character = Character(revision=1, pushed_revision=1, sync_state=SyncState.SYNCED)
    sync.apply_remote_values(character, remote)
    sync.apply_remote_state(character, remote)
    if scope != "my" and remote.manageable is None:
        character.manageable = False
    character.name = character.name[:20] or remote.character_id[:20]
    character.synced_at = timezone.now()
    if avatar is not None:
        character.avatar.save(avatar.name, avatar, save=False)
        character.avatar_synced_name = character.avatar.name
    character.save()
    return "created"


def _pull_merge(local: Character, remote: RemoteCharacter, *, avatar: ContentFile | None) -> str:
    before = sync.snapshot_editable_values(local)
    current = sync.local_editable_values(local)
    incoming = sync.remote_editable_values(remote)
    changed_remotely = incoming != (before if before is not None else current)
    sync.apply_remote_state(local, remote)
    fields = [*sync.REMOTE_FIELDS, "sync_state", "synced_at", "updated_at"]
    if avatar is not None:
        local.avatar.save(avatar.name, avatar, save=False)
        local.avatar_synced_name = local.avatar.name
        fields += ["avatar", "avatar_synced_name"]
    if not changed_remotely or incoming == current:
        outcome = "unchanged"
        if local.sync_state == SyncState.CONFLICTED and incoming == current:
            local.sync_state = (
                SyncState.PENDING if local.has_unpushed_changes() else SyncState.SYNCED
            )
    elif local.has_unpushed_changes() or local.sync_state == SyncState.CONFLICTED:
        local.sync_state, outcome = SyncState.CONFLICTED, "conflicted"
    else:
        sync.apply_remote_values(local, remote)
        local.sync_state, local.synced_at, outcome = SyncState.SYNCED, timezone.now(), "updated"
        fields += list(sync.EDITABLE_FIELDS)
    local.save(update_fields=fields)
    return outcome


def _rearm_waiting_push(character: Character) -> None:
    """A refused push is sent again once a pull shows the refusal's cause has passed."""
    character.refresh_from_db()
    if character.is_under_review() or character.is_off_shelf():
        return
    if character.sync_state == SyncState.CONFLICTED:
        return
    for push in _open_pushes(character).filter(state=PushState.WAITING):
        character_push_retry(push=push)


# --- conflicts ---------------------------------------------------------------------------------


def character_resolve_conflict(*, character: Character, keep: Literal["mine", "theirs"]) -> str:
    """Ends a conflict: push the local version over Xingchen's, or adopt Xingchen's."""
    with transaction.atomic():
        current = _lock(character.pk)
        if current.sync_state != SyncState.CONFLICTED:
            return _("This character is not in conflict any more.")
        if keep == "mine":
            current.sync_state, current.last_sync_error = SyncState.PENDING, ""
            current.save(update_fields=["sync_state", "last_sync_error", "updated_at"])
            _outbox_record(character=current)
            return _("Your version is being sent to Xingchen.")
        if _open_pushes(current).filter(claimed_until__gt=timezone.now()).exists():
            return _("A push is being sent right now; try again in a moment.")
        remote = RemoteCharacter.from_wire(current.remote_snapshot or {})
        sync.apply_remote_values(current, remote)
        current.pushed_revision = current.revision
        current.sync_state, current.synced_at = SyncState.SYNCED, timezone.now()
        current.last_sync_error = ""
        current.save(
            update_fields=[
                *sync.EDITABLE_FIELDS,
                "pushed_revision",
                "sync_state",
                "synced_at",
                "last_sync_error",
                "updated_at",
            ]
        )
        _open_pushes(current).update(state=PushState.CANCELLED, updated_at=timezone.now())
    return _("Xingchen's version was adopted.")


def character_conflict_rows(*, character: Character) -> list[tuple[str, object, object]]:
    """(field label, local value, Xingchen value) for every field that differs."""
    remote = sync.snapshot_editable_values(character) or {}
    local = sync.local_editable_values(character)
    rows = []
    for name in sync.EDITABLE_FIELDS:
        if local[name] != remote.get(name):
            label = Character._meta.get_field(name).verbose_name
            rows.append((str(label).capitalize(), local[name], remote.get(name)))
    return rows


# --- other upstream features used by the admin -------------------------------------------------


def character_versions_list(*, character: Character) -> list[RemoteCharacter]:
    return sync.remote_versions(character) if character.remote_id else []


# --- descriptions written by Xingchen, as jobs -------------------------------------------------


class DescriptionRefused(Exception):
    """A decision on a description that cannot be taken; the message is meant for the editor."""


class DescriptionChanged(DescriptionRefused):
    """The basic information changed after the description was asked for: accepting would
    overwrite that change, so it needs the editor's confirmation."""


class DescriptionSourceGone(Exception):
    """No file to hand out for this token (unknown token, or its job is no longer running)."""


def character_can_describe(*, user: AbstractBaseUser, character: Character) -> bool:
    """Staff who may edit characters, on a character this install manages."""
    return (
        user.is_staff
        and user.has_perm("characters.change_character")
        and character.manageable
        and not character.is_deleted
    )


def character_describe_start(
    *,
    character: Character,
    user: AbstractBaseUser,
    text: str = "",
    upload: UploadedFile | None = None,
) -> Job:
    """Queues a description of `character` written from `text`, from an uploaded file, or
    (neither given) from its persona. Xingchen is called by the job, never here; the basic
    information of now is kept so that accepting can tell whether it changed meanwhile."""
    params: dict[str, Any] = {"original": character.basic_information}
    if upload is not None:
        name = get_valid_filename(upload.name or "source.txt")
        stored = private_storage.save(f"describe/{uuid.uuid4().hex}{Path(name).suffix}", upload)
        params |= {"source": "file", "file": stored, "file_name": name}
    elif text.strip():
        params |= {"source": "text", "text": text.strip()}
    else:
        source = character.basic_information.strip() or character.introduction.strip()
        params |= {"source": "persona", "text": f"{character.name}\n{source}".strip()}
    try:
        return job_create(owner=user, kind=Job.Kind.DESCRIBE, params=params, character=character)
    except Exception:
        if "file" in params:
            private_storage.delete(params["file"])
        raise


def character_describe_source(*, token: uuid.UUID) -> tuple[File, str]:
    """The uploaded file of a running description job, for Xingchen to fetch by its token."""
    job = Job.objects.filter(
        public_token=token, kind=Job.Kind.DESCRIBE, status__in=Job.ACTIVE
    ).first()
    if job is None or not private_storage.exists(job.params.get("file") or ""):
        raise DescriptionSourceGone(str(token))
    return private_storage.open(job.params["file"]), job.params["file_name"]


def character_describe_accept(
    *, user: AbstractBaseUser, job_id: int, text: str, confirm: bool = False
) -> Character:
    """Makes the (possibly edited) description the basic information, through the same checks
    as the change form, and queues its push. Raises ValidationError (nothing saved),
    DescriptionChanged when the basic information changed since the job started and `confirm`
    is off, and DescriptionRefused when the job has no undecided description."""
    with transaction.atomic():
        job = _describe_job_to_decide(user=user, job_id=job_id)
        character = Character.objects.get(pk=job.character_id)
        if character.is_deleted:
            raise DescriptionRefused(_("This character has been deleted."))
        if character.basic_information != job.params.get("original") and not confirm:
            raise DescriptionChanged(
                _(
                    "The basic information was changed after this description was asked for. "
                    "Confirm to replace it anyway."
                )
            )
        character_apply_description(character=character, text=text)
        _describe_decided(job, user=user, decision="accepted")
    return character


def character_describe_discard(*, user: AbstractBaseUser, job_id: int) -> Job:
    """Drops the description; the character stays as it is."""
    with transaction.atomic():
        job = _describe_job_to_decide(user=user, job_id=job_id)
        _describe_decided(job, user=user, decision="discarded")
    return job


def _describe_job_to_decide(*, user: AbstractBaseUser, job_id: int) -> Job:
    job = job_for_user(user, job_id)  # raises JobNotFound for jobs the user may not see
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.kind != Job.Kind.DESCRIBE or job.character_id is None:
        raise JobNotFound(job_id)
    if job.status != Job.Status.SUCCEEDED or not job.result.get("description"):
        raise DescriptionRefused(_("This job has no description to accept or discard."))
    decision = job.result.get("decision")
    if decision:
        raise DescriptionRefused(str(_ALREADY_DECIDED[decision]))
    return job


def _describe_decided(
    job: Job, *, user: AbstractBaseUser, decision: Literal["accepted", "discarded"]
) -> None:
    job.result = {
        **job.result,
        "decision": decision,
        "decided_by": user.get_username(),
        "decided_at": timezone.now().isoformat(),
    }
    job.note = _DECIDED_NOTES[decision]
    job.save(update_fields=["result", "note", "updated_at"])
