"""The streamer pages in a real browser, as an Operations user: create a streamer with a
limit, suspend it paying its pool out (confirmed), see the audit row; import a small CSV
through the import page (preview, confirm)."""

from decimal import Decimal

import pytest

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user
from apps.followers.models import Position
from apps.pools.models import Pool
from apps.streamers.models import Streamer
from apps.streamers.services import stream_start
from apps.transactions.services import position_join

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ops_page(page, live_server, operator):
    staff_user("ops", "Operations")  # password "pw"
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector(".cp-cards")
    return page


def test_create_a_streamer_with_a_limit_then_suspend_it_paying_out(
    ops_page, live_server, operator, fake, make_session, screenshot
):
    page = ops_page
    # when: the add form, with a maximum contribution of its own
    page.goto(f"{live_server.url}/admin/streamers/streamer/add/")
    page.select_option("#id_operator", label=operator.name)
    page.fill("#id_operator_user_id", "lucky-1")
    page.fill("#id_display_name", "Lucky Luke")
    page.fill("#id_currency", "USD")
    page.fill("#id_max_contribution", "250")
    page.fill("#id_change_reason", "Signed up for the autumn season")
    screenshot("streamers-01-add")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    # then: created through the service, the limit in force on its page
    streamer = Streamer.objects.get(operator_user_id="lucky-1")
    assert streamer.max_contribution == Decimal("250")
    assert "joins of 1.00000000 USD to 250.00000000 USD" in page.content()
    screenshot("streamers-02-created")

    # given: it goes live and a follower joins its pool
    stream_start(streamer=streamer)
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert position.status == "active"
    pool = Pool.objects.get(streamer=streamer, state="open")
    # when: Suspend, confirming "pay it out now"
    page.reload()
    page.click("a.cp-action:has-text('Suspend')")
    page.wait_for_selector("textarea[name=reason]")
    assert f"open pool #{pool.pk}: 1 member(s) who contributed 100.00000000" in page.content()
    page.check("input[name=pay_out][value=now]")
    page.fill("textarea[name=reason]", "Breach of the streaming terms")
    screenshot("streamers-03-suspend-confirm")
    page.click("input[type=submit][value^='Yes']")
    page.wait_for_selector(".messagelist")
    # then: suspended, the pool paid out and closed, the audit row on the page
    assert "suspended; 1 leave(s) started in 1 pool(s)" in page.locator(".messagelist").inner_text()
    panel = page.locator(".field-staff_actions_taken")
    assert "Suspend streamer" in panel.inner_text()
    assert "Breach of the streaming terms" in panel.inner_text()
    screenshot("streamers-04-suspended")
    assert Streamer.objects.get(pk=streamer.pk).status == "suspended"
    pool.refresh_from_db()
    assert pool.state == "closed"
    assert pool.close_reason == "streamer suspended by staff ops, Breach of the streaming terms"
    assert Position.objects.get(pk=position.pk).status == "closed"
    action = StaffAction.objects.get(action="streamer_suspend")
    assert (action.username, action.outcome) == ("ops", "done")


def test_import_a_small_csv_with_preview_and_confirm(ops_page, live_server, operator, screenshot):
    page = ops_page
    csv = (
        "operator,operator_user_id,display_name,currency,min_contribution,max_contribution,"
        "max_followers,max_pool_value,is_private\n"
        f"{operator.code},imp-1,Imported One,USD,2,500,,,false\n"
        f"{operator.code},imp-2,Imported Two,USD,,,50,20000,true\n"
    )
    page.goto(f"{live_server.url}/admin/streamers/streamer/")
    page.click("a.import_link")
    page.wait_for_selector("input[name=import_file]")
    # first a file with a bad row: each reason in plain sight, no confirm step
    bad = csv.replace("imp-2,Imported Two,USD", "imp-2,Imported Two,US$")
    page.set_input_files(
        "input[name=import_file]",
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}],
    )
    page.select_option("select[name=format]", label="csv")
    page.click("input[type=submit]")
    page.wait_for_selector("tr.cp-import-invalid-row")
    row = page.locator("tr.cp-import-invalid-row")
    assert row.count() == 1 and row.get_attribute("data-row") == "2"
    assert "must be 3 to 8 capital letters" in row.inner_text()
    assert page.locator("input[name=confirm]").count() == 0
    screenshot("streamers-05a-import-bad-rows")
    assert not Streamer.objects.filter(operator_user_id__startswith="imp-").exists()
    # then the good file
    page.set_input_files(
        "input[name=import_file]",
        files=[{"name": "streamers.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    page.select_option("select[name=format]", label="csv")
    screenshot("streamers-05-import-form")
    page.click("input[type=submit]")
    # then: the preview lists two new rows and nothing is imported yet
    page.wait_for_selector("table.import-preview")
    assert page.locator("table.import-preview tr.new").count() == 2
    assert not Streamer.objects.filter(operator_user_id__startswith="imp-").exists()
    screenshot("streamers-06-import-preview")
    page.click("input[name=confirm]")
    page.wait_for_selector(".messagelist")
    assert "Import finished: 2 new" in page.locator(".messagelist").inner_text()
    screenshot("streamers-07-imported")
    two = Streamer.objects.get(operator_user_id="imp-2")
    assert (two.max_followers, two.max_pool_value, two.is_private) == (50, Decimal("20000"), True)
    assert Streamer.objects.get(operator_user_id="imp-1").min_contribution == Decimal("2")
