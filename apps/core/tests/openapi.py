"""Validating real API bodies against the served OpenAPI schema's components."""

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
