"""The seed story through the pages; internal notes kept from the customer; no-JS uploads.

A requester who cannot reach an admin asks for access with a letter (dropped
on the form), confirms by the emailed link; the executive on record confirms;
two reviewers (signed in with their second factor) approve; the cooling-off
passes on the fixed clock; the worker grants; the requester hears the
outcome; the new admin accepts the invitation, enrols MFA and adds a member.
Emails are read as ``/dev/mail`` shows them.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from keyholder.access.models import AccessRequest
from keyholder.access.states import RequestState
from keyholder.identity.models import StaffRole
from keyholder.worker import run_jobs_once
from tests.access.flow import (
    EXECUTIVE,
    FORM,
    NEW_ADMIN,
    REQUESTER,
    Story,
    letter_png,
    typed_letter_png,
)
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_pages_in_a_browser import UNLABELLED
from tests.factories import PASSWORD

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

DROP = """([bytes, name]) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], name, {type: "image/png"}));
    const zone = document.querySelector(".dropzone");
    const drop = {dataTransfer: data, bubbles: true, cancelable: true};
    zone.dispatchEvent(new DragEvent("drop", drop));
}"""


def check_basics(page) -> None:
    """One h1, a main landmark, a label on every field (file inputs too), text on every button."""
    expect(page.locator("h1")).to_have_count(1)
    expect(page.get_by_role("main")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    for button in page.locator("button").all():  # a file input's button is named by its label
        assert (button.text_content() or "").strip()


WATCH_PROGRESS = """() => {
    const bar = document.querySelector("progress.upload-progress");
    new MutationObserver(() => { if (!bar.hidden) window.reportProgress(bar.value); })
        .observe(bar, {attributes: true});
}"""


def follow_mail_link(page, outbox, kind: str, to: str, fragment: str) -> None:
    """Open the newest ``kind`` email to ``to`` in /dev/mail and follow its link."""
    row = [m for m in outbox.of_kind(kind) if to in m.recipients][-1]
    page.goto(f"/dev/mail/{row.id}")
    href = page.locator(f"pre.mail-body a[href*='{fragment}']").first.get_attribute("href")
    assert href
    page.goto(urlsplit(href).path)  # the link names the configured base URL (S4)


def sign_in(page, email: str, *, totp: str | None = None, clock=None) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if totp is not None:
        clock.advance(timedelta(seconds=30))  # each code works once
        page.get_by_label("Code").fill(pyotp.TOTP(totp).at(clock.now()))
        page.get_by_role("button", name="Continue").click()


class TestSeedStory:
    def test_request_review_cooling_off_grant_invitation_and_a_new_member(
        self, page, open_page, runtime, dev_runtime, factories, clock, outbox, screenshots
    ):
        story = Story.begin(runtime, factories)
        reviewers = [
            factories.user(
                f"{n}@keyholder.example", password=PASSWORD, staff_role=StaffRole.REVIEWER
            )
            for n in ("rene", "rosa")
        ]
        factories.user("carol@acme.example", password=PASSWORD)

        # The requester: the guide first, then the form with the letter dropped on it.
        page.goto("/")
        page.get_by_role(
            "link", name="I can't reach an admin of my Enterprise account"
        ).first.click()
        expect(page.get_by_role("link", name="Reset a former admin's password")).to_be_visible()
        check_basics(page)
        page.screenshot(path=screenshots / "no-admin-guide.png", full_page=True)
        page.get_by_role("link", name="Continue to the request form").click()
        page.get_by_label("Enterprise account name").fill("acme-corp")
        page.get_by_label("Contract number").fill(FORM.contract_number)
        page.get_by_label("Email address to make admin").fill(NEW_ADMIN)
        page.get_by_label("Why is the change needed?").fill(FORM.reason)
        page.get_by_label("Executive's name").fill(FORM.executive_name)
        page.get_by_label("Executive's title").fill(FORM.executive_title)
        page.get_by_label("Executive's email address").fill(EXECUTIVE)
        page.get_by_label("Your name").fill(FORM.requester_name)
        page.get_by_label("Your email address").fill(REQUESTER)
        letter = typed_letter_png(date(2026, 2, 10)).data
        page.evaluate(DROP, [list(letter), "letter.png"])
        size = f"{len(letter) / 1024:.1f} KB"
        expect(page.locator(".file-info")).to_have_text(f"Chosen: letter.png ({size})")
        check_basics(page)
        page.screenshot(path=screenshots / "access-request-form.png", full_page=True)
        progress: list[float] = []
        # A lambda: Playwright cannot bind a builtin method such as list.append.
        page.expose_function("reportProgress", lambda value: progress.append(value))  # noqa: PLW0108
        page.evaluate(WATCH_PROGRESS)
        page.get_by_role("button", name="Send the request").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/help/no-admin/sent$"))
        page.screenshot(path=screenshots / "access-request-sent.png", full_page=True)
        assert progress
        assert max(progress) == 100

        follow_mail_link(page, outbox, "access_confirm_requester", REQUESTER, "/confirm-email/")
        page.get_by_role("button", name="Confirm my request").click()
        expect(page.get_by_role("status")).to_contain_text("your request is confirmed")
        progress = page.locator("#request-progress")
        expect(progress).to_contain_text("We are reading your letter now")
        run_jobs_once(dev_runtime)  # the worker screens the letter
        # The requester's page shows what was read without a reload (progress.js).
        expect(progress.locator("table.checks")).to_be_visible()
        expect(progress.get_by_role("row", name="The contract number found")).to_be_visible()
        expect(progress).not_to_have_attribute("data-poll", re.compile("."))
        check_basics(page)
        page.screenshot(path=screenshots / "access-request-progress.png", full_page=True)

        executive = open_page()
        follow_mail_link(
            executive, outbox, "access_executive", EXECUTIVE, "/executive-confirmation/"
        )
        executive.get_by_role("button", name="Yes, I authorised it").click()
        expect(executive.get_by_role("status")).to_contain_text("your confirmation is recorded")

        # Two reviewers, each in their own browser, signed in with their second factor.
        for number, reviewer in enumerate(reviewers, start=1):
            desk = open_page()
            sign_in(desk, reviewer.email, totp=reviewer.totp_secret, clock=clock)
            desk.get_by_role("link", name="Access requests").first.click()
            desk.get_by_role("link", name="acme-corp").click()
            expect(desk.get_by_role("heading", name="Risk summary")).to_be_visible()
            expect(desk.locator(".evidence .badge").first).to_be_visible()
            if number == 1:
                check_basics(desk)
                desk.screenshot(path=screenshots / "access-request-review.png", full_page=True)
            desk.get_by_label("Approve").check()
            desk.get_by_label("Note").fill("Letter, contract and executive confirmation match.")
            desk.get_by_role("button", name="Record my decision").click()
            expect(desk.get_by_role("status").filter(has_text="approval")).to_be_visible()
        expect(desk.locator("time").first).to_be_visible()
        expect(desk.get_by_text(re.compile(r"\d+ days?( \d+ hours?)? left"))).to_be_visible()
        desk.screenshot(path=screenshots / "access-request-cooling-off.png", full_page=True)
        request = story.request(only_request(runtime))
        assert request.state is RequestState.COOLING_OFF

        # The cooling-off passes; the worker grants; the requester hears it.
        clock.advance(dev_runtime.settings.cooling_off + timedelta(minutes=1))
        assert run_jobs_once(dev_runtime).executed == 1
        assert story.request(request.id).state is RequestState.EXECUTED
        page.goto("/dev/mail")
        expect(page.locator("table.mail tr", has_text=REQUESTER).first).to_be_visible()
        assert [m for m in outbox.of_kind("access_outcome_notice") if REQUESTER in m.recipients]

        # The new admin accepts, signs in, enrols MFA and adds a member.
        admin = open_page()
        follow_mail_link(admin, outbox, "invitation", NEW_ADMIN, "/invitations/")
        admin.get_by_label("Your name").fill("New Admin")
        admin.get_by_label("Password", exact=True).fill(PASSWORD)
        admin.get_by_label("Password, again").fill(PASSWORD)
        admin.get_by_role("button", name="Create my sign-in and accept").click()
        expect(admin.get_by_role("status")).to_contain_text("You are now a member of Acme")
        sign_in(admin, NEW_ADMIN)
        admin.goto("/account/security")
        mfa = admin.get_by_role("region", name="Multi-factor authentication")
        mfa.get_by_label("Your password").fill(PASSWORD)
        admin.get_by_role("button", name="Set up multi-factor authentication").click()
        secret = admin.locator("#secret").inner_text()
        admin.get_by_label("The 6-digit code the app shows").fill(
            pyotp.TOTP(secret).at(clock.now())
        )
        admin.get_by_role("button", name="Turn it on").click()
        expect(admin.get_by_role("status")).to_have_text("Multi-factor authentication is on.")
        admin.goto("/accounts/acme-corp")
        form = admin.locator("form", has=admin.get_by_role("button", name="Add member"))
        form.get_by_label("Email").fill("carol@acme.example")
        form.get_by_role("button", name="Add member").click()
        expect(admin.get_by_role("status")).to_have_text("carol@acme.example is now a member.")
        admin.screenshot(path=screenshots / "new-admin-members.png", full_page=True)


def only_request(runtime) -> uuid.UUID:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalars(select(AccessRequest.id)).one()


class TestInternalNotes:
    def test_an_internal_note_never_shows_on_the_customers_page(
        self, page, open_page, factories, clock, screenshots
    ):
        factories.user("carol@acme.example", password=PASSWORD, name="Carol")
        agent = factories.user(
            "agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, name="Ada"
        )
        sign_in(page, "carol@acme.example")
        page.get_by_role("link", name="Your tickets").click()
        page.get_by_role("link", name="Write to support").click()
        page.get_by_label("Subject").fill("Invoices do not export")
        page.get_by_label("Your message").fill("The export button does nothing.")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("status")).to_have_text(
            "Your ticket is open. We answer here and by email."
        )
        ticket_url = urlsplit(page.url).path

        desk = open_page()
        sign_in(desk, agent.email, totp=agent.totp_secret, clock=clock)
        desk.goto("/desk")
        check_basics(desk)
        desk.screenshot(path=screenshots / "desk-queue.png", full_page=True)
        desk.get_by_role("link", name="Invoices do not export").click()
        desk.get_by_label("Note for staff").fill("SECRET: check the billing system first")
        desk.get_by_role("button", name="Add internal note").click()
        expect(desk.get_by_role("status")).to_contain_text("The customer does not see it.")
        desk.get_by_label("Reply to the customer").fill("We are looking into it.")
        desk.get_by_role("button", name="Send public reply").click()
        expect(desk.get_by_role("status")).to_contain_text("Your reply is sent")
        expect(desk.locator("article.message.internal")).to_contain_text("Internal note")
        check_basics(desk)
        desk.screenshot(path=screenshots / "desk-ticket.png", full_page=True)

        page.goto(ticket_url)
        expect(page.get_by_text("We are looking into it.")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("SECRET")
        expect(page.locator("main")).not_to_contain_text("Internal note")
        check_basics(page)
        page.screenshot(path=screenshots / "customer-ticket.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 800})
        page.screenshot(path=screenshots / "customer-ticket-phone.png", full_page=True)
        page.goto("/tickets")
        page.screenshot(path=screenshots / "my-tickets.png", full_page=True)


class TestWithoutJavaScript:
    def test_the_request_form_is_a_plain_multipart_form(
        self, chromium, base_url, runtime, factories, outbox
    ):
        Story.begin(runtime, factories)
        context = chromium.new_context(base_url=base_url, java_script_enabled=False)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            page.goto("/help/no-admin/request")
            for label, value in [
                ("Enterprise account name", "acme-corp"),
                ("Contract number", FORM.contract_number),
                ("Email address to make admin", NEW_ADMIN),
                ("Why is the change needed?", FORM.reason),
                ("Executive's name", FORM.executive_name),
                ("Executive's title", FORM.executive_title),
                ("Executive's email address", EXECUTIVE),
                ("Your email address", REQUESTER),
            ]:
                page.get_by_label(label).fill(value)
            page.get_by_label("Letter signed by the executive").set_input_files(
                files=[{"name": "letter.png", "mimeType": "image/png", "buffer": letter_png().data}]
            )
            page.get_by_role("button", name="Send the request").click()
            expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        finally:
            context.close()
        assert [m.kind for m in outbox.to(REQUESTER)] == ["access_confirm_requester"]
