"""Filters (scim2-models' RFC 7644 §3.4.2.2 parser and evaluator) and paging of /Users."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.scim.conftest import ScimSetup, issue_token
from tests.scim.test_users import EXT, new_user

PEOPLE = [
    ("bob@acme.example", "Bob Builder", "okta-1", {"create": True}),
    ("carol@acme.example", "Carol Danvers", "okta-2", {"billing": True}),
    ("dave@partner.example", "Dave Grohl", "okta-3", {}),
]


@pytest.fixture
def people(client, factories, scim: ScimSetup) -> ScimSetup:
    for email, display, external, flags in PEOPLE:
        factories.user(email)
        payload = new_user(email, **flags)
        payload["displayName"] = display
        payload["externalId"] = external
        made = client.post(f"{scim.base}/Users", headers=scim.headers, json=payload)
        assert made.status_code == 201, made.text
    return scim


def user_names(client, scim: ScimSetup, **params: object) -> list[str]:
    answer = client.get(f"{scim.base}/Users", params=params, headers=scim.headers)
    assert answer.status_code == 200, answer.text
    return [r["userName"] for r in answer.json().get("Resources", [])]


class TestFilters:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ('userName eq "BOB@acme.example"', ["bob@acme.example"]),  # case-insensitive
            ('userName sw "c"', ["carol@acme.example"]),
            ('userName co "partner"', ["dave@partner.example"]),
            ('userName ew ".example" and displayName co "Dan"', ["carol@acme.example"]),
            ('displayName eq "Bob Builder" or externalId eq "okta-3"',
             ["bob@acme.example", "dave@partner.example"]),
            ('emails.value eq "carol@acme.example"', ["carol@acme.example"]),
            ('emails[type eq "work" and value co "dave"]', ["dave@partner.example"]),
            ('externalId eq "okta-2"', ["carol@acme.example"]),
            ("externalId pr", ["bob@acme.example", "carol@acme.example", "dave@partner.example"]),
            (f"{EXT}:manage eq true", ["alice@acme.example"]),
            (f"{EXT}:billing eq true or {EXT}:create eq true",
             ["bob@acme.example", "carol@acme.example"]),
            ('not (userName ew "acme.example")', ["dave@partner.example"]),
            ("active eq false", []),
        ],
    )  # fmt: skip
    def test_finds_what_the_rfc_says(self, client, people, expression, expected):
        assert user_names(client, people, filter=expression) == expected

    @pytest.mark.parametrize(
        "expression",
        [
            "userName eq",
            'userName xx "a"',
            '(userName eq "a"',
            'userName eq "a" and',
            "active eq 3",
        ],
    )
    def test_a_filter_that_does_not_parse_is_400_invalid_filter(self, client, scim, expression):
        answer = client.get(f"{scim.base}/Users", params={"filter": expression},
                            headers=scim.headers)  # fmt: skip
        assert answer.status_code == 400, answer.text
        assert answer.json()["scimType"] == "invalidFilter"

    def test_search_by_post_takes_the_same_filter(self, client, people):
        answer = client.post(f"{people.base}/Users/.search", headers=people.headers, json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName sw "b"', "attributes": ["userName"]})  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert [r["userName"] for r in answer.json()["Resources"]] == ["bob@acme.example"]
        assert "displayName" not in answer.json()["Resources"][0]

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    # NUL is refused before any route (web.input_guards, 422) for every path.
    @given(
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
    )
    def test_no_filter_is_a_server_error(self, client, scim, expression):
        """S39: whatever the filter, an answer (200 or a SCIM 400), never a 500."""
        answer = client.get(f"{scim.base}/Users", params={"filter": expression},
                            headers=scim.headers)  # fmt: skip
        assert answer.status_code in (200, 400), answer.text
        assert answer.json()["schemas"][0].startswith("urn:ietf:params:scim:api:messages:2.0:")


class TestPaging:
    def test_start_index_and_count_cut_pages_by_address(self, client, people):
        everyone = user_names(client, people)
        assert everyone == sorted(everyone)
        assert len(everyone) == 4

        first = client.get(f"{people.base}/Users", params={"count": 2},
                           headers=people.headers).json()  # fmt: skip
        second = client.get(f"{people.base}/Users", params={"startIndex": 3, "count": 2},
                            headers=people.headers).json()  # fmt: skip

        assert (first["totalResults"], first["startIndex"], first["itemsPerPage"]) == (4, 1, 2)
        assert (second["totalResults"], second["startIndex"], second["itemsPerPage"]) == (4, 3, 2)
        pages = [r["userName"] for page in (first, second) for r in page["Resources"]]
        assert pages == everyone

    def test_count_zero_gives_the_total_only_and_odd_values_are_bounded(self, client, people):
        only_total = client.get(f"{people.base}/Users", params={"count": 0},
                                headers=people.headers).json()  # fmt: skip
        assert (only_total["totalResults"], only_total["itemsPerPage"]) == (4, 0)
        assert "Resources" not in only_total
        assert user_names(client, people, startIndex=-5, count=1) == ["alice@acme.example"]
        assert user_names(client, people, startIndex=99) == []
        assert user_names(client, people, startIndex=2**40, count=2**40) == []
        bad = client.get(f"{people.base}/Users", params={"count": "many"}, headers=people.headers)
        assert (bad.status_code, bad.json()["scimType"]) == (400, "invalidValue")

    def test_attributes_and_excluded_attributes_shape_the_answer(self, client, people):
        picked = client.get(f"{people.base}/Users", headers=people.headers,
                            params={"attributes": "userName,emails"}).json()  # fmt: skip
        assert set(picked["Resources"][0]) == {"schemas", "id", "userName", "emails"}
        trimmed = client.get(f"{people.base}/Users", headers=people.headers,
                             params={"excludedAttributes": "emails"}).json()  # fmt: skip
        assert all("emails" not in r and "userName" in r for r in trimmed["Resources"])


def test_every_other_path_and_method_is_a_scim_404_or_405(client, runtime, scim: ScimSetup):
    def status(method: str, path: str) -> tuple[int, str]:
        answer = client.request(method, f"{scim.base}{path}", headers=scim.headers)
        return answer.status_code, answer.headers["content-type"]

    assert status("GET", "/Groups") == (404, "application/scim+json")
    assert status("GET", "/Users/not-an-id") == (404, "application/scim+json")
    assert status("POST", "/ServiceProviderConfig") == (405, "application/scim+json")
    assert status("DELETE", "/Schemas") == (405, "application/scim+json")
    assert status("POST", "/Users/abc") == (405, "application/scim+json")
    # A second token of the account works alongside the first.
    second = issue_token(runtime, scim.account, "entra")
    assert client.get(f"{scim.base}/ServiceProviderConfig",
                      headers={"Authorization": f"Bearer {second}"}).status_code == 200  # fmt: skip
