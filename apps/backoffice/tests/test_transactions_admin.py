"""The review queue and its actions (retry now, roll back, mark resolved), transaction search,
finance exports (streamed CSV, write-only XLSX), sagas and reconciliation findings."""

import csv
import io
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse

from apps.backoffice import review
from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import build_world, secret_operator, staff_user, superuser
from apps.followers.models import Position
from apps.pools.models import Pool
from apps.transactions.models import DailySettlement, Discrepancy, Saga, Transaction
from apps.transactions.services import position_join

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def root(client):
    user = superuser()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def short_inline_budget(settings):
    # Let a join stop at its first wait instead of retrying inline.
    settings.COPYPOOL_INLINE_SAGA_SECONDS = 0.05


def act(client, tx, action, *, page="backoffice_reviewitem", **data):
    url = reverse(f"admin:{page}_act", args=[tx.pk, action])
    return client.post(url, {"confirm": "yes", **data})


def join(make_session, streamer, user="f1") -> Position:
    return position_join(session=make_session(user), streamer_id=streamer.pk, amount="100")


def deposit_in_doubt(fake, make_session, streamer) -> Transaction:
    """A join whose DEPOSIT transfer was sent and lost: outcome unknown (however fast or slow
    the machine: the transfer keeps timing out until the saga has parked on it)."""
    from apps.transactions.sagas import saga_advance

    fake.fail("transfer", *["timeout_before"] * 100)
    position = join(make_session, streamer)
    saga = Saga.objects.get(position=position)
    for _ in range(20):
        if Transaction.objects.filter(kind="streamer_deposit").exists():
            break
        Saga.objects.filter(pk=saga.pk).update(next_run_at=None)
        saga_advance(saga.pk, budget=1.0)
    fake.faults["transfer"].clear()
    position.refresh_from_db()
    assert position.status == "joining"
    deposit = Transaction.objects.get(kind="streamer_deposit")
    assert deposit.status == "unknown"
    return deposit


def open_never_acknowledged(fake, make_session, streamer) -> Position:
    """A join whose BET succeeded but whose pool OPEN the operator keeps failing."""
    fake.fail("game-pool", *["http_500"] * 10)
    position = join(make_session, streamer)
    saga = Saga.objects.get(kind="join")
    assert (position.status, saga.step) == ("joining", "open_pool")
    return position


# --- the queue -----------------------------------------------------------------------


def test_the_queue_holds_unknown_failed_after_retries_and_flagged_transactions(root):
    world = build_world(pools=1, transactions=35)
    queued = set(review.review_queue().values_list("pk", flat=True))
    # then: exactly the transactions the brief names
    expected = set()
    for tx in world.transactions:
        if (
            tx.status == "unknown"
            or (tx.status == "failed" and tx.attempts >= 2)
            or tx.needs_review
            or (tx.saga.needs_review and tx.status not in ("succeeded", "rolled_back"))
        ):
            expected.add(tx.pk)
    assert queued == expected
    assert len(expected) > 5
    response = root.get(reverse("admin:backoffice_reviewitem_changelist"), {"all": ""})
    assert {t.pk for t in response.context["cl"].result_list} == expected


def test_a_refused_bet_is_not_in_the_queue(root, fake, streamer, make_session):
    fake.wallet["f1"] = D("1")
    position = join(make_session, streamer)
    assert position.failure_code == "ERR_INSUFFICIENT_BALANCE"
    assert not review.review_queue().exists()


def test_mark_resolved_takes_it_out_until_flagged_again(root):
    world = build_world(pools=1, transactions=10)
    tx = next(t for t in world.transactions if t.needs_review)
    # when
    act(root, tx, "transaction_mark_resolved", reason="Operator confirmed the WIN manually")
    # then
    tx.refresh_from_db()
    assert not tx.needs_review
    assert tx.reviewed_by == root.user
    assert tx.review_note.endswith("root] Operator confirmed the WIN manually")
    assert tx.pk not in set(review.review_queue().values_list("pk", flat=True))
    assert tx.pk in set(review.review_queue(state="resolved").values_list("pk", flat=True))
    resolved = root.get(
        reverse("admin:backoffice_reviewitem_changelist"), {"resolution": "resolved"}
    )
    assert tx.pk in {t.pk for t in resolved.context["cl"].result_list}
    # when: the saga flags it again
    Transaction.objects.filter(pk=tx.pk).update(needs_review=True)
    # then
    assert tx.pk in set(review.review_queue().values_list("pk", flat=True))
    action = StaffAction.objects.get()
    assert (action.action, action.outcome) == ("transaction_mark_resolved", "done")


# --- retry now -----------------------------------------------------------------------


