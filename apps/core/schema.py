"""OpenAPI schema hooks (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

from apps.core.errors import ErrorCode, catalogue_markdown


def add_error_catalogue(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Append the error catalogue (every ``errorCode``, its status and meaning) to the API's
    description, so the docs show what each error answer means."""
    info = result.setdefault("info", {})
    info["description"] = (
        f"{info.get('description', '')}\n\n"
        "## Error codes\n\n"
        "Every error is answered as `{errorCode, errorMessage}` with a 4xx status. A join that "
        "fails carries the wallet's or operator's own code where they gave one.\n\n"
        f"{catalogue_markdown()}\n"
    )
    return result


def error_example(
    code: ErrorCode,
    message: str,
    *,
    status: int | None = None,
    summary: str = "",
    extra: dict[str, Any] | None = None,
) -> OpenApiExample:
    """A response example of an error answer, ``{errorCode, errorMessage}`` (and ``extra``,
    such as a failed join's ``position``), under the status the code is answered with (the
    catalogue's, unless the operation answers it with another)."""
    status = status or code.status
    return OpenApiExample(
        code.name.title().replace("_", ""),
        value={"errorCode": code.value, "errorMessage": message, **(extra or {})},
        summary=summary or f"{status} {code.value}: {code.meaning}",
        response_only=True,
        status_codes=[str(status)],
    )


# The two APIs as the docs group them: views tag their operations "operator" or "player".
TAGS = {
    "operator": (
        "Operator API",
        "Called by the casino operator's backend: signed with `X-API-KEY` and "
        "`X-REQUEST-SIGNATURE` over the raw body (SPEC section 6), from an allowed IP.",
    ),
    "player": (
        "Player API",
        "Called by the player page for one follower: `Authorization: Bearer <token>` from the "
        "page URL that `init` returns.",
    ),
}


# How each API's operations authenticate, said at the end of every operation's description.
AUTH = {
    "operator": "**Auth:** `X-API-KEY` (the key CopyStake issued) and `X-REQUEST-SIGNATURE` "
    "(Base64 HMAC-SHA512 of the hex MD5 of the raw body); from an allowed IP when the operator "
    "has an allowlist.",
    "player": "**Auth:** `Authorization: Bearer <token>`, the player token of the page URL "
    "that `init` or `init-demo` returned.",
}


def name_tags(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Give the operations' short tags their names in the docs ("Operator API", "Player API"),
    each with what calls it and how it authenticates, in that order; every operation's
    description ends with how it authenticates."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "tags" in operation:
                auth = next((AUTH[tag] for tag in operation["tags"] if tag in AUTH), None)
                if auth:
                    text = operation.get("description", "").rstrip()
                    operation["description"] = f"{text}\n\n{auth}" if text else auth
                operation["tags"] = [TAGS[t][0] if t in TAGS else t for t in operation["tags"]]
    result["tags"] = [{"name": name, "description": text} for name, text in TAGS.values()]
    return result
