"""S39: an API fuzz run (schemathesis) finds no server error, on either database.

Every operation of ``/api/openapi.json`` gets valid and invalid requests built
from its own description: once anonymously, once as a platform admin (staff,
with MFA) so that the handlers behind the 401s run too. Besides "no 5xx", each
answer must be one the document describes, with its content type and schema
(the problem+json answers included).

The run is derandomised (the same requests every time) and small enough for CI.
"""

from __future__ import annotations

from collections.abc import Callable

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from keyholder.identity.models import StaffRole
from keyholder.web.app import create_app

# Requests per operation: most anonymous ones stop at the 401.
ANONYMOUS_EXAMPLES = 10
STAFF_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = hypothesis.settings(
    derandomize=True,
    database=None,
    deadline=None,
    # Failures are collected (below), so there is nothing to shrink.
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def api_schema(runtime, factories):
    """The app's own OpenAPI document, loaded by schemathesis, over a few real rows."""
    account = factories.account("acme-corp", domains=["acme.example"])
    alice = factories.admin_of(account, "alice@acme.example")
    factories.ticket(alice, account=account)
    app = create_app(runtime=runtime, run_relay=False)
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


def fuzz(schema, headers: Callable[[], dict[str, str]], examples: int) -> list[str]:
    """Every operation, valid and invalid input: the failures, one line each."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        # Headers afresh for each operation: DELETE /api/sessions ends its token.
        failures += fuzz_operation(result.ok(), headers(), examples)
    return failures


def fuzz_operation(operation, sent: dict[str, str], examples: int) -> list[str]:
    failures: list[str] = []
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @hypothesis.settings(FUZZ, max_examples=examples)
    @given(case=cases)
    def run(case):
        try:
            response = case.call(headers=sent)
            case.validate_response(response, checks=CHECKS, headers=sent)
        except (FailureGroup, Exception) as exc:  # noqa: BLE001 - every failure is reported
            first_line = (str(exc).strip().splitlines() or [""])[0]
            failures.append(
                f"{operation.label}: {type(exc).__name__}: {first_line}\n"
                f"    {case.as_curl_command(headers=sent)[:400]}"
            )

    run()
    return failures


def test_fuzz_run_anonymous_finds_no_server_error(api_schema):
    """S39: as nobody, every operation answers within its description, never a 5xx."""
    failures = fuzz(api_schema, dict, ANONYMOUS_EXAMPLES)
    assert not failures, "\n".join(dict.fromkeys(failures))


def test_fuzz_run_as_staff_admin_finds_no_server_error(api_schema, factories):
    """S39: as a platform admin with MFA, the handlers run and never answer a 5xx."""
    admin = factories.staff("admin@keyholder.example", role=StaffRole.ADMIN)
    failures = fuzz(api_schema, lambda: factories.auth(admin), STAFF_EXAMPLES)
    assert not failures, "\n".join(dict.fromkeys(failures))
