"""Pool pages and their confirmed actions: refresh, settle and close, re-send OPEN/CLOSE,
force release; the withdrawal-lock page and its stale locks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import (
    make_member,
    make_pool,
    secret_operator,
    staff_user,
    superuser,
)
from apps.followers.models import Position
from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Stream
from apps.transactions.models import Saga
from apps.transactions.services import position_join

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def root(client):
    user = superuser()
    client.force_login(user)
    client.user = user
    return client


def act(client, pool, action, **data):
    url = reverse("admin:pools_pool_act", args=[pool.pk, action])
    return client.post(url, {"confirm": "yes", **data})


def joined_pool(fake, streamer, make_session, *users: str) -> Pool:
    for user in users:
        position = position_join(session=make_session(user), streamer_id=streamer.pk, amount="100")
        assert position.status == "active"
    return Pool.objects.get(streamer=streamer, state="open")


def test_an_action_first_asks_for_confirmation_and_does_nothing(root, fake, streamer, make_session):
    # given
    pool = joined_pool(fake, streamer, make_session, "f1")
    calls_before = len(fake.calls)
    # when
    response = root.get(reverse("admin:pools_pool_act", args=[pool.pk, "pool_refresh_balance"]))
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert "Refresh balance now: are you sure?" in page
    assert 'name="reason"' in page
    assert len(fake.calls) == calls_before
    assert not StaffAction.objects.exists()


def test_the_confirmation_page_says_what_will_happen_to_each_pool(
    root, fake, streamer, make_session
):
    pool = joined_pool(fake, streamer, make_session, "f1")
    page = root.get(reverse("admin:pools_pool_act", args=[pool.pk, "pool_settle"]))
    text = page.content.decode()
    assert "What will happen" in text
    assert "1 member(s) who contributed 100.00000000" in text


def test_a_reason_is_required(root, fake, streamer, make_session):
    pool = joined_pool(fake, streamer, make_session, "f1")
    response = act(root, pool, "pool_refresh_balance", reason="")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not StaffAction.objects.exists()


def test_refresh_balance_records_balance_snapshot_and_who_and_why(
    root, fake, streamer, make_session
):
    # given: the streamer played since the join
    pool = joined_pool(fake, streamer, make_session, "f1")
    fake.streamer_balance["streamer-1"] = D("1320.12345678")
    # when
    response = act(root, pool, "pool_refresh_balance", reason="Operator reported a big win")
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:pools_pool_change", args=[pool.pk])
    pool.refresh_from_db()
    assert pool.balance == D("1320.12345678")
    snapshot = PoolSnapshot.objects.get(pool=pool)
    assert (snapshot.balance, snapshot.total_units) == (D("1320.12345678"), D("1100"))
    action = StaffAction.objects.get()
    assert (action.user, action.action, action.outcome) == (
        root.user,
        "pool_refresh_balance",
        "done",
    )
    assert (action.target_type, action.target_id) == ("pools.pool", str(pool.pk))
    assert action.reason == "Operator reported a big win"
    assert action.message.startswith("balance 1,320.12345678 USD (was 1,100.00000000)")


def test_refresh_balance_that_the_operator_refuses_is_recorded_as_refused(
    root, fake, streamer, make_session
):
    pool = joined_pool(fake, streamer, make_session, "f1")
    fake.fail("streamer-balance", "refuse:400:ERR_BALANCE_FORBIDDEN")
    # when
    act(root, pool, "pool_refresh_balance", reason="check")
    # then: nothing recorded on the pool, the refusal is on record
    assert pool.snapshots.count() == 0
    action = StaffAction.objects.get()
    assert action.outcome == "refused"
    assert "ERR_BALANCE_FORBIDDEN" in action.message


def test_settle_and_close_pays_everyone_out_and_releases_the_lock(
    root, fake, streamer, make_session
):
    # given: two followers in the pool
    pool = joined_pool(fake, streamer, make_session, "f1", "f2")
    # when
    act(root, pool, "pool_settle", reason="Stream crashed, paying everyone out")
    # then
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("closed", "released")
    assert fake.pool_state["streamer-1"] == "CLOSE"
    assert set(Position.objects.values_list("status", flat=True)) == {"closed"}
    assert fake.wallet["f1"] == fake.wallet["f2"] == D("500")
    action = StaffAction.objects.get()
    assert action.outcome == "done"
    assert action.message == "2 leave(s) started; the pool is now closed"


def test_force_release_is_refused_while_followers_money_is_in_the_pool(
    root, fake, streamer, make_session
):
    pool = joined_pool(fake, streamer, make_session, "f1")
    calls_before = len(fake.calls)
    # when
    act(root, pool, "pool_force_release", reason="Streamer wants to withdraw")
    # then: nothing sent, nothing changed, the refusal and its reason are on record
    assert len(fake.calls) == calls_before
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("open", "locked")
    action = StaffAction.objects.get()
    assert action.outcome == "refused"
    assert "ERR_POOL_HOLDS_MONEY" in action.message
    assert "1 member(s) who contributed 100.00000000" in action.message


def test_force_release_with_override_releases_but_keeps_the_members(
    root, fake, streamer, make_session
):
    pool = joined_pool(fake, streamer, make_session, "f1")
    # when
    act(root, pool, "pool_force_release", reason="Operator escalation #42", override="on")
    # then: CLOSE told, lock released, the pool still holds its member
    assert fake.pool_state["streamer-1"] == "CLOSE"
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("open", "released")
    assert Position.objects.get().status == "active"
    assert StaffAction.objects.get().outcome == "done"


def test_force_release_of_an_empty_pool_closes_it(root, fake, operator, streamer):
    # given: a stale lock: locked, no member (the close never happened)
    pool = Pool.objects.create(
        streamer=streamer,
        operator=operator,
        currency="USD",
        lock_state="locked",
        locked_at=timezone.now() - timedelta(days=2),
        open_sent_at=timezone.now() - timedelta(days=2),
    )
    # when
    act(root, pool, "pool_force_release", reason="Stale lock after an outage")
    # then
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("closed", "released")
    assert fake.pool_state["streamer-1"] == "CLOSE"


def test_force_release_the_operator_does_not_acknowledge_changes_nothing(
    root, fake, operator, streamer
):
    pool = Pool.objects.create(
        streamer=streamer, operator=operator, currency="USD", lock_state="locked"
    )
    fake.fail("game-pool", "http_500")
    act(root, pool, "pool_force_release", reason="Stale lock")
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("open", "locked")
    assert StaffAction.objects.get().outcome == "refused"


def test_resend_open_tells_the_operator_again(root, fake, streamer, make_session):
    pool = joined_pool(fake, streamer, make_session, "f1")
    fake.pool_state.clear()
    # when
    act(root, pool, "pool_resend_game_pool", reason="Operator lost our OPEN")
    # then
    assert fake.pool_state == {"streamer-1": "OPEN"}
    assert (
        StaffAction.objects.get().message == "OPEN acknowledged: the streamer's balance is locked"
    )


def test_resend_close_goes_through_the_waiting_close_saga(root, fake, streamer, make_session):
    # given: the last follower left, but the operator never acknowledged CLOSE
    pool = joined_pool(fake, streamer, make_session, "f1")
    fake.fail("game-pool", *["http_500"] * 5)
    from apps.transactions.services import position_leave

    position = Position.objects.get()
    position_leave(session=position.session, position_id=position.pk)
    pool.refresh_from_db()
    assert pool.state == "closing"
    close = Saga.objects.get(kind="close_pool")
    fake.faults["game-pool"].clear()
    # when
    act(root, pool, "pool_resend_game_pool", reason="Operator is back")
    # then: the saga owning the call recorded the answer
    close.refresh_from_db()
    pool.refresh_from_db()
    assert close.status == "done"
    assert (pool.state, pool.lock_state) == ("closed", "released")
    assert f"retried through saga #{close.pk}" in StaffAction.objects.get().message


@pytest.mark.parametrize("group", ["Finance", "Read-only"])
def test_only_operations_may_act(client, fake, streamer, make_session, group):
    pool = joined_pool(fake, streamer, make_session, "f1")
    client.force_login(staff_user("viewer", group))
    # when
    response = act(client, pool, "pool_force_release", reason="x", override="on")
    page = client.get(reverse("admin:pools_pool_change", args=[pool.pk]))
    # then
    assert response.status_code == 403
    assert page.status_code == 200
    assert "Force release" not in page.content.decode()
    assert Pool.objects.get(pk=pool.pk).lock_state == "locked"


def test_operations_may_act(client, fake, streamer, make_session):
    pool = joined_pool(fake, streamer, make_session, "f1")
    client.force_login(staff_user("ops", "Operations"))
    page = client.get(reverse("admin:pools_pool_change", args=[pool.pk]))
    assert "Force release of the lock" in page.content.decode()
    act(client, pool, "pool_refresh_balance", reason="check")
    assert StaffAction.objects.get().username == "ops"


def test_bulk_action_confirms_then_runs_once_per_pool(root, fake, operator):
    # given: two pools of two streamers
    pools = []
    for n in range(2):
        pool = make_pool(operator, n, snapshots=0)
        pools.append(pool)
    url = reverse("admin:pools_pool_changelist")
    selected = [str(p.pk) for p in pools]
    # when: the action menu first answers with the confirmation page
    first = root.post(url, {"action": "pool_refresh_balance", "_selected_action": selected})
    assert first.status_code == 200
    assert "2 objects" in first.content.decode()
    assert not StaffAction.objects.exists()
    # when: confirmed
    second = root.post(
        url,
        {
            "action": "pool_refresh_balance",
            "_selected_action": selected,
            "confirm": "yes",
            "reason": "Morning check",
        },
    )
    # then
    assert second.status_code == 302
    assert StaffAction.objects.filter(outcome="done", reason="Morning check").count() == 2
    assert PoolSnapshot.objects.filter(pool__in=pools).count() == 2


def test_pool_page_shows_charts_positions_transactions_and_actions(
    root, fake, streamer, make_session
):
    pool = joined_pool(fake, streamer, make_session, "f1")
    for i in range(3):
        PoolSnapshot.objects.create(
            pool=pool,
            balance=D(1000 + i),
            total_units=D(1000),
            nav=D("1.0") + D(i) / 1000,
            members=1,
            taken_at=timezone.now() - timedelta(hours=3 - i),
        )
    # when
    page = root.get(reverse("admin:pools_pool_change", args=[pool.pk])).content.decode()
    # then
    assert page.count('<svg class="cp-chart"') == 2
    assert page.count("<polyline") == 2
    assert "Positions (newest 50)" in page and "Transactions (newest 50)" in page
    assert 'title="1100.00000000">1,100.00<' in page  # the balance: 2 places, exact on hover
    for label in ("Refresh balance now", "Settle and close", "Re-send OPEN/CLOSE", "Force release"):
        assert label in page


def test_pool_history_is_read_only(root, fake, streamer, make_session):
    pool = joined_pool(fake, streamer, make_session, "f1")
    history = root.get(reverse("admin:pools_pool_history", args=[pool.pk]))
    assert history.status_code == 200
    version = pool.history.order_by("history_id").first()
    url = reverse("admin:pools_pool_simple_history", args=[pool.pk, version.history_id])
    assert root.get(url).status_code == 200
    # when: someone tries to revert the pool to an old version
    response = root.post(url, {})
    # then
    assert response.status_code == 403
    assert Pool.objects.get(pk=pool.pk).total_units == D("1100")


# --- withdrawal locks ----------------------------------------------------------------


def test_withdrawal_locks_lists_locked_pools_and_flags_stale_ones(root):
    operator = secret_operator("locks")
    fresh = make_pool(operator, 1, locked_hours_ago=1)
    make_member(fresh, 1, contributed=D("250.5"))
    old = make_pool(operator, 2, locked_hours_ago=30)
    make_member(old, 2)
    empty = make_pool(operator, 3, locked_hours_ago=1)
    offline = make_pool(operator, 4, locked_hours_ago=1, live=False)
    make_member(offline, 4)
    make_pool(operator, 5, locked=False)  # not locked: not listed
    url = reverse("admin:backoffice_withdrawallock_changelist")
    # when
    response = root.get(url)
    stale = root.get(url, {"stale": "yes"})
    # then
    listed = [p.pk for p in response.context["cl"].result_list]
    assert listed == [old.pk, fresh.pk, empty.pk, offline.pk]  # oldest lock first
    assert {p.pk for p in stale.context["cl"].result_list} == {old.pk, empty.pk, offline.pk}
    page = response.content.decode()
    assert page.count('class="cp-stale') == 3
    assert "250.50000000" in page
    assert "no members" in page and "streamer not live" in page and "locked over 1 d 6 h" in page


def test_a_closed_pool_is_not_a_lock(root):
    operator = secret_operator("closed")
    pool = make_pool(operator, 1)
    Pool.objects.filter(pk=pool.pk).update(state="closed")
    Stream.objects.all().delete()
    response = root.get(reverse("admin:backoffice_withdrawallock_changelist"))
    assert list(response.context["cl"].result_list) == []
