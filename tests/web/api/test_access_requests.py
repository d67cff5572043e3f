"""/api/access-requests over HTTP: intake without sign-in, links, staff-only review."""

from __future__ import annotations

import pytest

from keyholder.access.states import RequestState
from tests.access.flow import EXECUTIVE, FORM, REQUESTER, Story, letter_png, link_token

URL = "/api/access-requests"


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


def form_fields(**changes):
    fields = {
        name: getattr(FORM, name)
        for name in (
            "account_name",
            "requester_email",
            "email_to_add",
            "reason",
            "contract_number",
            "executive_name",
            "executive_title",
            "executive_email",
        )
    }
    return {**fields, **changes}


def submit(client, **changes):
    letter = letter_png()
    return client.post(
        URL,
        data=form_fields(**changes),
        files={"letter": (letter.filename, letter.data, "image/png")},
    )


class TestIntake:
    def test_same_answer_whatever_the_account_name(self, client, story):
        known = submit(client)
        unknown = submit(client, account_name="no-such-corp")
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        assert "confirm" in known.json()["detail"]

    def test_missing_items_and_missing_letter_are_clear_errors(self, client, story):
        response = submit(client, contract_number="")
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert "contract_number" in response.json()["detail"]
        not_a_form = client.post(URL, json=form_fields())
        assert not_a_form.status_code == 415
        no_file = client.post(
            URL, data=form_fields(), files={"other": ("a.txt", b"x", "text/plain")}
        )
        assert no_file.status_code in {415, 422}

    def test_a_malformed_contract_number_is_a_422_naming_the_field(self, client, story):
        response = submit(client, contract_number="ENT 2024/00 12")
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["errors"] == [{"loc": ["body", "contract_number"], "msg": problem["detail"]}]
        assert "is not a valid contract number" in problem["detail"]
        assert story.emails() == []  # nothing recorded, no confirmation link sent

    def test_the_contract_number_is_kept_in_the_accounts_form(self, client, story):
        assert submit(client, contract_number=" ent-2024-001234 ").status_code == 202
        (request_id,) = [link_token(e.body, "confirm-email")[0] for e in story.emails()]
        assert story.request(request_id).contract_number == "ENT-2024-001234"

    def test_html_letter_is_refused_s32(self, client, story):
        response = client.post(
            URL,
            data=form_fields(),
            files={"letter": ("letter.pdf", b"<html><script>x</script></html>", "application/pdf")},
        )
        assert response.status_code == 415
        assert story.emails() == []

    def test_too_large_letter_is_refused_s33(self, client, story, runtime):
        big = b"%PDF-1.4\n" + b"0" * (runtime.settings.attachment_max_bytes + 1)
        response = client.post(
            URL, data=form_fields(), files={"letter": ("letter.pdf", big, "application/pdf")}
        )
        assert response.status_code == 413

    def test_confirmation_link_starts_the_review(self, client, story):
        submit(client)
        email = story.emails("access_confirm_requester")[0]
        request_id, token = link_token(email.body, "confirm-email")
        response = client.post(f"{URL}/{request_id}/confirm-email/{token}")
        assert response.status_code == 200
        assert story.request(request_id).state is RequestState.IN_REVIEW
        again = client.post(f"{URL}/{request_id}/confirm-email/{token}")
        assert again.status_code == 410

    def test_a_request_overtaken_by_a_grant_is_closed_and_the_answer_says_why(
        self, client, story, factories
    ):
        submit(client, requester_email="sam@acme.example", email_to_add="sam@acme.example")
        factories.member(story.account, factories.user("sam@acme.example"), "view,manage")
        email = story.emails("access_confirm_requester")[0]
        request_id, token = link_token(email.body, "confirm-email")
        response = client.post(f"{URL}/{request_id}/confirm-email/{token}")
        assert response.status_code == 200
        assert "sam@acme.example is already an admin" in response.json()["detail"]
        assert story.request(request_id).state is RequestState.REJECTED


class TestStaffOnly:
    def test_customers_and_anonymous_cannot_read_or_decide(self, client, story, factories):
        request_id = story.submit()
        customer = factories.user("carol@acme.example")
        for headers, expected in (({}, 401), (factories.auth(customer), 403)):
            assert client.get(URL, headers=headers).status_code == expected
            assert client.get(f"{URL}/{request_id}", headers=headers).status_code == expected
            decided = client.post(
                f"{URL}/{request_id}/decisions", json={"decision": "approve"}, headers=headers
            )
            assert decided.status_code == expected
        assert story.request(request_id).state is RequestState.SUBMITTED

    def test_reviewer_sees_the_risk_summary_failing_first(self, client, story, factories):
        request_id = story.submit(contract_number="ENT-0000-000000")
        story.confirm(request_id)
        response = client.get(f"{URL}/{request_id}", headers=factories.auth(story.reviewers[0]))
        assert response.status_code == 200
        body = response.json()
        statuses = [item["status"] for item in body["risk_summary"]]
        assert statuses == sorted(statuses, key=["fail", "unknown", "pass"].index)
        assert body["risk_summary"][0]["check"] == "contract_number"
        assert body["dns_record"].startswith("_keyholder-challenge.")

    def test_two_reviewers_approve_through_the_api(self, client, story, factories):
        request_id = story.submit()
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)  # the proof S23b asks for
        for reviewer, state in zip(story.reviewers, ("approved_once", "cooling_off"), strict=True):
            response = client.post(
                f"{URL}/{request_id}/decisions",
                json={"decision": "approve"},
                headers=factories.auth(reviewer),
            )
            assert response.status_code == 200, response.text
            assert response.json()["state"] == state
        early = client.post(
            f"{URL}/{request_id}/execute", headers=factories.auth(story.reviewers[0])
        )
        assert early.status_code == 409
        assert len(response.json()["approvals"]) == 2


class TestLinks:
    def test_executive_denies_by_link(self, client, story):
        request_id = story.submit()
        story.confirm(request_id)
        (email,) = story.emails("access_executive")
        assert email.recipients == [EXECUTIVE]
        _, token = link_token(email.body, "executive-confirmation")
        response = client.post(
            f"{URL}/{request_id}/executive-confirmation/{token}", json={"answer": "deny"}
        )
        assert response.status_code == 200
        assert story.request(request_id).executive_denied_at is not None

    def test_a_link_for_one_purpose_does_nothing_for_another_s11(self, client, story):
        request_id = story.submit()
        story.confirm(request_id)
        confirm = story.emails("access_confirm_requester", to=REQUESTER)[0]
        _, token = link_token(confirm.body, "confirm-email")
        assert client.post(f"{URL}/{request_id}/veto/{token}").status_code == 404
        assert story.request(request_id).state is RequestState.IN_REVIEW

    def test_veto_by_link(self, client, story):
        request_id = story.ready()
        notice = story.emails("access_veto_notice", to="billing@acme.example")[0]
        _, token = link_token(notice.body, "veto")
        response = client.post(f"{URL}/{request_id}/veto/{token}")
        assert response.status_code == 200
        assert story.request(request_id).state is RequestState.CANCELLED
