"""OpenAPI schema hooks (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from apps.core.errors import catalogue_markdown


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


def name_tags(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Give the operations' short tags their names in the docs ("Operator API", "Player API"),
    each with what calls it and how it authenticates, in that order."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "tags" in operation:
                operation["tags"] = [TAGS[t][0] if t in TAGS else t for t in operation["tags"]]
    result["tags"] = [{"name": name, "description": text} for name, text in TAGS.values()]
    return result
