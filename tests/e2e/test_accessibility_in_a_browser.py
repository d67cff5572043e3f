"""Accessibility, time zones and the offline API docs, in a real browser.

Every page state a test here visits is checked by axe-core (``axe.py``, WCAG 2.2
A/AA, no serious or critical violation); the tours below visit each role's
pages, error states included, and check that the watch really ran on them.
The keyboard walks operate the request form and the review decision with Tab,
arrows, Space and Enter only.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pyotp
import pytest

from keyholder.identity.models import StaffRole
from tests.access.flow import EXECUTIVE, FORM, NEW_ADMIN, REQUESTER, Story, letter_png
from tests.e2e.conftest import TIMEOUT_MS
from tests.factories import PASSWORD

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {id: el.id, tag: el.tagName.toLowerCase(), type: el.type || "",
            text: (el.innerText || el.value || "").trim().slice(0, 60),
            outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2};
}"""


def sign_in(page, email: str, *, totp: str | None = None, clock=None) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if totp is not None:
        clock.advance(timedelta(seconds=30))  # each code works once
        page.get_by_label("Code").fill(pyotp.TOTP(totp).at(clock.now()))
        page.get_by_role("button", name="Continue").click()
    expect(page.locator(".who-email")).to_have_text(email)


def link_in_mail(page, outbox, kind: str, to: str, fragment: str) -> str:
    row = [m for m in outbox.of_kind(kind) if to in m.recipients][-1]
    page.goto(f"/dev/mail/{row.id}")
    href = page.locator(f"pre.mail-body a[href*='{fragment}']").first.get_attribute("href")
    assert href
    return urlsplit(href).path


def visited(axe_watch, page, *paths: str) -> None:
    """The watch ran axe on each of ``paths`` (a regular expression each)."""
    axe_watch.check(page)
    for path in paths:
        assert any(re.fullmatch(path, seen) for seen in axe_watch.checked), path


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, wanted, *, limit: int = 80) -> list[dict]:
    """Press Tab until ``wanted(focused element)``; every stop on the way, in order."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = focused(page)
        stops.append(stop)
        if wanted(stop):
            return stops
    raise AssertionError(f"never reached; stops: {stops}")


@pytest.fixture
def story(runtime, factories) -> Story:
    return Story.begin(runtime, factories)


class TestTheWatch:
    def test_a_violation_on_a_page_is_reported_with_its_rule_and_element(self, page, axe_watch):
        page.goto("/login")
        page.locator("main").evaluate(
            "main => main.insertAdjacentHTML('beforeend', '<input id=unnamed><a href=/></a>')"
        )
        page.get_by_role("link", name="Forgot your password?").click()  # leaving: checked
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        rules = {v["id"]: v["nodes"] for v in axe_watch.found.pop("/login")}
        assert set(rules) == {"label", "link-name"}
        assert rules["label"][0].startswith("#unnamed")
        assert axe_watch.found == {}  # the next page passed


class TestEveryPageOfEachRole:
    """axe-core on each role's pages; ``visited`` proves the check ran on them."""

    def test_an_anonymous_visitor_and_a_requester(self, page, story, outbox, axe_watch):
        for path in (
            "/",
            "/login",
            "/password-reset",
            "/help/no-admin",
            "/no-such-page",
            "/dev/mail",
        ):
            page.goto(path)
        page.goto("/login")
        page.get_by_label("Email").fill("nobody@acme.example")
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("alert")).to_be_focused()  # an error takes the focus
        page.goto("/password-reset")
        page.get_by_label("Email").fill("nobody@acme.example")
        page.get_by_role("button", name="Email me a link").click()
        expect(page.get_by_role("status")).to_be_visible()

        request_id = story.submit()
        page.goto(link_in_mail(page, outbox, "access_confirm_requester", REQUESTER, "/confirm"))
        page.get_by_role("button", name="Confirm my request").click()
        expect(page.get_by_role("status")).to_contain_text("your request is confirmed")
        progress = page.url
        page.goto(
            link_in_mail(page, outbox, "access_executive", EXECUTIVE, "/executive-confirmation/")
        )
        page.goto(f"/access-requests/{request_id}/veto/not-a-token")
        page.goto(progress)
        visited(
            axe_watch,
            page,
            "/",
            "/login",
            "/password-reset",
            "/help/no-admin",
            "/no-such-page",
            "/dev/mail",
            r"/dev/mail/\d+",
            r"/access-requests/.+/confirm-email/.+",
            r"/access-requests/.+/executive-confirmation/.+",
            r"/access-requests/.+/veto/not-a-token",
            r"/t/\d+/.+",
        )

    def test_a_member_and_an_account_admin(self, page, story, factories, axe_watch):
        member = factories.user("member@acme.example", password=PASSWORD, name="Mia Member")
        factories.member(story.account, member, "view,manage")
        sign_in(page, member.email)
        for path in ("/accounts", "/accounts/acme-corp", "/account/security", "/tickets"):
            page.goto(path)
        page.goto("/tickets/new")
        page.get_by_label("Subject").fill("Invoices do not export")
        page.get_by_label("Your message").fill("The export button does nothing.")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("status")).to_be_visible()
        page.goto("/account/security")
        mfa = page.get_by_role("region", name="Multi-factor authentication")
        mfa.get_by_label("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Set up multi-factor authentication").click()
        expect(page.locator("figure.qr svg")).to_be_visible()
        visited(
            axe_watch,
            page,
            "/accounts",
            "/accounts/acme-corp",
            "/account/security",
            "/tickets",
            "/tickets/new",
            r"/tickets/\d+",
            "/account/mfa/enrolment",
        )

    @pytest.mark.parametrize("role", [StaffRole.AGENT, StaffRole.REVIEWER, StaffRole.ADMIN])
    def test_staff(self, page, story, factories, clock, axe_watch, role):
        customer = factories.user("carol@acme.example", password=PASSWORD, name="Carol")
        ticket = factories.ticket(customer, subject="Export is broken")
        request_id = story.submit()
        story.confirm(request_id)
        staff = factories.user(
            f"{role.value}@keyholder.example", password=PASSWORD, staff_role=role, name="Sam"
        )
        sign_in(page, staff.email, totp=staff.totp_secret, clock=clock)
        paths = (
            "/desk",
            "/desk?status=open",
            f"/desk/tickets/{ticket.id}",
            "/desk/canned-replies",
            "/desk/access-requests",
            f"/desk/access-requests/{request_id}",
        )
        for path in paths:
            page.goto(path)
        page.set_viewport_size({"width": 390, "height": 800})  # wide tables scroll on a phone
        for path in paths:
            page.goto(path)
        visited(
            axe_watch,
            page,
            "/desk",
            r"/desk/tickets/\d+",
            "/desk/canned-replies",
            "/desk/access-requests",
            r"/desk/access-requests/[0-9a-f-]+",
        )


