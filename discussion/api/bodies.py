"""Reading a JSON request body: the media type, UTF-8, JSON, then the operation's schema
from the OpenAPI document (JSON Schema 2020-12, as OpenAPI 3.1 uses), so what the
document says is what is checked. Every failure is a problem with a reason."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from . import document
from .problems import Problem


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def json_body(schema_name: str) -> dict[str, Any]:
    """The body as a JSON object valid under ``components/schemas/<schema_name>``."""
    if request.mimetype != "application/json":
        raise Problem("unsupported-media-type", "Send the body as application/json.")
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413 before reading
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(
            "invalid-encoding", f"The body is not valid UTF-8 (byte {error.start})."
        ) from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise Problem("invalid-json", "The body nests too deeply.") from None
    except ValueError as error:
        raise Problem("invalid-json", f"The body is not valid JSON: {error}.") from None
    errors = field_errors(schema_name, value)
    if errors:
        raise Problem("invalid-fields", "Some fields are not valid; see errors.", errors=errors)
    return value


def field_errors(schema_name: str, value: Any) -> list[dict[str, str]]:
    """Each way ``value`` breaks the schema, as ``{"field", "detail"}`` (``field`` is
    empty when the whole body is wrong)."""
    found = []
    for error in sorted(_validator(schema_name).iter_errors(value), key=lambda e: e.path):
        found.append(_describe(error))
    return found


def _describe(error: ValidationError) -> dict[str, str]:
    field = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        names = ", ".join(unknown)
        return {"field": unknown[0] if len(unknown) == 1 else field, "detail": f"Unknown: {names}."}
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else field
        return {"field": missing, "detail": "This field is required."}
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return {"field": field, "detail": f"Must be of type {wanted}."}
    return {"field": field, "detail": error.message}


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    schemas = document.components()
    schema = {**schemas[schema_name], "$defs": schemas}
    return Draft202012Validator(_local_refs(schema))


def _local_refs(node: Any) -> Any:
    """Component references (``#/components/schemas/X``) as references into ``$defs``."""
    if isinstance(node, dict):
        return {
            k: (v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" else _local_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_local_refs(v) for v in node]
    return node
