"""Importing streamers in the back office (django-import-export): CSV and XLSX, a preview
that writes nothing, a confirmed import through the services, and a file with bad rows that
imports nothing and says what is wrong with each row."""

import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl.worksheet.worksheet import Worksheet

from apps.backoffice.tests.admin_world import staff_user
from apps.operators.tests.factories import OperatorFactory
from apps.streamers.models import Streamer

D = Decimal
pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:streamers_streamer_import")
PROCESS_URL = reverse("admin:streamers_streamer_process_import")
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # StreamerAdmin.import_formats
HEADER = (
    "operator,operator_user_id,display_name,currency,min_contribution,max_contribution,"
    "max_followers,max_pool_value,is_private"
)


@pytest.fixture
def ops(client):
    client.force_login(staff_user("ops", "Operations"))
    return client


@pytest.fixture
def acme(db):
    return OperatorFactory(
        name="Acme", code="acme", min_contribution=D("1"), max_contribution=D("10000")
    )


def csv_file(*rows: str, header: str = HEADER) -> SimpleUploadedFile:
    text = "\n".join([header, *rows]) + "\n"
    return SimpleUploadedFile("streamers.csv", text.encode(), content_type="text/csv")


def xlsx_file(rows: list[list]) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.append(HEADER.split(","))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(
        "streamers.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def preview(client, upload, file_format=CSV_FORMAT):
    return client.post(IMPORT_URL, {"import_file": upload, "format": file_format})


def confirm(client, preview_response):
    html = preview_response.content.decode()
    assert 'name="confirm"' in html, "no confirm step offered"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    return client.post(PROCESS_URL, {**fields, "confirm": "Confirm import"})


def test_csv_import_previews_then_creates_through_the_service(ops, acme):
    # given
    upload = csv_file(
        "acme,s-1,Lucky Luke,USD,5,250.5,20,,false",
        "acme,s-2,,eur,,,,100000,yes",
    )
    # when: the dry run
    response = preview(ops, upload)
    # then: a preview of two new rows, nothing written
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<tr class="new">') == 2
    assert not Streamer.objects.exists()
    # when: confirmed
    done = confirm(ops, response)
    # then
    assert done.status_code == 302
    luke = Streamer.objects.get(operator_user_id="s-1")
    assert (luke.display_name, luke.currency) == ("Lucky Luke", "USD")
    assert (luke.min_contribution, luke.max_contribution, luke.max_followers) == (
        D("5"),
        D("250.5"),
        20,
    )
    assert luke.max_pool_value is None and luke.is_private is False
    second = Streamer.objects.get(operator_user_id="s-2")
    assert (second.display_name, second.currency, second.is_private) == ("s-2", "EUR", True)
    assert second.max_pool_value == D("100000")
    # each row is in Django's admin log
    assert LogEntry.objects.filter(change_message__icontains="import").count() == 2


def test_xlsx_import_reads_numbers_as_numbers(ops, acme):
    upload = xlsx_file(
        [
            ["acme", 70017, "Numeric Nora", "USD", 2.5, 1000, 15, None, True],
            ["acme", "s-x", None, "GBP", None, None, None, 5000.25, False],
        ]
    )
    response = preview(ops, upload, XLSX_FORMAT)
    assert response.status_code == 200
    assert confirm(ops, response).status_code == 302
    nora = Streamer.objects.get(operator_user_id="70017")
    assert (nora.min_contribution, nora.max_contribution, nora.max_followers) == (
        D("2.5"),
        D("1000"),
        15,
    )
    assert nora.is_private is True
    assert Streamer.objects.get(operator_user_id="s-x").max_pool_value == D("5000.25")


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_row(ops, acme):
    # given: s-0 streams already, in USD
    Streamer.objects.create(
        operator=acme, operator_user_id="s-0", display_name="Zero", currency="USD"
    )
    upload = csv_file(
        "acme,s-1,Good,USD,,,,,",  # row 1: fine
        "acme,s-2,Bad currency,US DOLLAR,,,,,",  # row 2
        "nobody,s-3,Unknown operator,USD,,,,,",  # row 3
        "acme,s-1,Twice,USD,,,,,",  # row 4: s-1 again
        "acme,s-5,Bad amount,USD,-5,1.123456789,,,",  # row 5
        "acme,s-0,Other currency,EUR,,,,,",  # row 6: currency is fixed
        "acme,s-7,Min above max,USD,500,100,,,",  # row 7
        "acme,s-8,Bad flag,USD,,,0,,maybe",  # row 8
    )
    # when
    response = preview(ops, upload)
    # then: no confirm step, every bad row with its number and reason
    page = response.content.decode()
    assert 'name="confirm"' not in page
    reasons = dict(
        re.findall(r'data-row="(\d+)">\s*<td>\d+</td>\s*<td[^>]*>(.*?)</td>', page, re.S)
    )
    assert set(reasons) == {"2", "3", "4", "5", "6", "7", "8"}
    assert "must be 3 to 8 capital letters" in reasons["2"]
    assert "unknown operator &#x27;nobody&#x27;" in reasons["3"]
    assert "duplicate user: s-1 of acme is on row 1 already" in reasons["4"]
    assert (
        "bad amount &#x27;-5&#x27;" in reasons["5"] and "more than 8 decimal places" in reasons["5"]
    )
    assert "currency" in reasons["6"] and "fixed" in reasons["6"]
    assert "is above the maximum 100" in reasons["7"]
    assert "max_followers" in reasons["8"] and "is_private" in reasons["8"]
    # and nothing was imported, not even the good row
    assert list(Streamer.objects.values_list("operator_user_id", flat=True)) == ["s-0"]


def test_an_existing_streamer_is_updated_but_keeps_its_operator_and_currency(ops, acme):
    # given
    zero = Streamer.objects.create(
        operator=acme,
        operator_user_id="s-0",
        display_name="Zero",
        currency="USD",
        min_contribution=D("3"),
    )
    upload = csv_file("acme,s-0,,USD,,99,,,true")
    # when
    response = preview(ops, upload)
    assert '<tr class="update">' in response.content.decode()
    confirm(ops, response)
    # then: the name kept (empty cell), limits as the row says, private
    zero.refresh_from_db()
    assert (zero.display_name, zero.currency) == ("Zero", "USD")
    assert (zero.min_contribution, zero.max_contribution, zero.is_private) == (None, D("99"), True)


def test_a_column_left_out_is_left_as_it_is(ops, acme):
    zero = Streamer.objects.create(
        operator=acme,
        operator_user_id="s-0",
        display_name="Zero",
        currency="USD",
        max_followers=9,
    )
    upload = csv_file(
        "acme,s-0,Zero Two,USD", header="operator,operator_user_id,display_name,currency"
    )
    confirm(ops, preview(ops, upload))
    zero.refresh_from_db()
    assert (zero.display_name, zero.max_followers) == ("Zero Two", 9)


def test_a_file_without_the_required_columns_is_refused(ops, acme):
    upload = csv_file("acme,s-1", header="operator,operator_user_id")
    page = preview(ops, upload).content.decode()
    assert (
        "The file needs the columns operator, operator_user_id, currency; missing: currency" in page
    )
    assert 'name="confirm"' not in page
    assert not Streamer.objects.exists()


def test_a_row_that_turned_bad_after_the_preview_rolls_the_whole_file_back(ops, acme):
    # given: a clean preview of two rows
    response = preview(ops, csv_file("acme,s-1,One,USD,,,,,", "acme,s-2,Two,USD,,,,,"))
    assert 'name="confirm"' in response.content.decode()
    # when: meanwhile s-2 is registered in another currency, then staff confirm
    Streamer.objects.create(operator=acme, operator_user_id="s-2", display_name="T", currency="EUR")
    done = confirm(ops, response)
    # then: nothing of the file was imported, and staff are told why
    assert done.status_code == 302
    assert done["Location"] == IMPORT_URL
    assert not Streamer.objects.filter(operator_user_id="s-1").exists()
    assert Streamer.objects.get(operator_user_id="s-2").currency == "EUR"
    message = [str(m) for m in ops.get(IMPORT_URL).context["messages"]]
    assert message and message[0].startswith("Nothing was imported: row 2: currency:")


def test_the_import_page_says_which_columns_it_needs(ops):
    page = ops.get(IMPORT_URL).content.decode()
    assert "Required columns: <code>operator</code>" in page
    assert "the file imports whole or not at all" in page
