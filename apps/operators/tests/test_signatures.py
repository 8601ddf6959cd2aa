import base64
import hashlib
import hmac

from apps.operators.signatures import (
    copystake_signature,
    copystake_verify,
    wallet_signature,
    wallet_verify,
)

SEED_BODY = (
    '{"id":"103193","action":"CREDIT","amount":4.123,"currency":"USD",'
    '"exchangeRate":0.00203250655485,"tokenAmount":2500,"operatorId":123,"operatorUserId":"333"}'
)
SEED_SIGNATURE = (
    "IifPVbfXptagZ6qSXH9vYrQiqSP4sKIC+hV+39z2K+FlLzRoEboPGTTymjmeuAhN1i0ICDyyrrufYspgAJmxHQ=="
)


def test_seed_000_vector_reproduces_byte_for_byte():
    # given / when
    signature = copystake_signature("secret", SEED_BODY.encode())
    # then
    assert signature == SEED_SIGNATURE


def test_copystake_verify_accepts_seed_vector_and_rejects_any_change():
    assert copystake_verify("secret", SEED_BODY.encode(), SEED_SIGNATURE)
    assert not copystake_verify(
        "secret", SEED_BODY.replace("4.123", "4.124").encode(), SEED_SIGNATURE
    )
    assert not copystake_verify("other", SEED_BODY.encode(), SEED_SIGNATURE)
    assert not copystake_verify("secret", SEED_BODY.encode(), None)
    assert not copystake_verify("secret", SEED_BODY.encode(), "")


def test_copystake_verify_works_on_raw_bytes_not_reserialised_json():
    # given: the same JSON value with different spacing signs differently
    spaced = SEED_BODY.replace(",", ", ")
    # then
    assert not copystake_verify("secret", spaced.encode(), SEED_SIGNATURE)


def test_wallet_signature_matches_hand_computed_vector():
    # given: ts + path + query + body, computed by hand with the standard library
    secret, ts = "wallet-secret", "1700000000123"
    body = b'{"amount":10.5,"currency":"ETB","providerTxId":"abc"}'
    expected = hmac.new(
        b"wallet-secret", b"1700000000123" + b"/wallet/withdraw" + b"?x=1" + body, hashlib.sha256
    ).hexdigest()
    # when
    signature = wallet_signature(secret, "http://op.example:8080/wallet/withdraw?x=1", ts, body)
    # then
    assert signature == expected
    assert len(signature) == 64


def test_wallet_signature_without_query_has_no_question_mark():
    body = b"{}"
    expected = hmac.new(b"s", b"1" + b"/deposit" + body, hashlib.sha256).hexdigest()
    assert wallet_signature("s", "http://h/deposit", "1", body) == expected


def test_wallet_verify_checks_skew_and_signature():
    body, ts = b'{"a":1}', "1700000000000"
    signature = wallet_signature("s", "/wallet/auth", ts, body)
    assert wallet_verify("s", "/wallet/auth", ts, body, signature, now_ms=1700000000000 + 299_000)
    assert not wallet_verify(
        "s", "/wallet/auth", ts, body, signature, now_ms=1700000000000 + 301_000
    )
    assert not wallet_verify("s", "/wallet/auth", ts, b'{"a":2}', signature, now_ms=1700000000000)
    assert not wallet_verify("s", "/wallet/auth", "not-a-ts", body, signature, now_ms=1700000000000)


def test_seed_signature_is_standard_padded_base64():
    raw = base64.b64decode(copystake_signature("secret", b"{}"))
    assert len(raw) == 64
