"""The OpenAPI document describes the problem+json answers of every API operation (S39)."""

from __future__ import annotations

from keyholder.web.problems import PROBLEM_ANSWERS, PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
DESCRIBED = ["401", "403", "404", "409", "413", "415", "422"]


def operations(spec):
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/"):
            continue  # /healthz, /readyz
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_api_operation_describes_its_problem_answers(client):
    spec = client.get("/api/openapi.json").json()
    found = list(operations(spec))
    assert len(found) > 40
    for label, operation in found:
        responses = operation["responses"]
        for status in DESCRIBED + [str(s) for s in PROBLEM_ANSWERS]:
            answer = responses[status]
            assert answer["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}, label
            assert answer["description"], label


def test_the_problem_schema_is_a_component(client):
    spec = client.get("/api/openapi.json").json()
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]
    # FastAPI's own validation answer is never sent: it is not described either.
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_a_routes_own_description_is_kept(client):
    spec = client.get("/api/openapi.json").json()
    reset = spec["paths"]["/api/password-resets/{token}"]["post"]["responses"]
    assert reset["410"]["description"] == "Link is dead"
    assert reset["410"]["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def test_answers_match_the_description(client):
    """What the document says is what a refusal looks like."""
    refused = client.post("/api/password-resets", json={"email": 42})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM_JSON
    body = refused.json()
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(body)
