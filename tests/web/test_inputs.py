"""S39: no input gives a 500. Numbers past our columns' range and text holding NUL
are refused where they come in (422; a page's address: 404), on both databases.

Each of these was a 500 before: SQLite's driver overflows past 2**63 - 1,
PostgreSQL's ``integer`` past 2**31 - 1, and PostgreSQL refuses NUL in text.
"""

from __future__ import annotations

import pytest

from keyholder.db.types import INTEGER_MAX
from keyholder.identity.models import StaffRole
from keyholder.web.inputs import MAX_API_BODY_BYTES, row_number

HUGE = [2**31, 2**63, 99999999999999999999]


@pytest.fixture
def staff(factories):
    return factories.auth(factories.staff("admin@keyholder.example", role=StaffRole.ADMIN))


@pytest.fixture
def alice(factories):
    account = factories.account("acme-corp")
    return factories.admin_of(account, "alice@acme.example")


def assert_invalid(response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


class TestRowNumber:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("1", 1), ("42", 42), (str(INTEGER_MAX), INTEGER_MAX), ("0", None), ("-1", None)]
        + [(str(n), None) for n in HUGE]
        + [("²", None), ("٣", None), ("", None), (" 1", None), ("1e3", None)],
    )
    def test_reads_only_numbers_a_row_can_have(self, text, expected):
        assert row_number(text) == expected


class TestBoundedNumbers:
    """S39: ticket numbers, paging cursors and bulk ids past INTEGER_MAX → 422."""

    @pytest.mark.parametrize("number", HUGE)
    def test_ticket_numbers_in_paths(self, client, staff, number):
        for path in [
            f"/api/desk/tickets/{number}",
            f"/api/tickets/{number}",
            f"/api/desk/tickets/{number}/canned-replies/hello",
            f"/api/tickets/{number}/attachments/4f0f8fec-dbbd-4106-8017-9ea0198f7eb9",
        ]:
            assert_invalid(client.get(path, headers=staff))
        assert_invalid(client.patch(f"/api/desk/tickets/{number}", headers=staff, json={}))
        for path in [f"/api/desk/tickets/{number}/notes", f"/api/tickets/{number}/replies"]:
            assert_invalid(client.post(path, headers=staff, json={"body": "hello"}))

    def test_the_largest_number_is_simply_not_found(self, client, staff):
        response = client.get(f"/api/desk/tickets/{INTEGER_MAX}", headers=staff)
        assert response.status_code == 404

    @pytest.mark.parametrize("number", HUGE)
    def test_paging_cursors(self, client, staff, number):
        assert_invalid(client.get(f"/api/desk/tickets?after={number}", headers=staff))
        assert_invalid(client.get(f"/api/tickets?before={number}", headers=staff))

    @pytest.mark.parametrize("number", HUGE)
    def test_bulk_ids(self, client, staff, factories, number):
        ticket = factories.ticket()
        response = client.post(
            "/api/desk/tickets/bulk-status",
            headers=staff,
            json={"numbers": [ticket.id, number], "status": "open"},
        )
        assert_invalid(response)

    def test_the_document_states_the_bounds(self, client):
        spec = client.get("/api/openapi.json").json()
        number = spec["paths"]["/api/desk/tickets/{number}"]["get"]["parameters"][0]["schema"]
        assert (number["minimum"], number["maximum"]) == (1, INTEGER_MAX)


class TestNulInText:
    """S39: NUL anywhere in a path, a query, a JSON body or a form field → 422."""

    def test_in_a_path(self, client, staff, alice):
        for path in [
            "/api/enterprise-accounts/acme%00corp",
            "/api/enterprise-accounts/acme-corp/members/alice%00@acme.example",
            "/api/desk/canned-replies/a%00b",
        ]:
            assert_invalid(client.get(path, headers=staff))

    def test_in_a_query(self, client, staff):
        for query in ["group=a%00b", "account=a%00b", "assignee=me&group=%00"]:
            assert_invalid(client.get(f"/api/desk/tickets?{query}", headers=staff))

    def test_in_a_json_body(self, client, staff, factories, alice):
        mine = factories.auth(alice)
        ticket = factories.ticket(alice)
        for path, headers, body in [
            ("/api/tickets", mine, {"subject": "s\x00", "body": "b"}),
            (f"/api/tickets/{ticket.id}/replies", mine, {"body": "b\x00"}),
            ("/api/desk/canned-replies", staff, {"name": "x", "body": "b\x00"}),
            ("/api/session", {}, {"email": "a\x00@acme.example", "password": "p"}),
            (
                "/api/enterprise-accounts",
                staff,
                {"name": "n", "contract_number": "c", "domains": ["a\x00"]},
            ),
        ]:
            assert_invalid(client.post(path, headers=headers, json=body))

    def test_in_a_form_field(self, client, factories, alice):
        response = client.post(
            "/api/tickets",
            headers=factories.auth(alice),
            data={"subject": "Help", "body": "b\x00"},
            files=[("files", ("a.txt", b"hello\n", "text/plain"))],
        )
        assert_invalid(response)


class TestBodySize:
    """S39: an API body past MAX_API_BODY_BYTES is refused (413) before it is read whole."""

    def test_announced_too_large(self, client):
        body = b'{"email": "' + b"a" * MAX_API_BODY_BYTES + b'"}'
        response = client.post(
            "/api/password-resets", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    def test_streamed_too_large(self, client):
        def chunks():
            yield b'{"email": "'
            for _ in range(MAX_API_BODY_BYTES // 65536 + 1):
                yield b"a" * 65536
            yield b'"}'

        response = client.post(
            "/api/session", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    def test_a_message_body_of_the_largest_size_fits(self, client, factories, alice):
        largest = "é" * 200_000  # MAX_MESSAGE characters, 2 bytes each
        response = client.post(
            "/api/tickets", headers=factories.auth(alice), json={"subject": "s", "body": largest}
        )
        assert response.status_code == 201
