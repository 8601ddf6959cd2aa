from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.core.tests.commands import run_json_command
from apps.operators.tests.factories import OperatorFactory
from apps.streamers.models import Stream, Streamer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("operator_ref", ["Acme Casino", "acme-casino", "ACME-CASINO"])
def test_create_streamer_by_operator_name_or_code(operator_ref):
    # given
    operator = OperatorFactory(name="Acme Casino", code="acme-casino")
    # when
    printed = run_json_command(
        "create_streamer", "--operator", operator_ref, "--user-id", "s-1", "--currency", "usd"
    )
    # then
    streamer = Streamer.objects.get()
    assert printed == {
        "id": streamer.pk,
        "operatorUserId": "s-1",
        "currency": "USD",
        "name": "s-1",
        "operator": "acme-casino",
    }
    assert streamer.operator == operator
    assert Stream.objects.count() == 0


def test_create_streamer_live_prints_the_stream_id():
    # given
    OperatorFactory(name="Acme Casino", code="acme-casino")
    # when
    printed = run_json_command(
        "create_streamer",
        "--operator",
        "acme-casino",
        "--user-id",
        "s-1",
        "--currency",
        "EUR",
        "--name",
        "Lucky Luke",
        "--live",
    )
    # then
    stream = Stream.objects.get()
    assert printed["streamId"] == str(stream.uid)
    assert printed["name"] == "Lucky Luke"
    assert stream.status == Stream.Status.LIVE
    assert stream.streamer_id == printed["id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operator", "nobody", "--user-id", "s", "--currency", "USD"], "No operator"),
        (["--operator", "acme", "--user-id", "s", "--currency", "US DOLLAR"], "currency"),
        (
            ["--operator", "acme", "--user-id", "  ", "--currency", "USD", "--live"],
            "operator_user_id",
        ),
        (["--operator", "acme", "--user-id", "x" * 129, "--currency", "USD"], "operator_user_id"),
    ],
)
def test_create_streamer_bad_input_creates_nothing(args, message):
    # given
    OperatorFactory(name="Acme", code="acme")
    # when
    with pytest.raises(CommandError) as error:
        call_command("create_streamer", *args, stdout=StringIO())
    # then
    assert message in str(error.value)
    assert Streamer.objects.count() == 0
    assert Stream.objects.count() == 0


def test_create_streamer_refuses_a_duplicate_user():
    # given
    OperatorFactory(name="Acme", code="acme")
    run_json_command(
        "create_streamer", "--operator", "acme", "--user-id", "s-1", "--currency", "USD"
    )
    # when / then
    with pytest.raises(CommandError, match="already exists"):
        run_json_command(
            "create_streamer", "--operator", "acme", "--user-id", "s-1", "--currency", "USD"
        )
    assert Streamer.objects.count() == 1
