"""Follower and position pages and their confirmed actions: block (with or without paying out
now), unblock, force leave; who may take them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user, superuser
from apps.followers.models import Follower, Position
from apps.followers.selectors import follower_position_totals
from apps.followers.services import follower_block
from apps.pools.models import Pool
from apps.transactions.services import position_join, position_leave

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def root(client):
    user = superuser()
    client.force_login(user)
    client.user = user
    return client


def act(client, obj, action, **data):
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_act", args=[obj.pk, action])
    return client.post(url, {"confirm": "yes", **data})


def confirm_page(client, obj, action):
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_act", args=[obj.pk, action])
    return client.get(url)


def joined(make_session, streamer, user, amount="100") -> Position:
    position = position_join(session=make_session(user), streamer_id=streamer.pk, amount=amount)
    assert position.status == "active"
    return position


def follower_url(follower: Follower) -> str:
    return reverse("admin:followers_follower_change", args=[follower.pk])


# --- block ------------------------------------------------------------------------------


def test_the_block_page_asks_for_a_reason_and_the_pay_out_choice(
    root, fake, streamer, make_session
):
    position = joined(make_session, streamer, "f1")
    fake.streamer_balance["streamer-1"] = D("1210")  # NAV 1.1
    # when
    response = confirm_page(root, position.follower, "follower_block")
    # then: what would be paid, an empty reason, the box unticked, nothing done
    page = response.content.decode()
    assert response.status_code == 200
    assert "Block: are you sure?" in page
    assert "1 active position(s) worth 100.00000000 USD at the last known NAV" in page
    assert response.context["form"]["reason"].value() in (None, "")
    assert (
        'name="pay_out_now"' in page and "checked" not in page.split('name="pay_out_now"')[1][:40]
    )
    assert "cp-callout--danger" in page
    assert not Follower.objects.get(pk=position.follower_id).is_blocked
    assert not StaffAction.objects.exists()


def test_block_and_pay_out_now(root, fake, streamer, make_session):
    position = joined(make_session, streamer, "f1")
    # when
    response = act(
        root, position.follower, "follower_block", reason="Self-exclusion", pay_out_now="on"
    )
    # then
    assert response.status_code == 302
    follower = Follower.objects.get(pk=position.follower_id)
    assert follower.is_blocked
    assert follower.blocked_reason == "blocked by staff root, Self-exclusion"
    position.refresh_from_db()
    assert (position.status, position.payout) == ("closed", D(100))
    action = StaffAction.objects.get()
    assert (action.action, action.outcome, action.reason, action.user) == (
        "follower_block",
        "done",
        "Self-exclusion",
        root.user,
    )
    assert (action.target_type, action.target_id) == ("followers.follower", str(follower.pk))
    assert action.message == "blocked; 1 position(s) paid out"


def test_block_without_pay_out_keeps_the_positions(root, fake, streamer, make_session):
    position = joined(make_session, streamer, "f1")
    calls = len(fake.calls)
    act(root, position.follower, "follower_block", reason="Under review")
    assert Follower.objects.get(pk=position.follower_id).is_blocked
    position.refresh_from_db()
    assert position.status == "active" and len(fake.calls) == calls
    assert "1 open position(s) stay" in StaffAction.objects.get().message


def test_block_without_a_reason_does_nothing(root, fake, streamer, make_session):
    position = joined(make_session, streamer, "f1")
    response = act(root, position.follower, "follower_block", reason="", pay_out_now="on")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Follower.objects.get(pk=position.follower_id).is_blocked
    position.refresh_from_db()
    assert position.status == "active"
    assert not StaffAction.objects.exists()


def test_the_follower_page_shows_the_block_positions_and_totals(root, fake, streamer, make_session):
    # given: one position closed with a gain, one open, one failed join
    first = joined(make_session, streamer, "f1", "100")
    fake.streamer_balance["streamer-1"] = D("1210")  # NAV 1.1
    position_leave(session=first.session, position_id=first.pk)
    joined(make_session, streamer, "f1", "50")
    fake.wallet["f1"] = D(1)
    failed = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="20")
    assert failed.status == "failed"
    follower_block(follower=first.follower, reason="blocked by staff x, chargebacks")
    # when
    response = root.get(follower_url(first.follower))
    page = response.content.decode()
    # then: the block
    assert response.status_code == 200
    assert "blocked by staff x, chargebacks" in page
    assert "Block state" in page and 'cp-badge--bad">blocked' in page
    # the positions, newest first
    assert "Positions (newest 50)" in page
    inline = response.context["inline_admin_formsets"][0]
    statuses = [form.original.status for form in inline]
    assert statuses == ["failed", "active", "closed"]
    # the totals: 150 in (the failed 20 took nothing), 110 out, 50 still in at NAV 1
    [totals] = follower_position_totals(follower=first.follower)
    assert (totals.currency, totals.positions, totals.open) == ("USD", 3, 1)
    assert (totals.contributed, totals.paid_out, totals.value_now) == (D(150), D(110), D(50))
    assert totals.result == D(10)
    table = page.split('class="cp-table cp-totals"')[1].split("</table>")[0]
    for figure in ("150.00000000", "110.00000000", "50.00000000", "10.00000000"):
        assert figure in table
    # and the Unblock button, not Block
    assert "follower_unblock" in page and "/act/follower_block/" not in page


def test_unblock(root, fake, streamer, make_session):
    follower = make_session("f1").follower
    follower_block(follower=follower, reason="fraud")
    act(root, follower, "follower_unblock", reason="Operator cleared it")
    follower.refresh_from_db()
    assert (follower.is_blocked, follower.blocked_reason, follower.blocked_at) == (False, "", None)
    action = StaffAction.objects.get()
    assert (action.action, action.outcome, action.message) == (
        "follower_unblock",
        "done",
        "unblocked: may join pools again",
    )
    assert joined(make_session, streamer, "f1").status == "active"


def test_bulk_block_from_the_list(root, fake, streamer, make_session):
    positions = [joined(make_session, streamer, user) for user in ("f1", "f2")]
    url = reverse("admin:followers_follower_changelist")
    selected = [str(p.follower_id) for p in positions]
    first = root.post(url, {"action": "follower_block", "_selected_action": selected})
    assert first.status_code == 200 and "2 objects" in first.content.decode()
    root.post(
        url,
        {
            "action": "follower_block",
            "_selected_action": selected,
            "confirm": "yes",
            "reason": "Ring of accounts",
            "pay_out_now": "on",
        },
    )
    assert Follower.objects.filter(is_blocked=True).count() == 2
    assert Position.objects.filter(status="closed").count() == 2
    assert Pool.objects.get().state == "closed"
    assert StaffAction.objects.filter(action="follower_block", outcome="done").count() == 2


# --- force leave ------------------------------------------------------------------------


def test_force_leave_preview_and_run(root, fake, streamer, make_session):
    position = joined(make_session, streamer, "f1")
    joined(make_session, streamer, "f2")
    Pool.objects.update(balance=D("1320"))  # last known NAV 1.1
    fake.streamer_balance["streamer-1"] = D("1320")
    # when: the confirmation page
    page = confirm_page(root, position, "position_force_leave").content.decode()
    # then: it says what it would pay at the last known NAV
    assert "Force leave: are you sure?" in page
    assert "pays about 110.00000000 USD (its value at the last known NAV" in page
    # when: confirmed
    response = act(root, position, "position_force_leave", reason="Operator asked us to")
    # then
    assert response.status_code == 302
    position.refresh_from_db()
    assert (position.status, position.payout) == ("closed", D(110))
    action = StaffAction.objects.get()
    assert (action.action, action.outcome, action.target_type) == (
        "position_force_leave",
        "done",
        "followers.position",
    )
    assert action.message == "closed: paid 110.00000000 USD"
    # the position page shows the action and no more button
    detail = root.get(reverse("admin:followers_position_change", args=[position.pk]))
    text = detail.content.decode()
    assert "Operator asked us to" in text and "/act/position_force_leave/" not in text


def test_force_leave_of_a_joining_position_is_refused_and_on_record(
    root, fake, streamer, make_session
):
    fake.fail("transfer", *["timeout_before"] * 30)
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    assert position.status == "joining"
    act(root, position, "position_force_leave", reason="stuck")
    action = StaffAction.objects.get()
    assert action.outcome == "refused"
    assert action.message.startswith("ERR_POSITION_NOT_ACTIVE: The position is joining")
    position.refresh_from_db()
    assert position.status == "joining"


# --- who may act ------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["Finance", "Read-only"])
def test_only_operations_may_block_or_force_leave(client, fake, streamer, make_session, group):
    position = joined(make_session, streamer, "f1")
    client.force_login(staff_user("viewer", group))
    # when
    blocked = act(client, position.follower, "follower_block", reason="x", pay_out_now="on")
    forced = act(client, position, "position_force_leave", reason="x")
    follower_page = client.get(follower_url(position.follower))
    position_page = client.get(reverse("admin:followers_position_change", args=[position.pk]))
    changelist = client.get(reverse("admin:followers_follower_changelist"))
    # then: refused, no button, no bulk action; nothing changed, nothing on record
    assert blocked.status_code == forced.status_code == 403
    assert follower_page.status_code == position_page.status_code == 200
    assert "/act/follower_block/" not in follower_page.content.decode()
    assert "/act/position_force_leave/" not in position_page.content.decode()
    assert 'value="follower_block"' not in changelist.content.decode()
    assert not Follower.objects.get(pk=position.follower_id).is_blocked
    position.refresh_from_db()
    assert position.status == "active"
    assert not StaffAction.objects.exists()


def test_operations_may_block_and_force_leave(client, fake, streamer, make_session):
    position = joined(make_session, streamer, "f1")
    other = joined(make_session, streamer, "f2")
    client.force_login(staff_user("ops", "Operations"))
    follower_page = client.get(follower_url(position.follower)).content.decode()
    position_page = client.get(
        reverse("admin:followers_position_change", args=[other.pk])
    ).content.decode()
    assert "/act/follower_block/" in follower_page
    assert "/act/position_force_leave/" in position_page
    act(client, position.follower, "follower_block", reason="fraud", pay_out_now="on")
    act(client, other, "position_force_leave", reason="asked")
    assert Position.objects.filter(status="closed").count() == 2
    assert set(StaffAction.objects.values_list("username", "action", "outcome")) == {
        ("ops", "follower_block", "done"),
        ("ops", "position_force_leave", "done"),
    }


# --- receipts -----------------------------------------------------------------------------


def test_the_position_page_shows_its_receipts_read_only_with_money_formatted(
    root, fake, streamer, make_session
):
    from apps.transactions.models import Receipt
    from apps.transactions.services import position_leave_part, position_top_up

    # given: a join, a top-up at NAV 1.1 and a partial leave
    position = joined(make_session, streamer, "f1")
    fake.streamer_balance["streamer-1"] = D("1210")
    session = position.session
    position_top_up(session=session, position_id=position.pk, amount="55")
    position_leave_part(session=session, position_id=position.pk, units="10")
    receipts = list(Receipt.objects.filter(position=position).order_by("priced_at", "pk"))
    assert [r.kind for r in receipts] == ["join", "top_up", "leave"]
    # when
    response = root.get(reverse("admin:followers_position_change", args=[position.pk]))
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert "Receipts (prices of the join, top-ups and leaves)" in page
    # the top-up's amount and the balance it was priced on, as money in the pool's currency
    # 2 decimals with the exact 8 places on hover; the NAV with at most 12 places
    assert 'title="55.00000000">55.00<span class="cp-ccy">USD</span></span>' in page
    assert 'title="1210.00000000">1,210.00<span class="cp-ccy">USD</span></span>' in page
    assert '<span class="cp-money num">1.10</span>' in page  # its NAV
    assert receipts[0].bet_external_id in page and receipts[1].deposit_external_id in page
    assert receipts[2].withdrawal_external_id in page and receipts[2].win_external_id in page
    assert 'name="receipts-0-amount"' not in page  # read-only: no inputs


# --- the page support start a ticket from ------------------------------------------------


def _follower_with_history(positions: int, per_position: int, *, code: str = "ticket"):
    """A follower with ``positions`` positions (every other one after the first closed), each
    with ``per_position`` transactions (each with a saga and an operator call), blocked by
    ops."""
    from apps.backoffice.services import staff_action_record
    from apps.backoffice.tests.admin_world import (
        make_member,
        make_pool,
        make_transactions,
        secret_operator,
    )

    pool = make_pool(secret_operator(code), 1, snapshots=0)
    first = make_member(pool, 1)
    follower, session = first.follower, first.session
    members = [first]
    for i in range(1, positions):
        members.append(
            Position.objects.create(
                pool=pool,
                follower=follower,
                session=session,
                contributed=D(10 + i),
                units=D(10),
                status="closed" if i % 2 else "active",
                payout=D(12 + i) if i % 2 else None,
            )
        )
    for n, position in enumerate(members):
        make_transactions(position, per_position, start=n * per_position)
    follower_block(follower=follower, reason="blocked by staff ops, chargebacks")
    staff_action_record(
        user=staff_user(f"ops-{code}", "Operations"),
        action="follower_block",
        target=follower,
        reason="Chargebacks on three deposits",
        outcome="done",
        message="blocked",
    )
    return Follower.objects.get(pk=follower.pk)


@pytest.mark.parametrize("group", ["Operations", "Finance", "Read-only"])
def test_the_follower_page_has_what_a_ticket_needs(client, group):
    from apps.backoffice.admin_people_panels import LATEST
    from apps.core.admin_display import money
    from apps.followers.models import PlayerSession
    from apps.transactions.models import Transaction
    from apps.transactions.selectors import follower_net_result

    follower = _follower_with_history(positions=3, per_position=10)
    _follower_with_history(positions=2, per_position=3, code="other")  # never on their page
    client.force_login(staff_user("reader", group))
    # when
    response = client.get(follower_url(follower))
    page = response.content.decode()
    # then: who, and the block with who and why
    assert response.status_code == 200
    summary = page.split('class="cp-summary"')[1].split('class="cp-see-all"')[0]
    assert follower.operator_user_id in summary and follower.operator.name in summary
    block = summary.split('class="cp-summary-block"')[1].split("</section>")[0]
    assert 'cp-badge--bad">blocked' in block
    assert "<dd>ops-ticket</dd>" in block and "Chargebacks on three deposits" in block
    # Block/Unblock only for who may act
    assert ("/act/follower_unblock/" in block) == (group == "Operations")
    # the counts: 2 open (the first and the active one), 1 closed
    positions = summary.split('class="cp-summary-positions"')[1].split("</section>")[0]
    assert ">2</a>" in positions and ">1</a>" in positions
    # the net result, as the selector has it
    [result] = follower_net_result(follower=follower)
    net = summary.split('class="cp-table cp-net-result"')[1].split("</table>")[0]
    assert str(money(result.net)) in net and str(money(result.debited)) in net
    # the latest transactions, each linked with its saga and its calls
    table = page.split('class="cp-table cp-latest-transactions"')[1].split("</table>")[0]
    latest = Transaction.objects.filter(follower=follower).order_by("-created_at", "-id")
    assert table.count("<tr>") == LATEST + 1  # the header and the latest 20 of 30
    newest = latest.select_related("saga").first()
    assert newest is not None and newest.saga is not None
    assert reverse("admin:transactions_transaction_change", args=[newest.pk]) in table
    assert reverse("admin:transactions_saga_change", args=[newest.saga.pk]) in table
    assert f"?q={newest.external_id}" in table and ">1 call</a>" in table
    assert str(money(newest.amount, "USD")) in table
    oldest = latest.last()
    assert oldest is not None
    assert reverse("admin:transactions_transaction_change", args=[oldest.pk]) not in table
    # the sessions
    session = PlayerSession.objects.get(follower=follower)
    assert reverse("admin:followers_playersession_change", args=[session.pk]) in page
    # the positions inline links each position and its pool
    position = Position.objects.filter(follower=follower).first()
    assert position is not None
    assert reverse("admin:followers_position_change", args=[position.pk]) in page
    assert reverse("admin:pools_pool_change", args=[position.pool_id]) in page
    # the "see all" links, each to a list of this follower's rows only
    links = page.split('class="cp-see-all"')[1].split("</p>")[0]
    wanted = {
        "positions": ("admin:followers_position_changelist", 3),
        "transactions": ("admin:transactions_transaction_changelist", 30),
        "sessions": ("admin:followers_playersession_changelist", 1),
        "operator calls": ("admin:operators_calllog_changelist", 30),
        "staff actions": ("admin:backoffice_staffaction_changelist", 1),
    }
    for name, (url_name, rows) in wanted.items():
        href = links.split(f">{name}</a>")[0].rsplit('href="', 1)[1].split('"')[0]
        href = href.replace("&amp;", "&")
        assert href.startswith(reverse(url_name))
        listed = client.get(href)
        assert listed.status_code == 200, name
        assert listed.context["cl"].result_count == rows, name


def test_the_call_log_filters_by_follower(root):
    from apps.operators.models import CallLog

    mine = _follower_with_history(positions=1, per_position=3)
    _follower_with_history(positions=1, per_position=2, code="other")
    url = reverse("admin:operators_calllog_changelist")
    # when
    listed = root.get(url, {"follower": mine.pk})
    nobody = root.get(url, {"follower": Follower.objects.order_by("-pk")[0].pk + 1})
    garbage = root.get(url, {"follower": "x"})
    # then
    assert CallLog.objects.count() == 5
    assert listed.context["cl"].result_count == 3
    assert f"Follower #{mine.pk}" in listed.content.decode()
    assert nobody.context["cl"].result_count == 0
    assert garbage.context["cl"].result_count == 0


def test_the_follower_page_reads_a_fixed_number_of_queries(root):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.followers.models import PlayerSession

    small = _follower_with_history(positions=2, per_position=2)
    big = _follower_with_history(positions=30, per_position=4, code="big")
    session = PlayerSession.objects.get(follower=big)
    for _ in range(15):
        PlayerSession.objects.create(follower=big, currency="USD", expires_at=session.expires_at)
    root.get(follower_url(small))  # warm: the first request reads what later ones cache
    counts = []
    for follower in (small, big):
        with CaptureQueriesContext(connection) as queries:
            assert root.get(follower_url(follower)).status_code == 200
        counts.append(len(queries))
    # then: 30 positions, 120 transactions and 16 sessions cost what 2, 4 and 1 do
    assert counts[1] == counts[0], counts
    assert counts[1] < 40, counts
