"""Idempotent player requests: an ``Idempotency-Key`` header makes a repeat get the first answer.

A view method declares it with ``@idempotent`` (under ``@extend_schema``, which then documents
the header). With no key the method runs as it is. With a key:

* the key is claimed for this request (a fingerprint of its path and body) before anything
  happens; a repeat with the same body answers the recorded first answer, a repeat with another
  body is refused (422 ``IDEMPOTENCY_KEY_REUSED``), and one while the first is still being
  answered is refused (409 ``REQUEST_IN_PROGRESS``);
* the answer is recorded, and a repeat gets it;
* a refusal raised by the view (an ``ApplicationError`` or a validation error: bad input, a
  rule broken, before any money moved) is answered and the key released, untouched, as if
  the request had never come: bad input changes nothing, the key included;
* if the request is interrupted by anything else, the key answers 409
  ``REQUEST_INTERRUPTED`` for ever: the request may have started a money movement (a BET
  may be out), so the key must never start a second one.

Keys belong to one follower (``IdempotencyRecord``, unique per follower and key).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import ApplicationError, Conflict, ErrorCode, ValidationFailed
from apps.core.exceptions import api_exception_handler
from apps.followers.authentication import player_follower
from apps.followers.models import Follower
from apps.transactions.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 128
SCHEMA_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS},
    OpenApiParameter.HEADER,
    required=False,
    description="Repeat a request safely: a repeat with the same key and body gets the first "
    f"answer. 1 to {MAX_KEY_CHARS} characters; a new one (a UUID, say) for every action of "
    "the player, the same one for every retry of it.",
    examples=[
        OpenApiExample("Key", value="6f1d2c9a-7b3e-4e05-9a8c-2d4b6e8f0a13", summary="A UUID")
    ],
)
INTERRUPTED = {
    "errorCode": ErrorCode.REQUEST_INTERRUPTED,
    "errorMessage": "The request was interrupted; check GET positions before retrying with a new key",
}
# Refusals raised before anything started: answered as errors, and the key released.
REFUSALS = (ApplicationError, drf.ValidationError, DjangoValidationError)


def request_fingerprint(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_begin(
    *, follower: Follower, key: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Claim ``key`` for this request; returns the earlier record when the key was used.

    Raises when the key was used for a different request, or is still being processed.
    """
    if not key or len(key) > MAX_KEY_CHARS:
        raise ValidationFailed(
            f"{HEADER} must be 1 to {MAX_KEY_CHARS} characters",
            code=ErrorCode.INVALID_IDEMPOTENCY_KEY,
        )
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(follower=follower, key=key, request_hash=fingerprint)
            return None
    except IntegrityError:
        record = IdempotencyRecord.objects.get(follower=follower, key=key)
    if record.request_hash != fingerprint:
        raise Conflict(
            f"This {HEADER} was used for a different request",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
            status=422,
        )
    if record.response_status is None:
        raise Conflict(
            f"A request with this {HEADER} is in progress", code=ErrorCode.REQUEST_IN_PROGRESS
        )
    return record


def idempotency_finish(*, follower: Follower, key: str, status: int, body: object) -> None:
    IdempotencyRecord.objects.filter(
        follower=follower, key=key, response_status__isnull=True
    ).update(response_status=status, response_body=body)


def idempotency_release(*, follower: Follower, key: str) -> None:
    """Forget a key whose request was refused before anything started."""
    IdempotencyRecord.objects.filter(
        follower=follower, key=key, response_status__isnull=True
    ).delete()


def idempotent[ViewMethod: Callable[..., Response]](method: ViewMethod) -> ViewMethod:
    """Make a player API view method (``post(self, request, ...)``) idempotent by key."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        follower = player_follower(request)
        fingerprint = request_fingerprint({"path": request.path, "body": request.data})
        earlier = idempotency_begin(follower=follower, key=key, fingerprint=fingerprint)
        if earlier is not None:
            return Response(earlier.response_body, status=earlier.response_status)
        try:
            response = method(view, request, *args, **kwargs)
        except REFUSALS as error:
            idempotency_release(follower=follower, key=key)
            return api_exception_handler(error, {"request": request, "view": view})
        except BaseException:
            idempotency_finish(follower=follower, key=key, status=409, body=INTERRUPTED)
            raise
        idempotency_finish(
            follower=follower, key=key, status=response.status_code, body=response.data
        )
        return response

    return wrapper  # type: ignore[return-value]
