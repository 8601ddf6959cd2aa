"""The operator's IP allowlist: an allowlist that says anything lets in only the addresses it
names; unreadable entries are refused when it is saved and never widen it at request time.
(Inside/outside the allowlist on init: apps/followers/tests/test_operator_api.py.)"""

import pytest
from django.core.exceptions import ValidationError

from apps.operators.models import Operator
from apps.operators.services import operator_create
from apps.operators.tests.factories import encode, make_operator, post_signed

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("/api/v1/copystake/init", {"operatorUserId": "u1", "userToken": "t", "currency": "USD"}),
    ("/api/v1/copystake/init-demo", {}),
    ("/api/v1/copystake/transaction-status", {"id": "no-such-id"}),
    ("/api/v1/copystake/streams/start", {"operatorUserId": "no-such-streamer"}),
    ("/api/v1/copystake/streams/end", {"operatorUserId": "no-such-streamer"}),
]


def with_allowlist(text: str):
    """An operator whose allowlist is ``text`` as stored, bypassing validation (an old row,
    a raw SQL fix): what the request-time check must cope with."""
    operator, credentials = make_operator()
    Operator.objects.filter(pk=operator.pk).update(ip_allowlist=text)
    return credentials


@pytest.mark.parametrize("path, payload", ENDPOINTS)
@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "2001:db8::1"])
def test_an_allowlist_of_nothing_but_garbage_lets_nobody_in(client, path, payload, address):
    credentials = with_allowlist("office-network\nnot an address")
    response = post_signed(client, credentials, path, encode(payload), REMOTE_ADDR=address)
    assert response.status_code == 403
    assert response.json()["errorCode"] == "ERR_FORBIDDEN"


@pytest.mark.parametrize(
    "address, status", [("10.1.2.3", 200), ("192.168.7.7", 403), ("127.0.0.1", 403)]
)
def test_only_the_readable_entries_of_a_mixed_allowlist_count(client, address, status):
    credentials = with_allowlist("10.0.0.0/8\n192.168.7.0/24-typo\nbogus")
    path, payload = ENDPOINTS[1]
    response = post_signed(client, credentials, path, encode(payload), REMOTE_ADDR=address)
    assert response.status_code == status


def test_an_empty_allowlist_allows_any_address(client):
    credentials = with_allowlist(" \n ")
    path, payload = ENDPOINTS[1]
    response = post_signed(client, credentials, path, encode(payload), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200


def test_an_ipv4_client_seen_as_an_ipv6_mapped_address_matches_its_ipv4_entry(client):
    credentials = with_allowlist("198.51.100.0/24")
    path, payload = ENDPOINTS[1]
    response = post_signed(
        client, credentials, path, encode(payload), REMOTE_ADDR="::ffff:198.51.100.20"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("text", ["10.0.0.0/8\nbogus", "garbage", "10.0.0.0/33", "1.2.3.4, x"])
def test_an_allowlist_with_an_unreadable_entry_is_refused_when_saved(text):
    # through the service
    with pytest.raises(ValidationError) as error:
        operator_create(
            name="Acme",
            callback_url="https://casino.example/cb",
            wallet_url="https://casino.example/w",
            ip_allowlist=text,
        )
    assert set(error.value.message_dict) == {"ip_allowlist"}
    assert not Operator.objects.exists()
    # and through the model (the admin form validates the same way)
    operator, _ = make_operator()
    operator.ip_allowlist = text
    with pytest.raises(ValidationError):
        operator.full_clean()