class TestKeyboardOnly:
    def test_the_request_form_with_tab_and_enter(self, page, story, outbox, axe_watch, screenshots):
        page.goto("/help/no-admin/request")
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "Skip to the content"
        assert focused(page)["outline"]
        page.keyboard.press("Enter")  # the skip link: the next Tab is inside the content
        stops = tab_to(page, lambda s: s["id"] == "account_name")
        assert all(stop["outline"] for stop in stops)  # focus is always visible
        # Fields in the order they are read, each typed into from the keyboard. The
        # contract number is left empty, and the browser's own check switched off,
        # so the server's error summary answers.
        page.locator("#contract_number").evaluate("el => el.removeAttribute('required')")
        order = [
            ("account_name", "acme-corp"),
            ("contract_number", ""),
            ("email_to_add", NEW_ADMIN),
            ("reason", FORM.reason),
            ("executive_name", FORM.executive_name),
            ("executive_title", FORM.executive_title),
            ("executive_email", EXECUTIVE),
            ("requester_name", FORM.requester_name),
            ("requester_email", REQUESTER),
        ]
        for number, (field, value) in enumerate(order):
            if number:
                page.keyboard.press("Tab")
            assert focused(page)["id"] == field
            assert focused(page)["outline"]
            page.keyboard.type(value)
        page.keyboard.press("Tab")
        assert focused(page)["id"] == "letter"
        page.locator("#letter").set_input_files(
            files=[{"name": "letter.png", "mimeType": "image/png", "buffer": letter_png().data}]
        )
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "Send the request"
        page.keyboard.press("Enter")

        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Fill in the contract number")
        expect(summary).to_be_focused()  # the summary is read out first
        page.keyboard.press("Tab")
        assert focused(page)["tag"] == "a"
        page.keyboard.press("Enter")  # the summary's link moves focus to the field
        expect(page.locator("#contract_number")).to_be_focused()
        page.screenshot(path=screenshots / "request-form-error-link-focus.png")
        page.keyboard.type(FORM.contract_number)
        expect(page.locator("#email_to_add")).to_have_value(NEW_ADMIN)  # kept
        stops = tab_to(page, lambda s: s["id"] == "letter")
        page.locator("#letter").set_input_files(
            files=[{"name": "letter.png", "mimeType": "image/png", "buffer": letter_png().data}]
        )
        tab_to(page, lambda s: s["text"] == "Send the request")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        visited(axe_watch, page, "/help/no-admin/request", "/help/no-admin/sent")

    def test_the_review_decision_with_tab_arrows_space_and_enter(
        self, page, story, factories, clock, axe_watch, screenshots
    ):
        request_id = story.submit()
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)
        reviewer = factories.user(
            "rene@keyholder.example", password=PASSWORD, staff_role=StaffRole.REVIEWER
        )
        sign_in(page, reviewer.email, totp=reviewer.totp_secret, clock=clock)
        page.goto(f"/desk/access-requests/{request_id}")
        page.locator("#decision-approve").evaluate("el => el.removeAttribute('required')")
        page.keyboard.press("Tab")
        stops = tab_to(page, lambda s: s["id"] == "note")  # no choice made: past the radios
        assert all(stop["outline"] for stop in stops)
        assert [s["type"] for s in stops[-2:]] == ["radio", "textarea"]
        page.keyboard.type("Letter, contract and executive confirmation match.")
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "Record my decision"
        page.keyboard.press("Enter")

        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Choose approve, reject or request information")
        expect(summary).to_be_focused()
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.locator("#decision-approve")).to_be_focused()
        page.keyboard.press("ArrowDown")  # arrows move within the group and choose
        expect(page.get_by_label("Ask the requester for information")).to_be_checked()
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Space")
        expect(page.get_by_label("Approve")).to_be_checked()
        page.locator("#decision-approve").scroll_into_view_if_needed()
        page.screenshot(path=screenshots / "review-decision-keyboard-focus.png")
        page.keyboard.press("Tab")
        assert focused(page)["id"] == "note"
        expect(page.locator("#note")).to_have_value(
            "Letter, contract and executive confirmation match."
        )
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="approval")).to_be_visible()
        visited(axe_watch, page, r"/desk/access-requests/[0-9a-f-]+")


