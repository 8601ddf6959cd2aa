"""Validating real API bodies against the served OpenAPI schema's components."""

import uuid
from decimal import Decimal, InvalidOperation

import jsonschema_rs


def _as_json_schema(node):
    """OpenAPI 3.0's ``nullable: true`` in JSON Schema (Draft 4) terms; the rest is the same."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def component_validator(schema: dict, name: str) -> jsonschema_rs.Draft4Validator:
    """A validator of bodies against ``#/components/schemas/<name>`` of ``schema``."""
    return jsonschema_rs.Draft4Validator(
        {
            "$ref": f"#/components/schemas/{name}",
            "components": _as_json_schema(schema["components"]),
        }
    )


def _closed(node):
    """Every object with ``properties`` refuses others: a misspelt field fails."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    closed = {key: _closed(value) for key, value in node.items()}
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _is_decimal(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def strict_validator(schema: dict, node: dict) -> jsonschema_rs.Draft4Validator:
    """A validator of values against ``node`` (a media type's schema, ``$ref`` or inline) of
    ``schema``, stricter than the schema alone: no field it does not name, formats checked
    (``date-time``; ``uuid`` in its canonical form, ``decimal`` a finite decimal string)."""
    return jsonschema_rs.Draft4Validator(
        {
            **_closed(_as_json_schema(node)),
            "components": _closed(_as_json_schema(schema["components"])),
        },
        validate_formats=True,
        formats={"uuid": _is_uuid, "decimal": _is_decimal},
    )