def test_retry_now_settles_a_transfer_in_doubt_with_the_same_id(
    root, fake, streamer, make_session, short_inline_budget
):
    deposit = deposit_in_doubt(fake, make_session, streamer)
    assert deposit.status == "unknown"
    first_id = deposit.external_id
    # when
    act(root, deposit, "transaction_retry_now", reason="Operator is back")
    # then: the same transfer id was asked again and the join completed
    deposit.refresh_from_db()
    assert deposit.status == "succeeded" and deposit.external_id == first_id
    assert Position.objects.get().status == "active"
    assert list(fake.transfers) == [first_id]
    action = StaffAction.objects.get()
    assert action.outcome == "done"
    assert "is done" in action.message and "the transaction is succeeded" in action.message


def test_retry_now_offers_no_reason_to_confirm_with_one_click(
    root, fake, streamer, make_session, short_inline_budget
):
    # given a transfer in doubt, whose retry re-sends money
    deposit = deposit_in_doubt(fake, make_session, streamer)
    # when staff open the confirmation page
    url = reverse("admin:backoffice_reviewitem_act", args=[deposit.pk, "transaction_retry_now"])
    page = root.get(url)
    # then the reason is theirs to write: the field is empty, and confirming without one
    # changes nothing
    assert page.status_code == 200
    assert page.context["form"]["reason"].value() in (None, "")
    refused = root.post(url, {"confirm": "yes"})
    assert refused.status_code == 200 and not StaffAction.objects.exists()
    deposit.refresh_from_db()
    assert deposit.status == "unknown"


def test_retry_now_of_a_finished_saga_is_refused(root, fake, streamer, make_session):
    join(make_session, streamer)
    bet = Transaction.objects.get(kind="follower_debit")
    act(root, bet, "transaction_retry_now", page="transactions_transaction", reason="why not")
    action = StaffAction.objects.get()
    assert action.outcome == "refused"
    assert "ERR_SAGA_FINISHED" in action.message


# --- roll back -----------------------------------------------------------------------


def test_roll_back_a_join_whose_deposit_was_never_sent(root, fake, streamer, make_session):
    # given: the BET was taken, OPEN is never acknowledged, no DEPOSIT was sent
    position = open_never_acknowledged(fake, make_session, streamer)
    assert fake.wallet["f1"] == D("400")
    bet = Transaction.objects.get(kind="follower_debit")
    fake.faults["game-pool"].clear()
    # when
    act(root, bet, "transaction_roll_back", reason="Operator cannot open pools today")
    # then: the BET was refunded with a rollback of its own id, the position failed
    bet.refresh_from_db()
    position.refresh_from_db()
    rollback = Transaction.objects.get(kind="follower_rollback")
    assert bet.status == "rolled_back" and rollback.status == "succeeded"
    assert rollback.rolls_back_id == bet.pk and rollback.external_id != bet.external_id
    assert fake.wallet["f1"] == D("500")
    assert (position.status, position.failure_code) == ("failed", "ERR_ROLLED_BACK_BY_STAFF")
    assert Saga.objects.get(kind="join").status == "failed"
    assert not Transaction.objects.filter(kind="streamer_deposit").exists()
    assert StaffAction.objects.get().outcome == "done"


def test_roll_back_cancels_a_priced_but_unsent_deposit_and_frees_the_pool(
    root, fake, streamer, make_session
):
    # given: a crash right after the DEPOSIT was priced (row written, claim held, not sent)
    open_never_acknowledged(fake, make_session, streamer)
    saga = Saga.objects.get(kind="join")
    pool = Pool.objects.get()
    bet = Transaction.objects.get(kind="follower_debit")
    deposit = Transaction.objects.create(
        operator=bet.operator,
        kind="streamer_deposit",
        amount=bet.amount,
        currency="USD",
        saga=saga,
        pool=pool,
        position=bet.position,
        units=D("100"),
        priced_balance=D("1000"),
        priced_total_units=D("1000"),
    )
    Saga.objects.filter(pk=saga.pk).update(step="deposit")
    Pool.objects.filter(pk=pool.pk).update(pricing_saga=saga.pk)
    fake.faults["game-pool"].clear()
    # when
    act(root, deposit, "transaction_roll_back", reason="Stuck after a crash")
    # then: the DEPOSIT can never be sent, the claim is released, the BET refunded
    deposit.refresh_from_db()
    assert (deposit.status, deposit.last_error_code) == ("failed", "ERR_ROLLED_BACK_BY_STAFF")
    assert deposit.external_id not in fake.transfers
    assert Pool.objects.get(pk=pool.pk).pricing_saga is None
    assert fake.wallet["f1"] == D("500")


