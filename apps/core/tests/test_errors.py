"""The error catalogue: every code defined once, used by name, rendered in the API docs."""

import re
from pathlib import Path

import pytest

from apps.core.errors import (
    ApplicationError,
    Conflict,
    ErrorCode,
    catalogue_markdown,
    http_status_code,
    wallet_status_code,
)

APPS = Path(__file__).resolve().parents[2]
CATALOGUE = APPS / "core" / "errors.py"
CODE = re.compile(r"ERR_[A-Z]")


def _sources() -> list[Path]:
    return [
        path
        for path in APPS.rglob("*.py")
        if path != CATALOGUE and "migrations" not in path.parts and "tests" not in path.parts
    ]


def test_no_error_code_is_written_inline_outside_the_catalogue():
    # given every application module (tests and migrations aside)
    offenders = []
    for path in _sources():
        # then no ERR_ literal, in code, strings, docstrings or comments alike
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if CODE.search(line):
                offenders.append(f"{path.relative_to(APPS.parent)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_code_is_unique_prefixed_and_has_a_status_and_meaning():
    values = [code.value for code in ErrorCode]
    assert len(values) == len(set(values))
    for code in ErrorCode:
        assert code.value.startswith("ERR_") and code.value == code.value.upper()
        assert 400 <= code.status < 500
        assert code.meaning.strip()


def test_codes_travel_as_their_plain_value():
    assert ErrorCode.POOL_BUSY == "ERR_POOL_BUSY"
    assert f"{ErrorCode.POOL_BUSY}" == "ERR_POOL_BUSY"
    assert http_status_code(502) == "ERR_HTTP_502"
    assert wallet_status_code(418) == "ERR_WALLET_418"


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (Conflict("x"), "ERR_CONFLICT", 409),
        (
            ApplicationError("x", code=ErrorCode.IDEMPOTENCY_KEY_REUSED),
            "ERR_IDEMPOTENCY_KEY_REUSED",
            422,
        ),
        (ApplicationError("x", code="ERR_FOLLOWER_LIMIT"), "ERR_FOLLOWER_LIMIT", 409),
        (ApplicationError("x", code="ERR_OPERATORS_OWN"), "ERR_OPERATORS_OWN", 400),
        (Conflict("x", code=ErrorCode.INVALID_AMOUNT, status=418), "ERR_INVALID_AMOUNT", 418),
    ],
)
def test_an_error_takes_its_status_from_its_catalogue_code(error, code, status):
    assert (error.code, error.status) == (code, status)


def test_the_catalogue_is_rendered_in_the_api_docs(client):
    # when
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    # then
    description = schema["info"]["description"]
    assert "## Error codes" in description
    for code in ErrorCode:
        assert f"| `{code.value}` | {code.status} |" in description
    assert catalogue_markdown() in description
