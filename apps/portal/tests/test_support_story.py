"""An operator's support person looks for a failed payout and finds why: the review queue
lists it, its page shows the error and the calls made for it, bodies and all, and each call
opens in the portal's own call log."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.backoffice.tests.admin_world import build_world
from apps.operators.models import CallLog
from apps.portal.roles import Role
from apps.portal.tests.portal_world import member, sign_in
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db


def test_support_finds_why_a_payout_failed(client):
    world = build_world(code="alpha", pools=1, transactions=2)
    position = world.positions[0]
    payout = Transaction.objects.create(
        operator=world.operator,
        kind="follower_credit",
        status="failed",
        amount=Decimal("250"),
        currency="USD",
        pool=position.pool,
        position=position,
        follower=position.follower,
        streamer=position.pool.streamer,
        attempts=3,
        last_error_code="ERR_FORBIDDEN",
        needs_review=True,
    )
    call = CallLog.objects.create(
        operator=world.operator,
        direction="out",
        endpoint="wallet/deposit",
        url="http://alpha.invalid/wallet/deposit",
        request_body=f'{{"id": "{payout.external_id}", "amount": 250}}',
        response_status=400,
        response_body='{"errorCode": "ERR_FORBIDDEN", "errorMessage": "player account blocked"}',
        latency_ms=80,
        outcome="error",
        error_code="ERR_FORBIDDEN",
        external_id=payout.external_id,
    )
    sign_in(client, member(world.operator, role=Role.SUPPORT))

    queue = client.get(
        reverse("portal:backoffice_reviewitem_changelist"), {"q": str(payout.external_id)}
    )
    assert queue.status_code == 200
    item = reverse("portal:backoffice_reviewitem_change", args=[payout.pk])
    assert item.encode() in queue.content

    page = client.get(reverse("portal:transactions_transaction_change", args=[payout.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "ERR_FORBIDDEN" in body and "player account blocked" in body
    call_page = reverse("portal:operators_calllog_change", args=[call.pk])
    assert call_page in body  # the call opens in the portal, not in the back office
    assert 'href="/admin/' not in body  # every link stays in the portal
    # no retry or resolve for support without the staff grant
    assert "/act/transaction_retry_now/" not in body

    shown = client.get(call_page)
    assert shown.status_code == 200 and b"player account blocked" in shown.content


def test_the_portal_keeps_copystakes_own_staff_notes_to_the_back_office(client):
    from apps.backoffice.models import StaffAction

    world = build_world(code="alpha", pools=1, transactions=1)
    position = world.positions[0]
    StaffAction.objects.create(
        username="ops-anna",
        action="position_force_leave",
        target_type="followers.position",
        target_id=str(position.pk),
        reason="Internal note: same pattern as at another casino",
        outcome="done",
    )
    staff_page = reverse("admin:followers_position_change", args=[position.pk])
    portal_page = reverse("portal:followers_position_change", args=[position.pk])
    from apps.backoffice.tests.admin_world import superuser

    staff = client.__class__()
    staff.force_login(superuser())
    assert b"same pattern as at another casino" in staff.get(staff_page).content
    sign_in(client, member(world.operator, role=Role.SUPPORT))
    shown = client.get(portal_page)
    assert shown.status_code == 200
    assert b"same pattern as at another casino" not in shown.content
    assert b"ops-anna" not in shown.content
