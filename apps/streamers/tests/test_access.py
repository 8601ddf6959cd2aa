"""Private streamers: the allowlist, invite links and their redemption."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from apps.core.errors import ApplicationError, ErrorCode
from apps.operators.tests.factories import OperatorFactory
from apps.streamers.access import (
    allowlist_add,
    allowlist_remove,
    invite_create,
    invite_redeem,
    invite_revoke,
    invite_state,
)
from apps.streamers.models import StreamerAccess, StreamerInvite
from apps.streamers.selectors import streamer_admits
from apps.streamers.tests.factories import StreamerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def private():
    return StreamerFactory(is_private=True)


def redeem(invite, user_id="p-1", *, is_demo=False, operator=None):
    return invite_redeem(
        code=invite.code if isinstance(invite, StreamerInvite) else invite,
        operator=operator
        or (invite.streamer.operator if isinstance(invite, StreamerInvite) else None),
        operator_user_id=user_id,
        is_demo=is_demo,
    )


# --- allowlist -------------------------------------------------------------------------


def test_allowlist_add_admits_the_player_and_remove_takes_them_off(private):
    # given
    assert not streamer_admits(streamer=private, operator_user_id="p-1")
    # when
    access = allowlist_add(streamer=private, operator_user_id="p-1", note=" VIP ")
    # then
    assert (access.source, access.note, access.invite) == ("staff", "VIP", None)
    assert streamer_admits(streamer=private, operator_user_id="p-1")
    assert not streamer_admits(streamer=private, operator_user_id="p-1", is_demo=True)
    assert not streamer_admits(streamer=private, operator_user_id="p-2")
    # when
    assert allowlist_remove(streamer=private, operator_user_id="p-1") is True
    # then
    assert not streamer_admits(streamer=private, operator_user_id="p-1")
    assert allowlist_remove(streamer=private, operator_user_id="p-1") is False


@pytest.mark.parametrize("user_id", ["", "   ", " p-1", "x" * 129])
def test_allowlist_add_refuses_a_bad_user_id(private, user_id):
    with pytest.raises(ValidationError) as error:
        allowlist_add(streamer=private, operator_user_id=user_id)
    assert list(error.value.message_dict) == ["operator_user_id"]
    assert not StreamerAccess.objects.exists()


def test_allowlist_add_refuses_a_player_listed_already(private):
    allowlist_add(streamer=private, operator_user_id="p-1")
    with pytest.raises(ValidationError, match="on the allowlist already"):
        allowlist_add(streamer=private, operator_user_id="p-1")
    assert StreamerAccess.objects.count() == 1


# --- invite links ----------------------------------------------------------------------


def test_invite_create_by_validity_period(private):
    before = timezone.now()
    invite = invite_create(
        streamer=private, valid_for=timedelta(days=7), max_uses=3, created_by="ops"
    )
    assert before + timedelta(days=7) <= invite.expires_at <= timezone.now() + timedelta(days=7)
    assert (invite.max_uses, invite.uses, invite.created_by) == (3, 0, "ops")
    assert len(invite.code) >= 20
    assert invite_state(invite).label == "active"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"expires_at": "past"}, "expires_at"),
        ({"valid_for": timedelta(days=91)}, "expires_at"),
        ({}, "expires_at"),
        ({"valid_for": timedelta(days=1), "expires_at": "future"}, "expires_at"),
        ({"valid_for": timedelta(days=1), "max_uses": 0}, "max_uses"),
    ],
)
def test_invite_create_refuses_a_bad_expiry_or_uses(private, kwargs, field):
    now = timezone.now()
    when = {"past": now - timedelta(minutes=1), "future": now + timedelta(days=1)}
    if "expires_at" in kwargs:
        kwargs = {**kwargs, "expires_at": when[kwargs["expires_at"]]}
    with pytest.raises(ValidationError) as error:
        invite_create(streamer=private, **kwargs)
    assert list(error.value.message_dict) == [field]
    assert not StreamerInvite.objects.exists()


def test_redeem_lists_the_player_and_counts_one_use(private):
    # given
    invite = invite_create(streamer=private, valid_for=timedelta(days=1), max_uses=2)
    # when
    streamer = redeem(invite, "p-1")
    # then
    assert streamer == private
    access = StreamerAccess.objects.get()
    assert (access.operator_user_id, access.source, access.invite) == ("p-1", "invite", invite)
    assert StreamerInvite.objects.get(pk=invite.pk).uses == 1
    assert streamer_admits(streamer=private, operator_user_id="p-1")


def test_redeeming_again_uses_nothing_up_even_once_used_up(private):
    # given: a one-use link, used by p-1
    invite = invite_create(streamer=private, valid_for=timedelta(days=1), max_uses=1)
    redeem(invite, "p-1")
    # when: p-1 opens it again
    assert redeem(invite, "p-1") == private
    # then
    assert StreamerInvite.objects.get(pk=invite.pk).uses == 1
    assert StreamerAccess.objects.count() == 1


def test_a_player_listed_by_staff_uses_nothing_up(private):
    allowlist_add(streamer=private, operator_user_id="p-1")
    invite = invite_create(streamer=private, valid_for=timedelta(days=1), max_uses=1)
    assert redeem(invite, "p-1") == private
    assert StreamerInvite.objects.get(pk=invite.pk).uses == 0
    assert StreamerAccess.objects.get().source == "staff"


def _refused(invite, user_id="p-9", **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as error:
        redeem(invite, user_id, **kwargs)
    assert error.value.code == ErrorCode.INVITE_INVALID
    assert error.value.status == 404
    return error.value


def test_redeem_refusals_say_why(private):
    # given
    now = timezone.now()
    used_up = invite_create(streamer=private, valid_for=timedelta(days=1), max_uses=1)
    redeem(used_up, "p-1")
    revoked = invite_revoke(invite=invite_create(streamer=private, valid_for=timedelta(days=1)))
    expired = invite_create(streamer=private, valid_for=timedelta(days=1))
    StreamerInvite.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(seconds=1))
    good = invite_create(streamer=private, valid_for=timedelta(days=1))
    # then
    assert "used up" in _refused(used_up).message
    assert "revoked" in _refused(revoked).message
    assert "expired" in _refused(expired).message
    assert "demo" in _refused(good, is_demo=True).message
    assert _refused("no-such-code", operator=private.operator).message == (
        "No invite link has this code"
    )
    assert "No invite link" in _refused("", operator=private.operator).message
    assert "No invite link" in _refused("x" * 41, operator=private.operator).message
    # nothing was listed or counted by any refusal
    assert list(StreamerAccess.objects.values_list("operator_user_id", flat=True)) == ["p-1"]
    assert StreamerInvite.objects.get(pk=good.pk).uses == 0


def test_another_operators_player_cannot_redeem_the_link(private):
    invite = invite_create(streamer=private, valid_for=timedelta(days=1))
    error = _refused(invite, "p-1", operator=OperatorFactory())
    assert error.message == "No invite link has this code"
    assert not StreamerAccess.objects.exists()


def test_revoke_is_idempotent_and_keeps_who_got_in(private):
    invite = invite_create(streamer=private, valid_for=timedelta(days=1))
    redeem(invite, "p-1")
    first = invite_revoke(invite=invite).revoked_at
    assert first is not None
    assert invite_revoke(invite=invite).revoked_at == first
    assert invite_state(invite).label == "revoked"
    assert streamer_admits(streamer=private, operator_user_id="p-1")


@pytest.mark.django_db(transaction=True)
def test_racing_redemptions_never_exceed_max_uses():
    """Eight players open a link with three uses left at once: exactly three get in."""
    if connection.vendor != "postgresql" and not os.environ.get("COPYPOOL_REQUIRE_SERVICES"):
        pytest.skip("row-level concurrency needs PostgreSQL (set DATABASE_URL)")
    private = StreamerFactory(is_private=True)
    invite = invite_create(streamer=private, valid_for=timedelta(days=1), max_uses=3)
    start = threading.Barrier(8)

    def attempt(n: int) -> bool:
        try:
            start.wait()
            redeem(invite, f"p-{n}")
            return True
        except ApplicationError:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count(True) == 3
    assert StreamerInvite.objects.get(pk=invite.pk).uses == 3
    assert StreamerAccess.objects.filter(streamer=private).count() == 3