def test_roll_back_is_refused_while_a_deposit_is_in_doubt(
    root, fake, streamer, make_session, short_inline_budget
):
    deposit = deposit_in_doubt(fake, make_session, streamer)
    saga = Saga.objects.get(kind="join")
    # when
    act(root, deposit, "transaction_roll_back", reason="Impatient")
    # then: nothing changed, and the staff member was told why
    saga.refresh_from_db()
    assert (saga.status, saga.step) == ("running", "deposit")
    assert not Transaction.objects.filter(kind="follower_rollback").exists()
    action = StaffAction.objects.get()
    assert action.outcome == "refused"
    assert "was sent and has no definite answer" in action.message


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("done_join", "its outcome is final"),
        ("leave", "Only a join or a top-up can be rolled back"),
    ],
)
def test_roll_back_is_refused_where_the_flow_does_not_allow_it(
    root, fake, streamer, make_session, case, message
):
    position = join(make_session, streamer)
    if case == "leave":
        fake.fail("deposit", *["http_500"] * 10)
        from apps.transactions.services import position_leave

        position_leave(session=position.session, position_id=position.pk)
        tx = Transaction.objects.get(kind="follower_credit")
    else:
        tx = Transaction.objects.get(kind="streamer_deposit")
    # when
    act(root, tx, "transaction_roll_back", reason="try")
    # then
    action = StaffAction.objects.get()
    assert action.outcome == "refused" and message in action.message


def test_review_item_page_shows_saga_calls_and_answers(root):
    world = build_world(pools=1, transactions=10)
    tx = next(t for t in world.transactions if t.status == "unknown" and t.saga.status == "running")
    page = root.get(reverse("admin:backoffice_reviewitem_change", args=[tx.pk])).content.decode()
    assert f"#{tx.saga_id} Join" in page or f"#{tx.saga_id} Leave" in page
    assert "Calls for this transaction" in page and "wallet/deposit" in page
    assert "&quot;balance&quot;: &quot;1000.5&quot;" in page  # the operator's answer
    assert "Retry now" in page and "Mark resolved" in page


# --- search --------------------------------------------------------------------------


def test_search_finds_a_transaction_by_any_of_its_ids(root):
    world = build_world(pools=2, transactions=20)
    tx = world.transactions[7]
    url = reverse("admin:transactions_transaction_changelist")
    for term in (
        tx.external_id,
        str(tx.pk),
        f"#{tx.pk}",
        tx.operator_reference,
        str(tx.position_id),
        tx.follower.operator_user_id,
    ):
        found = {t.pk for t in root.get(url, {"q": term}).context["cl"].result_list}
        assert tx.pk in found, term
    by_saga = root.get(url, {"q": str(tx.saga_id)}).context["cl"].result_list
    assert tx.pk in {t.pk for t in by_saga}
    nothing = root.get(url, {"q": "no-such-id"}).context["cl"].result_list
    assert list(nothing) == []


def test_filters_by_type_status_operator_currency_and_dates(root):
    world = build_world(pools=1, transactions=10)
    other = secret_operator("other")
    url = reverse("admin:transactions_transaction_changelist")
    today = str(world.transactions[0].created_at.date())
    response = root.get(
        url,
        {
            "kind__exact": "streamer_deposit",
            "status__exact": "succeeded",
            "operator__id__exact": world.operator.pk,
            "currency": "USD",
            "created_at__from": today,
            "created_at__to": today,
        },
    )
    expected = {
        t.pk for t in world.transactions if t.kind == "streamer_deposit" and t.status == "succeeded"
    }
    assert {t.pk for t in response.context["cl"].result_list} == expected
    empty = root.get(url, {"operator__id__exact": other.pk}).context["cl"].result_list
    assert list(empty) == []
    before = root.get(url, {"created_at__to": "2000-01-01"}).context["cl"].result_list
    assert list(before) == []


# --- exports -------------------------------------------------------------------------


def export(client, admin_name: str, fmt: int, query: str = ""):
    url = reverse(f"admin:{admin_name}_export") + query
    return client.post(url, {"format": str(fmt), "resource": "0"} | _all_fields(admin_name))


def _all_fields(admin_name: str) -> dict:
    from apps.transactions.resources import DailySettlementResource, TransactionResource

    resource = (
        TransactionResource if admin_name.endswith("transaction") else DailySettlementResource
    )
    prefix = resource.__name__.lower()
    return {f"{prefix}_{name}": "on" for name in resource().get_export_order()}


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_csv_export_streams_the_filtered_rows(root):
    world = build_world(pools=2, transactions=30)
    Transaction.objects.filter(pk=world.transactions[3].pk).update(last_error_code="=HYPERLINK()")
    # when: only the unknown transactions
    response = export(root, "transactions_transaction", 0, "?status__exact=unknown")
    # then
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    expected = {t.external_id: t for t in world.transactions if t.status == "unknown"}
    assert {r["external_id"] for r in rows} == set(expected)
    row = rows[0]
    tx = expected[row["external_id"]]
    assert row["amount"] == f"{tx.amount:.8f}"
    assert row["operator"] == "acme" and row["follower_user_id"] == tx.follower.operator_user_id
    assert row["created_at"].endswith("+00:00")
    # and the file says how many rows it holds, the response what filter made it
    assert f'-{len(expected)}-rows.csv"' in response["Content-Disposition"]
    assert response["X-Export-Filter"] == "status__exact=unknown"


