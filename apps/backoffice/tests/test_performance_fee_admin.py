"""The performance fee in the admin: a streamer's rate and an operator's default edited with
validation (0 to 50, a clear error, nothing changed), audited; positions show their rate,
mark and fees paid, their receipts the gross and the fee."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import secret_operator, staff_user, superuser
from apps.backoffice.tests.test_operators_admin import _config
from apps.backoffice.tests.test_streamers_admin import add_data, change_url, page_form
from apps.core.errors import ErrorCode
from apps.operators.tests.factories import OperatorFactory
from apps.streamers.models import Streamer
from apps.streamers.selectors import streamer_fee_percent
from apps.streamers.services import stream_start, streamer_create, streamer_update
from apps.transactions.models import Receipt
from apps.transactions.services import position_join, position_leave

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)
ADD_URL = reverse("admin:streamers_streamer_add")


@pytest.fixture
def ops(client):
    user = staff_user("ops", "Operations")
    client.force_login(user)
    return client


@pytest.fixture
def acme(db):
    return OperatorFactory(
        name="Acme",
        code="acme",
        min_contribution=D("1"),
        max_contribution=D("10000"),
        default_performance_fee_percent=D(10),
    )


# --- the services ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["-1", "50.0001", "51", "12.34567", "lots", "NaN"])
def test_a_streamer_fee_outside_zero_to_fifty_is_refused_with_its_code(acme, bad):
    with pytest.raises(ValidationError) as refused:
        streamer_create(
            operator=acme, operator_user_id="s-1", currency="USD", performance_fee_percent=bad
        )
    [error] = refused.value.error_dict["performance_fee_percent"]
    assert error.code == ErrorCode.INVALID_FEE
    assert "from 0 to 50" in error.messages[0] or "not a percent" in error.messages[0]
    assert not Streamer.objects.exists()


def test_a_streamer_fee_is_its_own_else_the_operators_and_applies_to_new_positions(
    operator, fake, make_session
):
    # given: no rate of its own: the operator's 10 %
    operator.default_performance_fee_percent = D(10)
    operator.save()
    streamer = streamer_create(operator=operator, operator_user_id="s-1", currency="USD")
    assert streamer_fee_percent(streamer) == D(10)
    stream_start(streamer=streamer, title="live")
    before = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    # when: staff set 25 %
    streamer = streamer_update(streamer=streamer, performance_fee_percent="25")
    # then: a new position pays 25 %, the open one keeps its 10 %
    after = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="10")
    before.refresh_from_db()
    after.refresh_from_db()
    assert (before.performance_fee_percent, after.performance_fee_percent) == (D(10), D(25))
    # and a bad change changes nothing
    with pytest.raises(ValidationError):
        streamer_update(streamer=streamer, performance_fee_percent="60")
    streamer.refresh_from_db()
    assert streamer.performance_fee_percent == D(25)


# --- the streamer page ----------------------------------------------------------------


def test_the_streamer_page_edits_the_fee_with_a_clear_error_and_an_audit(ops, acme):
    # given: a streamer added with a 20 % fee
    response = ops.post(ADD_URL, add_data(acme, performance_fee_percent="20"))
    assert response.status_code == 302, response.content.decode()[:2000]
    streamer = Streamer.objects.get()
    assert streamer.performance_fee_percent == D(20)
    page = ops.get(change_url(streamer)).content.decode()
    assert "Performance fee (empty: the operator&#x27;s default)" in page
    assert "20 % (its own)" in page
    assert "Empty: the operator's default, 10 %." in page
    # when: 60 %: refused on the field, nothing changed, nothing audited
    data = page_form(ops, change_url(streamer))
    data.update(performance_fee_percent="60", change_reason="try")
    refused = ops.post(change_url(streamer), data)
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["performance_fee_percent"]
    streamer.refresh_from_db()
    assert streamer.performance_fee_percent == D(20)
    assert StaffAction.objects.filter(action="streamer_update").count() == 0
    # when: cleared: the operator's default, audited with the reason
    data.update(performance_fee_percent="", change_reason="Back to the default")
    assert ops.post(change_url(streamer), data).status_code == 302
    streamer.refresh_from_db()
    assert streamer.performance_fee_percent is None
    action = StaffAction.objects.get(action="streamer_update")
    assert action.message == "changed performance_fee_percent"
    assert action.reason == "Back to the default"


# --- the operator page ----------------------------------------------------------------


def test_the_operator_default_fee_is_edited_with_validation(client):
    client.force_login(superuser())
    operator = secret_operator("fees")
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    assert 'name="default_performance_fee_percent"' in client.get(url).content.decode()
    response = client.post(
        url, _config(operator, default_performance_fee_percent="15", change_reason="OPS-1")
    )
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.default_performance_fee_percent == D(15)
    for bad in ("50.5", "-1"):
        refused = client.post(
            url, _config(operator, default_performance_fee_percent=bad, change_reason="OPS-2")
        )
        assert refused.status_code == 200
        assert refused.context["adminform"].form.errors["default_performance_fee_percent"]
    operator.refresh_from_db()
    assert operator.default_performance_fee_percent == D(15)
    # the change is in the operator's history, with the reason
    assert operator.history.first().history_change_reason == "OPS-1"


# --- the position page ----------------------------------------------------------------


def test_the_position_page_shows_the_rate_the_mark_the_fees_and_the_receipts_fee(
    client, operator, fake, make_session
):
    client.force_login(superuser())
    streamer = streamer_create(
        operator=operator, operator_user_id="s-1", currency="USD", performance_fee_percent=D(20)
    )
    stream_start(streamer=streamer, title="live")
    session = make_session("f1")
    position = position_join(session=session, streamer_id=streamer.pk, amount="100")
    fake.streamer_balance["s-1"] = fake.streamer_balance["s-1"] * 2
    position_leave(session=session, position_id=position.pk)
    receipt = Receipt.objects.get(kind="leave")
    assert receipt.fee > 0
    page = client.get(reverse("admin:followers_position_change", args=[position.pk]))
    html = page.content.decode()
    assert "Performance fee (fixed when it opened)" in html and "20 %" in html
    assert "Performance fees paid" in html and "High-water mark" in html
    assert "Gross (a leave: the units&#x27; value)" in html
    assert f"{receipt.fee:.8f}" in html  # the exact value, on hover
    assert receipt.fee_external_id in html
    listing = client.get(reverse("admin:followers_position_changelist")).content.decode()
    assert "Performance fees paid" in listing
