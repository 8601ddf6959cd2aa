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
