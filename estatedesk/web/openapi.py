"""The error statuses every `/v1/` operation can answer, in the OpenAPI document.

Routes document their own success answer and, at most, the errors peculiar to them; the
edge answers 401, 413 and 422 for any route, and every handler may answer 403 or 404.
Adding them here, once, keeps the document true for a client or a schema-driven fuzzer
without a `responses=` table on every route to drift.
"""
from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

PROBLEM = {
    "title": "Problem", "type": "object", "required": ["detail"], "additionalProperties": True,
    "properties": {"detail": {"type": "string", "description": "What was wrong, in plain words"}},
}
FIELD_PROBLEM = {
    "title": "FieldProblem", "type": "object", "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "description": "Where: `body`, `query`, `path` or `header`, then the field's path"},
        "msg": {"type": "string", "description": "The problem with that field"},
        "type": {"type": "string", "description": "A stable code for the problem"},
    },
}
VALIDATION_PROBLEM = {
    "title": "ValidationProblem", "type": "object", "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": {"$ref": "#/components/schemas/FieldProblem"}}},
}
SCHEMAS = {"Problem": PROBLEM, "FieldProblem": FIELD_PROBLEM, "ValidationProblem": VALIDATION_PROBLEM}


def _answer(description: str, schema: str = "Problem", **extra: Any) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}, **extra}


ERRORS: dict[str, dict[str, Any]] = {
    "401": _answer("No bearer token, or one that does not verify",
                   headers={"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}}),
    "403": _answer("The token's role or estates do not allow this"),
    "404": _answer("No such resource in the token's estates"),
    "409": _answer("Not allowed in the current state, or a conflicting repeat"),
    "413": _answer("The body is larger than ESTATEDESK_MAX_BODY_BYTES"),
    "422": _answer("Field-level problems: each names the field (`loc`) and what is wrong with it",
                   "ValidationProblem"),
    "503": _answer("The database is unreachable for a moment; retry after the seconds in Retry-After",
                   headers={"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}}),
}
FASTAPI_422 = "Validation Error"
READS = frozenset({"get", "head"})
"""A read changes nothing, so it has no state to conflict with: no 409."""
METHODS = frozenset({"get", "head", "post", "put", "patch", "delete"})


def with_error_responses(schema: dict[str, Any], prefix: str = "/v1/") -> dict[str, Any]:
    """`schema` with the error answers on every operation under `prefix`; a route's own
    description of a status is kept, the body schema becomes the real one."""
    schema = copy.deepcopy(schema)
    schema.setdefault("components", {}).setdefault("schemas", {}).update(copy.deepcopy(SCHEMAS))
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, answer in ERRORS.items():
                if status == "409" and method in READS:
                    continue
                own = responses.get(status, {}).get("description")
                own = None if own == FASTAPI_422 else own
                responses[status] = {**copy.deepcopy(answer), **({"description": own} if own else {})}
    return schema


def document_errors(app: FastAPI, prefix: str = "/v1/") -> None:
    """Make `app`'s OpenAPI document carry the error answers, whenever it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_responses(build(), prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
