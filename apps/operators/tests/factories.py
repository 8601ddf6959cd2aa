"""Operator factories and request-signing helpers for tests.

``OperatorFactory(api_key="...")`` (or no key: one is generated) stores only the key's digest
and hint, like ``operator_create``; the plain key is left on the instance as ``plain_api_key``.
``make_operator(**kw)`` returns ``(operator, credentials)`` with every plain credential, and
``signed_headers(credentials, body)`` builds the headers of a correctly signed operator call::

    operator, creds = make_operator()
    body = b'{"id": "abc"}'
    client.post(url, body, content_type="application/json", **signed_headers(creds, body))
"""

import json
import uuid
from typing import Any

import factory

from apps.operators.models import Operator, api_key_digest
from apps.operators.signatures import copystake_signature


class OperatorFactory(factory.django.DjangoModelFactory[Operator]):
    class Meta:
        model = Operator

    name = factory.Sequence(lambda n: f"Operator {n}")
    code = factory.Sequence(lambda n: f"operator-{n}")
    callback_url = "http://operator.test/copystake"
    wallet_url = "http://operator.test/wallet"
    api_key = factory.LazyFunction(lambda: str(uuid.uuid4()))
    operator_api_key = factory.Sequence(lambda n: f"operator-issued-key-{n}")
    secret_key = factory.Sequence(lambda n: f"copystake-secret-{n}")
    wallet_client_id = factory.Sequence(lambda n: f"wallet-client-{n}")
    wallet_secret = factory.Sequence(lambda n: f"wallet-secret-{n}")

    @classmethod
    def _with_digest(cls, kwargs: dict) -> str:
        plain = kwargs.pop("api_key")
        kwargs.setdefault("api_key_digest", api_key_digest(plain))
        kwargs.setdefault("api_key_hint", plain[-4:])
        return plain

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        plain = cls._with_digest(kwargs)
        operator = super()._build(model_class, *args, **kwargs)
        operator.plain_api_key = plain
        return operator

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        plain = cls._with_digest(kwargs)
        operator = super()._create(model_class, *args, **kwargs)
        operator.plain_api_key = plain
        return operator


def make_operator(**kwargs: Any) -> tuple[Operator, dict[str, str]]:
    """A saved operator and its plain credentials, keyed as ``operator_create`` returns them."""
    api_key: str = kwargs.setdefault("api_key", str(uuid.uuid4()))
    operator = OperatorFactory.create(**kwargs)
    return operator, {
        "api_key": api_key,
        "operator_api_key": operator.operator_api_key,
        "secret_key": operator.secret_key,
        "wallet_client_id": operator.wallet_client_id,
        "wallet_secret": operator.wallet_secret,
    }


def signed_headers(credentials: dict[str, str], body: bytes) -> dict[str, str]:
    """Django test-client ``extra`` headers for an operator call signed as the contract says."""
    return {
        "HTTP_X_API_KEY": credentials["api_key"],
        "HTTP_X_REQUEST_SIGNATURE": copystake_signature(credentials["secret_key"], body),
    }


def encode(payload: object) -> bytes:
    return json.dumps(payload).encode()


def post_signed(client, credentials: dict[str, str], path: str, body: bytes, **extra):
    """POST ``body`` to an operator API path with the Django test client, signed."""
    extra.setdefault("content_type", "application/json")
    return client.post(path, body, **signed_headers(credentials, body), **extra)
