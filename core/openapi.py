"""Pieces of the OpenAPI description shared by every ``/api/v1/`` router.

Each operation states every status it can answer, with the JSON error body
(``{"error", "field"}``; a 422 from schema validation adds ``detail``), and the headers it
reads or sends. ``operation(...)`` builds the ``openapi_extra`` that django-ninja merges
into the operation; the routers pass it next to their own ``response=`` schemas.
Schemathesis fuzzes the application against this description
(``tests/test_api_fuzz.py``), so a status or header missing here is a failing test.
"""

from __future__ import annotations

from ninja import Schema
from pydantic import field_validator, model_validator

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "what is wrong, in Vietnamese"},
        "field": {
            "type": ["string", "null"],
            "description": "the field, header or parameter at fault",
        },
        "detail": {
            "type": "array",
            "items": {"type": "object"},
            "description": "422 from schema validation: each failing location",
        },
    },
    "required": ["error"],
}

DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    206: "Partial content (the requested byte range)",
    304: "Not modified: the ETag given in If-None-Match is still current",
    400: "Bad request (names the field)",
    401: "Missing or invalid bearer token",
    403: "The token may not do this (another device's resource, a unit without the role)",
    404: "No such resource for this caller",
    409: "Conflict (the Idempotency-Key was used with another body)",
    413: "The request body is larger than the limit",
    416: "The requested range is not satisfiable",
    422: "A field does not validate (names it)",
    503: "A service behind the endpoint is unavailable",
}

ETAG = {
    "description": "strong validator of the representation; send it back in If-None-Match",
    "schema": {"type": "string"},
}


def error(code: int, description: str | None = None) -> dict:
    return {
        "description": description or DESCRIPTIONS[code],
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }


def header(name: str, description: str, *, max_length: int | None = None) -> dict:
    schema: dict = {"type": "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    return {
        "in": "header",
        "name": name,
        "required": False,
        "description": description,
        "schema": schema,
    }


def operation(
    *,
    errors: tuple[int, ...] = (),
    responses: dict[int, dict] | None = None,
    parameters: list[dict] | None = None,
    request_body: dict | None = None,
    security: list[dict] | None = None,
) -> dict:
    """``openapi_extra`` for one operation: JSON errors for ``errors``, other responses as
    given (``{status: response object}``), extra header parameters, a request body and
    security requirements."""
    extra: dict = {"responses": {str(code): error(code) for code in errors}}
    for code, response in (responses or {}).items():
        extra["responses"][str(code)] = response
    if parameters:
        extra["parameters"] = parameters
    if request_body is not None:
        extra["requestBody"] = request_body
    if security is not None:
        extra["security"] = security
    return extra


class ObjectSchema(Schema):
    """A request body that must be a JSON object: django-ninja's ``Schema`` reads
    attributes from whatever it is given, so ``[null, null]`` would validate as an object
    with every default (and a heartbeat would be recorded). Its text holds no NUL."""

    @model_validator(mode="wrap")
    @classmethod
    def _a_json_object(cls, value, handler):
        if not isinstance(value, dict | cls):
            raise ValueError("expected a JSON object")
        return handler(value)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        # PostgreSQL stores no NUL in text: refused here (422 naming the field), not a 500.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(NUL_MESSAGE)
        return value


NUL_MESSAGE = "contains a NUL character"
