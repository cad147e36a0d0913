"""The OpenAPI documents of intake and analytics name every error status a `/v1/` operation
answers, with the body it comes with, so a client or a schema-driven fuzzer can rely on them."""
from __future__ import annotations

import pytest

from estatedesk.config import Settings
from estatedesk.web.openapi import with_error_responses
from services.analytics.app import create_app as analytics_app
from services.intake.app import create_app as intake_app

EVERYWHERE = {"401", "403", "404", "413", "422"}


@pytest.fixture(scope="module", params=["intake", "analytics"])
def document(request) -> dict:
    factory = {"intake": intake_app, "analytics": analytics_app}[request.param]
    return factory(Settings()).openapi()


def _operations(document: dict, api: bool):
    for path, operations in document["paths"].items():
        if path.startswith("/v1/") == api:
            yield from ((path, method, operation) for method, operation in operations.items())


def test_every_api_operation_documents_the_error_statuses(document):
    operations = list(_operations(document, api=True))
    assert operations
    for path, method, operation in operations:
        expected = EVERYWHERE | ({"409"} if method in ("post", "put", "patch", "delete") else set())
        assert expected <= set(operation["responses"]), f"{method} {path}"
        for status in expected - {"422"}:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, f"{method} {path} {status}"
        assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ValidationProblem"}


def test_the_error_bodies_are_the_ones_the_services_send(document):
    schemas = document["components"]["schemas"]
    assert schemas["ValidationProblem"]["properties"]["detail"]["items"] == {
        "$ref": "#/components/schemas/FieldProblem"}
    assert set(schemas["FieldProblem"]["required"]) == {"loc", "msg", "type"}
    assert "input" not in schemas["FieldProblem"]["properties"]


def test_operations_endpoints_are_left_as_they_are(document):
    for path, method, operation in _operations(document, api=False):
        assert "401" not in operation["responses"], path


def test_a_routes_own_description_of_a_status_is_kept():
    schema = {"paths": {"/v1/cases": {"post": {"responses": {
        "409": {"description": "Idempotency-Key reused with another body"},
        "422": {"description": "Validation Error", "content": {}}}}}}}
    responses = with_error_responses(schema)["paths"]["/v1/cases"]["post"]["responses"]
    assert responses["409"]["description"] == "Idempotency-Key reused with another body"
    assert responses["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Problem")
    assert responses["422"]["description"].startswith("Field-level problems")
    assert schema["paths"]["/v1/cases"]["post"]["responses"]["409"] == {
        "description": "Idempotency-Key reused with another body"}  # the input is left alone