def test_an_export_whose_filter_does_not_apply_is_a_bad_request_not_a_server_error(root):
    build_world(pools=1, transactions=2)
    response = export(root, "transactions_transaction", 0, "?no_such_field__exact=1")
    assert response.status_code == 400


def test_csv_export_never_lets_text_become_a_formula(root):
    world = build_world(pools=1, transactions=4)
    tx = world.transactions[0]
    Transaction.objects.filter(pk=tx.pk).update(last_error_code="=HYPERLINK(1)")
    rows = list(csv.DictReader(io.StringIO(body(export(root, "transactions_transaction", 0)))))
    assert {r["last_error_code"] for r in rows if r["id"] == str(tx.pk)} == {"'=HYPERLINK(1)"}


def test_xlsx_export_is_a_workbook_with_numeric_amounts(root):
    from openpyxl import load_workbook

    world = build_world(pools=1, transactions=6)
    # when
    response = export(root, "transactions_transaction", 1)
    # then
    assert isinstance(response, FileResponse)
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("id", "external_id", "created_at")
    assert len(rows) - 1 == len(world.transactions)
    amounts = {row[header.index("id")]: row[header.index("amount")] for row in rows[1:]}
    first = world.transactions[0]
    assert amounts[first.pk] == pytest.approx(float(first.amount))
    # and its "about" sheet states the filter, the row count, who and when
    about = dict(workbook["about"].iter_rows(values_only=True))
    assert about["Filter"] == "all rows"
    assert about["Rows written"] == len(world.transactions)
    assert about["Exported by"] == root.user.get_username()
    assert about["Times"].startswith("UTC")


def test_daily_settlements_export(root):
    build_world(pools=1, transactions=2)
    rows = list(csv.DictReader(io.StringIO(body(export(root, "transactions_dailysettlement", 0)))))
    assert len(rows) == DailySettlement.objects.count() == 3
    assert rows[0]["money_out"] == "234.12345678"
    assert rows[0]["operator"] == "acme"
    # CopyStake's fees, exact, beside the streamers' performance fees
    for column in ("turnover_fee", "ggr_fee", "fees", "performance_fees", "fee_schedule"):
        assert column in rows[0]
    row = DailySettlement.objects.order_by("-day", "operator_id", "currency").first()
    assert rows[0]["fees"] == f"{row.fees:.8f}"


@pytest.mark.parametrize("group", ["Operations", "Read-only"])
def test_exports_need_the_finance_permission(client, group):
    build_world(pools=1, transactions=2)
    client.force_login(staff_user("someone", group))
    page = client.get(reverse("admin:transactions_transaction_changelist"))
    assert page.status_code == 200
    assert "export_link" not in page.content.decode()
    assert client.get(reverse("admin:transactions_transaction_export")).status_code == 403


def test_finance_can_export(client):
    build_world(pools=1, transactions=4)
    client.force_login(staff_user("finance", "Finance"))
    page = client.get(reverse("admin:transactions_transaction_changelist"))
    assert "export_link" in page.content.decode()
    response = export(client, "transactions_transaction", 0)
    assert len(body(response).splitlines()) == 1 + Transaction.objects.count()


# --- sagas and findings --------------------------------------------------------------


def test_saga_retry_now(root, fake, streamer, make_session, short_inline_budget):
    deposit_in_doubt(fake, make_session, streamer)
    saga = Saga.objects.get(kind="join")
    url = reverse("admin:transactions_saga_act", args=[saga.pk, "saga_retry_now"])
    root.post(url, {"confirm": "yes", "reason": "Operator is back"})
    assert Saga.objects.get(pk=saga.pk).status == "done"


def test_resolve_a_discrepancy(root):
    world = build_world(pools=1, transactions=2)
    finding = Discrepancy.objects.get()
    url = reverse("admin:transactions_discrepancy_act", args=[finding.pk, "discrepancy_resolve"])
    root.post(url, {"confirm": "yes", "reason": "Operator corrected the balance"})
    finding.refresh_from_db()
    assert finding.state == "resolved"
    assert (finding.resolved_by, finding.resolution_note) == (
        root.user,
        "Operator corrected the balance",
    )
    assert world.operator.pk == finding.operator_id


def test_every_kind_reads_as_words_in_the_list():
    from django.contrib import admin

    from apps.transactions.models import Transaction

    column = admin.site._registry[Transaction].kind_label
    for kind in Transaction.Kind:
        label = column(Transaction(kind=kind.value))
        assert label and label != kind.value, kind
