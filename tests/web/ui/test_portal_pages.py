"""The "I can't reach an admin" guide and the access-request form with its letter upload."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from keyholder.access.models import AccessRequest
from tests.access.flow import FORM, REQUESTER, Story, letter_png
from tests.web.ui.pages import text_of, upload

FIELDS = {
    "account_name": FORM.account_name,
    "requester_email": FORM.requester_email,
    "requester_name": FORM.requester_name,
    "email_to_add": FORM.email_to_add,
    "reason": FORM.reason,
    "contract_number": FORM.contract_number,
    "executive_name": FORM.executive_name,
    "executive_title": FORM.executive_title,
    "executive_email": FORM.executive_email,
}
PAGE = "/help/no-admin/request"


def letter() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("letter", ("letter.png", letter_png().data, "image/png"))]


def count_requests(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(AccessRequest)) or 0


@pytest.fixture
def story(runtime, factories) -> Story:
    return Story.begin(runtime, factories)


class TestGuide:
    def test_the_self_service_path_comes_before_the_request_form(self, browser):
        page = browser.get("/help/no-admin")
        assert page.status_code == 200
        assert page.text.index('href="/password-reset"') < page.text.index(f'href="{PAGE}"')

    def test_the_form_asks_for_the_six_items_and_a_letter_without_inline_script(self, browser):
        page = browser.get(PAGE).text
        assert 'enctype="multipart/form-data"' in page
        for name in [*FIELDS, "letter"]:
            assert f'id="{name}"' in page, name
            assert f'for="{name}"' in page, name
        assert '<script src="/static/upload.js" defer></script>' in page
        # That one and the local-time one on every page, from 'self' (CSP script-src 'self').
        assert page.count("<script") == 2
        assert '<script src="/static/local-time.js" defer></script>' in page
        assert " style=" not in page

    def test_the_upload_script_is_served_as_javascript_with_nosniff(self, browser):
        response = browser.get("/static/upload.js")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "XMLHttpRequest" in response.text


class TestSubmit:
    def test_a_request_with_its_letter_is_recorded_and_a_link_is_emailed(
        self, browser, story, runtime, outbox
    ):
        response = upload(browser, PAGE, PAGE, FIELDS, letter())
        assert response.status_code == 303
        assert response.headers["location"] == "/help/no-admin/sent"
        sent = browser.get("/help/no-admin/sent")
        assert "We sent a link to the address you gave" in sent.text
        assert count_requests(runtime) == 1
        assert [m.kind for m in outbox.to(REQUESTER)] == ["access_confirm_requester"]

    def test_the_answer_is_the_same_for_an_account_that_does_not_exist(
        self, browser, story, runtime
    ):
        known = upload(browser, PAGE, PAGE, FIELDS, letter())
        unknown = upload(
            browser, PAGE, PAGE, {**FIELDS, "account_name": "no-such-account"}, letter()
        )
        assert (known.status_code, known.headers["location"]) == (
            unknown.status_code,
            unknown.headers["location"],
        )
        assert count_requests(runtime) == 2

    def test_a_missing_item_shows_the_form_again_with_what_was_typed_escaped(
        self, browser, story, runtime
    ):
        typed = {**FIELDS, "contract_number": "", "reason": "<script>alert(1)</script>"}
        response = upload(browser, PAGE, PAGE, typed, letter())
        assert response.status_code == 422
        assert "Fill in the contract number." in text_of(response.text)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
        assert "<script>alert" not in response.text
        assert f'value="{FORM.executive_email}"' in response.text
        assert count_requests(runtime) == 0

    def test_a_malformed_contract_number_is_refused_at_once_with_the_form_again(
        self, browser, story, runtime
    ):
        typed = {**FIELDS, "contract_number": "ENT 2024/00 12"}
        response = upload(browser, PAGE, PAGE, typed, letter())
        assert response.status_code == 422
        assert "is not a valid contract number" in text_of(response.text)
        assert 'value="ENT 2024/00 12"' in response.text
        assert count_requests(runtime) == 0
        assert story.emails() == []

    def test_s32_an_html_file_as_the_letter_is_refused_with_the_form_again(
        self, browser, story, runtime
    ):
        spoof = [("letter", ("letter.png", b"<html><script>x</script></html>", "image/png"))]
        response = upload(browser, PAGE, PAGE, FIELDS, spoof)
        assert response.status_code == 415
        assert "PDF, PNG or JPEG" in response.text
        assert 'id="account_name"' in response.text
        assert count_requests(runtime) == 0

    def test_no_letter_is_asked_for(self, browser, story, runtime):
        response = upload(browser, PAGE, PAGE, FIELDS)
        assert response.status_code == 422
        assert "Attach the signed letter" in response.text

    def test_s19_the_form_without_its_csrf_token_is_refused(self, browser, story, runtime):
        browser.get(PAGE)
        response = upload(browser, PAGE, PAGE, FIELDS, letter(), token=False)
        assert response.status_code == 403
        assert count_requests(runtime) == 0

    def test_s33_a_letter_over_the_size_limit_is_refused(self, browser, story, runtime, settings):
        over = b"0" * settings.attachment_max_bytes  # with the header, one past the limit
        big = [("letter", ("letter.png", b"\x89PNG" + over, "image/png"))]
        response = upload(browser, PAGE, PAGE, FIELDS, big)
        assert response.status_code == 413
        assert count_requests(runtime) == 0
