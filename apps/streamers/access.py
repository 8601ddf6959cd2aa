"""Private streamers: who may see and join an invite-only pool.

A private streamer's pool admits only the players on its allowlist (``StreamerAccess``, by the
operator's user id). Staff add and remove players by hand; an invite link
(``StreamerInvite``) adds whoever opens it, until it expires, is revoked or runs out of uses.
Reading who is admitted is ``selectors.streamer_admits``.

Redeeming counts a use under the invite's row lock, so two players opening a link with one
use left never both get in (the database's ``uses <= max_uses`` check stands behind it); a
player already on the allowlist who opens it again uses nothing up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import ErrorCode, NotFound
from apps.operators.models import Operator
from apps.streamers.models import Streamer, StreamerAccess, StreamerInvite

MAX_USER_ID_CHARS = 128
MAX_NOTE_CHARS = 200
MAX_INVITE_VALIDITY = timedelta(days=90)
MAX_INVITE_CODE_CHARS = 40  # StreamerInvite.code


def _checked_user_id(operator_user_id: str) -> str:
    user_id = operator_user_id if isinstance(operator_user_id, str) else ""
    if not user_id.strip():
        raise ValidationError({"operator_user_id": "must not be empty"})
    if user_id != user_id.strip():
        raise ValidationError({"operator_user_id": "must not start or end with spaces"})
    if len(user_id) > MAX_USER_ID_CHARS:
        raise ValidationError(
            {"operator_user_id": f"must be at most {MAX_USER_ID_CHARS} characters"}
        )
    return user_id


# --- the allowlist (staff) --------------------------------------------------------------


@transaction.atomic
def allowlist_add(*, streamer: Streamer, operator_user_id: str, note: str = "") -> StreamerAccess:
    """Put one of the operator's players on the streamer's allowlist (staff, by user id).

    The player may not have opened CopyStake yet: the id is the operator's. A player already
    listed is refused (``ValidationError`` on ``operator_user_id``), so staff see it.
    """
    user_id = _checked_user_id(operator_user_id)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError({"note": f"must be at most {MAX_NOTE_CHARS} characters"})
    if StreamerAccess.objects.filter(streamer=streamer, operator_user_id=user_id).exists():
        raise ValidationError({"operator_user_id": f"{user_id} is on the allowlist already"})
    access = StreamerAccess(
        streamer=streamer, operator_user_id=user_id, source=StreamerAccess.Source.STAFF, note=note
    )
    access.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            access.save()
    except IntegrityError as error:  # listed meanwhile (an invite redeemed at that moment)
        raise ValidationError(
            {"operator_user_id": f"{user_id} is on the allowlist already"}
        ) from error
    return access


@transaction.atomic
def allowlist_remove(*, streamer: Streamer, operator_user_id: str) -> bool:
    """Take a player off the allowlist; False when they were not on it.

    From now on they neither see the private pool nor join it. A position they hold stays
    theirs: they may still leave (money out is never trapped).
    """
    deleted, _ = StreamerAccess.objects.filter(
        streamer=streamer, operator_user_id=operator_user_id
    ).delete()
    return bool(deleted)


# --- invite links -----------------------------------------------------------------------


@transaction.atomic
def invite_create(
    *,
    streamer: Streamer,
    expires_at: datetime | None = None,
    valid_for: timedelta | None = None,
    max_uses: int | None = None,
    created_by: str = "",
) -> StreamerInvite:
    """A new invite link to the streamer's pool, valid until ``expires_at`` (or for
    ``valid_for`` from now): in the future, at most ``MAX_INVITE_VALIDITY`` away. ``max_uses``
    None: any number of players until it expires."""
    now = timezone.now()
    if (expires_at is None) == (valid_for is None):
        raise ValidationError({"expires_at": "give either an expiry time or a validity period"})
    if valid_for is not None:
        expires_at = now + valid_for
    assert expires_at is not None
    if expires_at <= now:
        raise ValidationError({"expires_at": "must be in the future"})
    if expires_at > now + MAX_INVITE_VALIDITY:
        raise ValidationError(
            {"expires_at": f"must be at most {MAX_INVITE_VALIDITY.days} days from now"}
        )
    if max_uses is not None and (
        isinstance(max_uses, bool) or not isinstance(max_uses, int) or max_uses < 1
    ):
        raise ValidationError({"max_uses": "must be at least 1 (empty: no limit)"})
    invite = StreamerInvite(
        streamer=streamer,
        expires_at=expires_at,
        max_uses=max_uses,
        created_by=(created_by or "")[:150],
    )
    invite.full_clean()
    invite.save()
    return invite


@transaction.atomic
def invite_revoke(*, invite: StreamerInvite) -> StreamerInvite:
    """The link stops working now; players it already put on the allowlist stay there (take
    them off one by one). Idempotent: the first revocation's time stays."""
    StreamerInvite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    invite.refresh_from_db()
    return invite


@dataclass(frozen=True)
class InviteState:
    """Whether a link works now, and in words why not."""

    usable: bool
    label: str


def invite_state(invite: StreamerInvite, *, now: datetime | None = None) -> InviteState:
    now = now or timezone.now()
    if invite.revoked_at is not None:
        return InviteState(False, "revoked")
    if invite.expires_at <= now:
        return InviteState(False, "expired")
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return InviteState(False, "used up")
    return InviteState(True, "active")


def _invalid(message: str) -> NotFound:
    return NotFound(message, code=ErrorCode.INVITE_INVALID)


def invite_redeem(
    *, code: str, operator: Operator, operator_user_id: str, is_demo: bool
) -> Streamer:
    """A player opened an invite link: put them on the streamer's allowlist; the streamer.

    Only the operator's own streamers' links work for its players (a link of another
    operator's streamer is unknown to them: it could otherwise list a user id of that
    operator). Refused with ``ErrorCode.INVITE_INVALID`` (404) and a message saying why:
    unknown code, revoked, expired, used up, or a demo player (private pools are for real
    players). A player already on the allowlist gets the streamer again and uses nothing up.
    """
    if not isinstance(code, str) or not code or len(code) > MAX_INVITE_CODE_CHARS:
        raise _invalid("No invite link has this code")
    with transaction.atomic():
        invite = (
            StreamerInvite.objects.select_for_update(of=("self",))
            .select_related("streamer")
            .filter(code=code, streamer__operator=operator)
            .first()
        )
        if invite is None:
            raise _invalid("No invite link has this code")
        state = invite_state(invite)
        if invite.revoked_at is not None:
            raise _invalid("This invite link was revoked")
        if state.label == "expired":
            raise _invalid(f"This invite link expired at {invite.expires_at:%Y-%m-%d %H:%M} UTC")
        if is_demo:
            raise _invalid("Invite links are for real players, not demo sessions")
        streamer = invite.streamer
        if StreamerAccess.objects.filter(
            streamer=streamer, operator_user_id=operator_user_id
        ).exists():
            return streamer
        if state.label == "used up":
            raise _invalid(f"This invite link has been used up ({invite.max_uses} uses)")
        try:
            with transaction.atomic():
                StreamerAccess.objects.create(
                    streamer=streamer,
                    operator_user_id=_checked_user_id(operator_user_id),
                    source=StreamerAccess.Source.INVITE,
                    invite=invite,
                )
        except IntegrityError:  # listed at this very moment (staff, or another tab)
            return streamer
        StreamerInvite.objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
    return streamer