class TestTimesInTheReadersZone:
    def test_local_time_with_utc_in_the_tooltip_and_utc_without_script(
        self, open_page, chromium, base_url, factories, clock, screenshots
    ):
        customer = factories.user("carol@acme.example", password=PASSWORD, name="Carol")
        ticket = factories.ticket(customer, subject="Export is broken")
        opened = clock.now().astimezone(UTC)
        assert (opened.hour, opened.minute) == (12, 0)  # the fixed test clock
        for zone, local in [("Asia/Kolkata", "17:30"), ("America/New_York", "07:00")]:
            page = open_page(timezone_id=zone)
            sign_in(page, customer.email)
            page.goto(f"/tickets/{ticket.id}")
            stamp = page.locator("article.message time").first
            day = opened.astimezone(ZoneInfo(zone))
            expect(stamp).to_have_text(re.compile(rf"^{day.day} {day:%b} {day.year}, {local} \S+$"))
            expect(stamp).to_have_attribute("title", f"{opened.day} {opened:%b} 2026, 12:00 UTC")
            expect(stamp).to_have_attribute("datetime", f"{opened:%Y-%m-%d}T12:00:00Z")
        page.screenshot(path=screenshots / "ticket-time-new-york.png", full_page=True)

        context = chromium.new_context(base_url=base_url, java_script_enabled=False)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            bare = context.new_page()
            sign_in(bare, customer.email)
            bare.goto(f"/tickets/{ticket.id}")
            expect(bare.locator("article.message time").first).to_have_text(
                f"{opened.day} {opened:%b} 2026, 12:00 UTC"
            )
        finally:
            context.close()

    def test_no_page_writes_a_date_with_slashes_or_a_bare_number_month(
        self, page, story, factories, clock
    ):
        staff = factories.user(
            "ada@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT
        )
        ticket = factories.ticket(factories.user("carol@acme.example"), subject="Export")
        sign_in(page, staff.email, totp=staff.totp_secret, clock=clock)
        for path in ("/desk", f"/desk/tickets/{ticket.id}", "/dev/mail", "/account/security"):
            page.goto(path)
            text = page.locator("main").inner_text()
            assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", text), path
            assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), path  # a month by name
            stamp = page.locator("main time").first
            expect(stamp).to_have_attribute("title", re.compile(r"UTC\)?$"))


class TestApiDocsOffline:
    def test_swagger_ui_renders_from_this_site_only(self, page, base_url, screenshots):
        requested: list[str] = []
        refused: list[str] = []

        def offline(route) -> None:
            url = route.request.url
            requested.append(url)
            if url.startswith(base_url):
                route.continue_()
            else:
                refused.append(url)
                route.abort("internetdisconnected")

        page.route("**/*", offline)
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto("/api/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Keyholder")
        expect(page.locator(".opblock").first).to_be_visible()
        page.get_by_role("button", name=re.compile(r"GET\s*.healthz")).first.click()
        expect(page.get_by_text("The process is up.").first).to_be_visible()
        page.screenshot(path=screenshots / "api-docs-offline.png", full_page=False)
        assert refused == []
        assert any(u.endswith("/static/swagger-ui/swagger-ui-bundle.js") for u in requested)
        assert problems == []  # no script or style refused by the page's policy
