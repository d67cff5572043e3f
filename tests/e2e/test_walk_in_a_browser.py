"""The recovery story walked as each person, where issue 15's walk got stuck.

A member of an account without admin finds the way back (and a form that knows
them); staff land on the desk once their second factor is on; the requester
sees the DNS record to publish, hears when the approved change will happen and
who was told, and sees it count down; a reviewer is not offered a second
approval in the cooling-off; a request overtaken by a grant is closed saying
why; a closed request does not talk about reading its letter. No page or email
a customer sees carries a requirement code ("S21"): those are for staff docs.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import update

from keyholder.access import decisions
from keyholder.access.decisions import Decision
from keyholder.access.states import RequestState
from keyholder.desk.links import ticket_path
from keyholder.identity.models import StaffRole, User
from keyholder.when import long_utc
from tests.access.flow import NEW_ADMIN, REQUESTER, Story
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_seed_story_in_a_browser import follow_mail_link, sign_in
from tests.factories import PASSWORD

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

# A requirement code of SECURITY.md: S21, S23b...
# Not inside a link token (base64url: letters, digits, "-" and "_"), where "-S460" can occur.
REQUIREMENT_CODE = re.compile(r"(?<![\w-])S\d+[a-z]?(?![\w-])")


def assert_plain_words(page) -> None:
    """The page a customer reads names no requirement code."""
    text = page.locator("body").inner_text()
    assert not REQUIREMENT_CODE.findall(text), text


def assert_plain_emails(rows) -> None:
    for row in rows:
        for part in (row.subject, row.body, row.body_html or ""):
            assert not REQUIREMENT_CODE.findall(part), (row.kind, part)


@pytest.fixture
def desk_page(chromium, base_url):
    """A second browser (other cookies) for a member of staff."""
    context = chromium.new_context(base_url=base_url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def request_page(page, runtime, story: Story, request_id) -> None:
    """The requester's page for the request, as the ticket link in their emails opens it."""
    request = story.request(request_id)
    page.goto(ticket_path(runtime.settings, request.ticket_id, request.requester_email))


class TestNoAdminLeft:
    def test_a_member_is_shown_the_way_back_and_a_prefilled_form(
        self, page, factories, screenshots
    ):
        initech = factories.account("initech", contract_number="ENT-2025-000777")
        globex = factories.account("globex")
        peter = factories.user("peter@initech.example", password=PASSWORD)
        factories.member(initech, peter, "view,create")
        factories.member(globex, peter, "view")
        factories.admin_of(globex, "hank@globex.example")

        sign_in(page, peter.email)
        page.goto("/accounts")
        cards = page.locator("li.card")
        expect(cards.filter(has_text="initech")).to_contain_text("No admin left")
        expect(cards.filter(has_text="globex")).not_to_contain_text("No admin left")
        assert_plain_words(page)
        page.screenshot(path=screenshots / "accounts-no-admin.png", full_page=True)

        page.goto("/accounts/globex")
        expect(page.locator("main")).to_contain_text("An account always keeps at least one admin")
        page.goto("/accounts/initech")
        expect(page.get_by_role("heading", name="This account has no admin left")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("always keeps at least one admin")
        assert_plain_words(page)
        page.screenshot(path=screenshots / "account-no-admin.png", full_page=True)

        page.get_by_role("link", name="see how to get admin access back").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "I can't reach an admin of my Enterprise account"
        )
        page.get_by_role("link", name="Continue to the request form").click()
        expect(page.get_by_label("Enterprise account name")).to_have_value("initech")
        expect(page.get_by_label("Contract number")).to_have_value("ENT-2025-000777")
        expect(page.get_by_label("Email address to make admin")).to_have_value(peter.email)
        expect(page.get_by_label("Your email address")).to_have_value(peter.email)
        page.screenshot(path=screenshots / "access-request-form-prefilled.png", full_page=True)

    def test_peter_asks_with_the_demo_letter(self, page, factories, tmp_path, outbox):
        initech = factories.account("initech", contract_number="ENT-2025-000777")
        peter = factories.user("peter@initech.example", password=PASSWORD)
        factories.member(initech, peter, "view,create")
        sign_in(page, peter.email)
        page.goto("/help/no-admin/request?account=initech")
        with page.expect_download() as download:
            page.get_by_role("link", name="download a signed letter for Initech").click()
        letter = tmp_path / "initech-letter.png"
        download.value.save_as(letter)
        page.get_by_label("Why is the change needed?").fill("Our only admin left.")
        page.get_by_label("Executive's name").fill("Bill Lumbergh")
        page.get_by_label("Executive's title").fill("Owner")
        page.get_by_label("Executive's email address").fill("bill@initech.example")
        page.get_by_label("Letter signed by the executive").set_input_files(letter)
        page.get_by_role("button", name="Send the request").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        assert [m.kind for m in outbox.to(peter.email)] == ["access_confirm_requester"]

    def test_the_form_echoes_but_never_looks_up_an_account_the_reader_is_not_in(
        self, page, factories
    ):
        factories.account("initech", contract_number="ENT-2025-000777")
        stranger = factories.user("mallory@elsewhere.example", password=PASSWORD)
        sign_in(page, stranger.email)
        page.goto("/help/no-admin/request?account=initech")
        expect(page.get_by_label("Enterprise account name")).to_have_value("initech")
        expect(page.get_by_label("Contract number")).to_have_value("")  # not theirs to know
        expect(page.get_by_label("Your email address")).to_have_value(stranger.email)


class TestStaffAfterEnrolment:
    def test_staff_land_on_the_desk(self, page, factories, clock, screenshots):
        factories.user(
            "sam@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, mfa=False
        )
        sign_in(page, "sam@keyholder.example")
        expect(page).to_have_url(re.compile(r"/account/security\?staff=1$"))
        mfa = page.get_by_role("region", name="Multi-factor authentication")
        mfa.get_by_label("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Set up multi-factor authentication").click()
        secret = page.locator("#secret").inner_text()
        page.get_by_label("The 6-digit code the app shows").fill(pyotp.TOTP(secret).at(clock.now()))
        page.get_by_role("button", name="Turn it on").click()
        page.get_by_role("link", name="I have saved them").click()
        expect(page).to_have_url(re.compile(r"/desk$"))
        page.screenshot(path=screenshots / "staff-enrolled-desk.png", full_page=True)

    def test_staff_signing_in_with_their_code_land_on_the_desk(self, page, factories, clock):
        agent = factories.user(
            "ada@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT
        )
        sign_in(page, agent.email, totp=agent.totp_secret, clock=clock)
        expect(page).to_have_url(re.compile(r"/desk$"))


class TestProofFromTheDomain:
    def test_the_requester_sees_the_txt_record_with_copy_buttons(
        self, chromium, base_url, runtime, factories, screenshots
    ):
        story = Story.begin(runtime, factories)
        request_id = story.submit()
        story.confirm(request_id)
        context = chromium.new_context(
            base_url=base_url, permissions=["clipboard-read", "clipboard-write"]
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            request_page(page, runtime, story, request_id)
            progress = page.locator("#request-progress")
            expect(progress).to_contain_text("add a record of type TXT")
            value = progress.locator("#dns-value").inner_text()
            assert value.startswith("keyholder-verification=")
            expect(progress.locator("#dns-name")).to_have_text("_keyholder-challenge")
            progress.get_by_role("button", name="Copy the value").click()
            expect(progress.get_by_role("status")).to_have_text(f"Copied: {value}")
            assert page.evaluate("navigator.clipboard.readText()") == value
            assert_plain_words(page)
            page.screenshot(path=screenshots / "access-request-dns-proof.png", full_page=True)
        finally:
            context.close()


class TestCoolingOff:
    def test_the_requester_hears_when_and_who_and_sees_a_countdown(
        self, page, desk_page, runtime, factories, clock, outbox, screenshots
    ):
        story = Story.begin(runtime, factories)
        request_id = story.ready()
        request = story.request(request_id)
        assert request.state is RequestState.COOLING_OFF
        assert request.cooling_off_until is not None

        (email,) = [m for m in outbox.of_kind("access_cooling_off") if REQUESTER in m.recipients]
        assert email.recipients == [REQUESTER]
        when = long_utc(request.cooling_off_until)
        assert when in email.subject
        assert when in email.body
        assert "the executive on record" in email.body
        assert "the security contact on record" in email.body
        assert "dana.whitfield" not in email.body  # roles, never addresses
        # Threaded on the ticket, like the confirmation email before it.
        (first,) = outbox.of_kind("access_confirm_requester")
        assert email.headers is not None
        assert first.message_id in email.headers["References"]

        page.goto(f"/dev/mail/{email.id}")
        expect(page.locator("pre.mail-body").first).to_contain_text(when)
        assert_plain_words(page)
        page.screenshot(path=screenshots / "mail-cooling-off.png", full_page=True)

        follow_mail_link(page, outbox, "access_cooling_off", REQUESTER, "/t/")
        progress = page.locator("#request-progress")
        expect(progress).to_contain_text(f"The change will be made on {when}")
        expect(progress.locator("time")).to_have_attribute(
            "datetime", f"{request.cooling_off_until:%Y-%m-%dT%H:%M:%S}Z"
        )
        expect(progress.locator(".countdown")).to_have_text(
            re.compile(r"^\d+ days?( \d+ hours?)? left$")
        )
        assert_plain_words(page)
        page.screenshot(path=screenshots / "access-request-approved.png", full_page=True)
        assert_plain_emails(outbox.to(REQUESTER))

        # A reviewer opening it now is offered only what can still happen: a rejection.
        reviewer = factories.user(
            "rene@keyholder.example", password=PASSWORD, staff_role=StaffRole.REVIEWER
        )
        desk = desk_page
        sign_in(desk, reviewer.email, totp=reviewer.totp_secret, clock=clock)
        desk.goto(f"/desk/access-requests/{request_id}")
        decision = desk.get_by_role("group", name="Decision")
        expect(decision.get_by_label("Reject")).to_be_visible()
        expect(decision.get_by_label("Approve")).to_have_count(0)
        expect(decision.get_by_label("Ask the requester for information")).to_have_count(0)
        desk.screenshot(path=screenshots / "access-request-review-cooling-off.png", full_page=True)


def sign_in_recently(runtime, user: User) -> None:
    """As if ``user`` had just signed in: an admin who can act (S21)."""
    with runtime.uow() as uow:
        uow.session.execute(
            update(User).where(User.id == user.id).values(last_login_at=uow.clock.now())
        )
        uow.commit()


class TestStaleAndClosedRequests:
    def test_confirming_a_request_overtaken_by_a_grant_closes_it_saying_why(
        self, page, runtime, factories, outbox, screenshots
    ):
        story = Story.begin(runtime, factories)
        old = story.submit(requester_email=NEW_ADMIN, email_to_add=NEW_ADMIN)
        # Meanwhile the address became an admin (another request, or a recovered mailbox).
        new_admin = factories.user(NEW_ADMIN, password=PASSWORD)
        factories.member(story.account, new_admin, "view,manage")
        sign_in_recently(runtime, new_admin)

        follow_mail_link(page, outbox, "access_confirm_requester", NEW_ADMIN, "/confirm-email/")
        page.get_by_role("button", name="Confirm my request").click()
        expect(page.get_by_role("heading", name="Your request is closed")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text(
            f"{NEW_ADMIN} is already an admin of Acme Corporation"
        )
        assert_plain_words(page)
        page.screenshot(path=screenshots / "access-request-overtaken.png", full_page=True)
        assert story.request(old).state is RequestState.REJECTED
        assert outbox.of_kind("access_routed_admins") == []  # the new admin is not asked
        (closed,) = outbox.of_kind("access_outcome_notice")
        assert "already an admin" in closed.body

        page.get_by_role("link", name="See the request's ticket").click()
        expect(page.locator("#request-progress")).to_contain_text("closed")

    def test_a_closed_request_says_nothing_of_reading_its_letter(
        self, page, runtime, factories, outbox, screenshots
    ):
        story = Story.begin(runtime, factories)
        admin = factories.admin_of(story.account, "alice@acme.example")
        sign_in_recently(runtime, admin)
        request_id = story.submit()
        story.confirm(request_id)  # the admin is asked (S21); reviewers close it
        assert outbox.of_kind("access_routed_admins")
        reviewer = factories.actor(story.reviewers[0])
        decisions.decide(
            runtime.uow(),
            request_id,
            Decision.REJECT,
            actor=reviewer,
            note="An admin of the account can add you: please ask them.",
        )
        assert story.request(request_id).prescreen is None  # the worker never read the letter

        request_page(page, runtime, story, request_id)
        progress = page.locator("#request-progress")
        expect(progress).to_contain_text("Your request is closed")
        expect(progress).not_to_contain_text("could not read your letter")
        expect(progress).not_to_contain_text("reading your letter")
        expect(progress.get_by_role("heading", name="Your letter")).to_have_count(0)
        expect(progress).not_to_have_attribute("data-poll", re.compile("."))
        assert_plain_words(page)
        page.screenshot(path=screenshots / "access-request-closed.png", full_page=True)


class TestPlainWordsForCustomers:
    def test_a_refused_letter_says_why_without_a_code(self, page, runtime, factories):
        Story.begin(runtime, factories)
        page.goto("/help/no-admin/request")
        for label, value in [
            ("Enterprise account name", "acme-corp"),
            ("Contract number", "ENT-2024-001234"),
            ("Email address to make admin", NEW_ADMIN),
            ("Why is the change needed?", "Our admin left."),
            ("Executive's name", "Dana Whitfield"),
            ("Executive's title", "CEO"),
            ("Executive's email address", "dana.whitfield@acme.example"),
            ("Your email address", REQUESTER),
        ]:
            page.get_by_label(label).fill(value)
        page.get_by_label("Letter signed by the executive").set_input_files(
            files=[{"name": "letter.txt", "mimeType": "text/plain", "buffer": b"Signed: me\n"}]
        )
        page.get_by_role("button", name="Send the request").click()
        expect(page.get_by_role("alert")).to_contain_text("PDF, PNG or JPEG")
        assert_plain_words(page)

    def test_an_admin_refused_a_staff_address_reads_no_code(self, page, factories):
        account = factories.account("acme-corp")
        admin = factories.user("alice@acme.example", password=PASSWORD)
        factories.member(account, admin, "view,manage")
        factories.staff("ada@keyholder.example")
        sign_in(page, admin.email)
        page.goto("/accounts/acme-corp")
        form = page.locator("form", has=page.get_by_role("button", name="Add member"))
        form.get_by_label("Email").fill("ada@keyholder.example")
        form.get_by_label("manage").check()
        form.get_by_role("button", name="Add member").click()
        expect(page.get_by_role("alert")).to_contain_text("cannot be given manage")
        assert_plain_words(page)
