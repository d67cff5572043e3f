"""S31a: the requester's view never says whether the account exists or has an admin.

The same request is made for an account name nobody holds, for an account with
no admin, and for an account whose admin can act (routed to them, S21). All the
requester can observe (the API's answers, the ticket's page behind the emailed
link, the ticket as the API shows it to them, every email they get, with its
threading headers) must be the same, from the submission to the end. Only the
variable parts (names, numbers, tokens) are normalised.

Out of scope: response times (the work done at confirmation differs by case;
S1's timing bound is measured for resets only).
"""

from __future__ import annotations

import difflib
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from keyholder.access import decisions
from keyholder.access.decisions import Decision
from keyholder.accounts.models import ContactKind
from keyholder.accounts.service import ContactInput, create_account
from keyholder.identity.models import User
from keyholder.mail.models import OutboxMessage
from keyholder.web.api.access import FORM_FIELDS
from tests.access.flow import FORM, Story, letter_png, link_token
from tests.factories import OPERATOR, PASSWORD
from tests.web.ui.conftest import make_browser
from tests.web.ui.pages import text_of

URL = "/api/access-requests"
LINK = re.compile(r"https?://[^/\s]+(/t/\d+/kht_[0-9a-f]{32})")
NOTE = "We could not verify this request."
CASES = {
    "unknown": "no-such-corp",  # (a) no account by that name
    "no-admin": "acme-corp",  # (b) an account without admin: the review proper
    "active-admin": "globex-corp",  # (c) an admin who can act: they are asked (S21)
}


@pytest.fixture
def story(runtime, factories):
    story = Story.begin(runtime, factories)
    globex = create_account(
        runtime.uow(),
        name="globex-corp",
        display_name="Globex",
        contract_number="ENT-2024-004321",
        domains=["globex.example"],
        contacts=[
            ContactInput(ContactKind.EXECUTIVE, "Hank Scorpio", "CEO", "hank@globex.example")
        ],
        actor=OPERATOR,
    )
    runtime.clock.advance(timedelta(days=30))
    admin = factories.admin_of(globex, "boss@globex.example")
    with runtime.uow() as uow:
        uow.session.get(User, admin.id).last_login_at = uow.clock.now()
        uow.commit()
    return story


class Observer:
    """What one requester sees, with the parts that must differ replaced by placeholders."""

    def __init__(self, client, story: Story, case: str, account_name: str = "") -> None:
        self.client, self.story, self.case = client, story, case
        self.requester = f"{case}@requester.example"
        self.account_name = account_name or CASES[case]
        self.ticket = 0
        self.request_id: uuid.UUID | None = None
        self.emails_seen = 0
        user = story.factories.user(self.requester, password=PASSWORD)  # address verified below
        with story.runtime.uow() as uow:
            uow.session.execute(
                update(User).where(User.id == user.id).values(email_verified_at=uow.clock.now())
            )
            uow.commit()
        self.auth = story.factories.auth(user)

    def normalise(self, text: str) -> str:
        text = re.sub(r"kh[at]_[A-Za-z0-9_-]+", "TOKEN", text)
        # Each request's DNS proof value is random, whatever the account (S23b).
        text = re.sub(r"keyholder-verification=[A-Za-z0-9_-]+", "DNS-PROOF", text)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", text)
        text = re.sub(r"<[^<>@\s]+@[^<>\s]+>", "<MESSAGE-ID>", text)  # Message-IDs
        text = re.sub(r'"id":\d+', '"id":ID', text)  # message numbers run across tickets
        text = text.replace(self.requester, "REQUESTER").replace(self.account_name, "ACCOUNT")
        # The ticket's number: "#7", "/t/7/", "/tickets/7", "number":7.
        return re.sub(rf"(?<=[#/:]){self.ticket}(?![0-9])", "N", text) if self.ticket else text

    def submit(self) -> dict[str, Any]:
        letter = letter_png()
        fields = {name: getattr(FORM, name) for name in FORM_FIELDS}
        response = self.client.post(
            URL,
            data={**fields, "account_name": self.account_name, "requester_email": self.requester},
            files={"letter": (letter.filename, letter.data, "image/png")},
        )
        (mail,) = self._new_emails_raw()
        self.request_id, token = link_token(mail.body, "confirm-email")
        self.token = token
        self.ticket = self.story.request(self.request_id).ticket_id
        return {"status": response.status_code, "body": response.json(), **self.seen([mail])}

    def confirm(self) -> dict[str, Any]:
        response = self.client.post(f"{URL}/{self.request_id}/confirm-email/{self.token}")
        return {
            "status": response.status_code,
            "body": self.normalise(response.text),
            **self.seen(self._new_emails_raw()),
        }

    def rejected_by_a_reviewer(self) -> dict[str, Any]:
        assert self.request_id is not None
        decisions.decide(
            self.story.runtime.uow(),
            self.request_id,
            Decision.REJECT,
            actor=self.story.factories.actor(self.story.reviewers[0]),
            note=NOTE,
        )
        return self.seen(self._new_emails_raw())

    def seen(self, new_mail: list[OutboxMessage]) -> dict[str, Any]:
        """The emails just sent to the requester, the ticket's page and the ticket in the API."""
        page = self.client.get(self._link())
        ticket = self.client.get(f"/api/tickets/{self.ticket}", headers=self.auth)
        listed = self.client.get("/api/tickets", headers=self.auth)
        return {
            "emails": [self._email(m) for m in new_mail],
            "page": (page.status_code, self.normalise(text_of(page.text))),
            "ticket": (ticket.status_code, self.normalise(ticket.text)),
            "listed": (listed.status_code, self.normalise(listed.text)),
        }

    def _email(self, mail: OutboxMessage) -> dict[str, Any]:
        headers = {k: self.normalise(str(v)) for k, v in (mail.headers or {}).items()}
        return {
            "kind": mail.kind,
            "to": [self.normalise(r) for r in mail.recipients],
            "subject": self.normalise(mail.subject),
            "body": self.normalise(mail.body),
            "html": self.normalise(mail.body_html or ""),
            "headers": headers,
        }

    def _all_to_requester(self) -> list[OutboxMessage]:
        return self.story.emails(to=self.requester)

    def _new_emails_raw(self) -> list[OutboxMessage]:
        mails = self._all_to_requester()
        new, self.emails_seen = mails[self.emails_seen :], len(mails)
        return new

    def _link(self) -> str:
        (first, *_) = self._all_to_requester()
        match = LINK.search(first.body)
        assert match, first.body
        return match.group(1)


def _diff(one: object, other: object) -> str:
    lines = [re.sub(r"(?<=[.:]) ", "\n", str(x)).splitlines() for x in (one, other)]
    return "\n".join(difflib.unified_diff(*lines, lineterm="", n=1))


def test_s31a_the_requester_sees_the_same_whatever_the_account(client, story):
    observers = {case: Observer(client, story, case) for case in CASES}
    steps = {}
    for step in ("submit", "confirm", "rejected_by_a_reviewer"):
        seen = {case: getattr(o, step)() for case, o in observers.items()}
        unknown = seen.pop("unknown")
        for case, other in seen.items():
            for part, value in unknown.items():
                assert other[part] == value, f"{step}: {part} differs for {case}:\n" + _diff(
                    value, other[part]
                )
        steps[step] = unknown
    # Not vacuous: each step showed what it should.
    assert steps["submit"]["status"] == 202
    assert "received, in review" in steps["confirm"]["page"][1]
    ended = steps["rejected_by_a_reviewer"]
    assert "closed" in ended["page"][1]
    assert NOTE in ended["page"][1]
    assert [e["kind"] for e in ended["emails"]] == ["desk_reply", "access_outcome_notice"]
    assert '"status":"solved"' in ended["ticket"][1]
    # The people on record still heard of it: the executive of acme-corp, the admin of globex.
    assert story.emails("access_executive", to="dana.whitfield@acme.example")
    assert story.emails("access_routed_admins", to="boss@globex.example")


def test_s31a_a_request_shows_in_nobodys_portal_until_its_requester_confirmed(
    client, story, runtime
):
    """Anyone can type a customer's address: the ticket appears only once they confirmed."""
    carol = Observer(client, story, "carol", "acme-corp")
    carol.submit()
    number = carol.ticket
    with make_browser(runtime) as browser:
        browser.sign_in(carol.requester)

        def seen() -> tuple[bool, bool, bool, bool]:
            listed = client.get("/api/tickets", headers=carol.auth).json()
            read = client.get(f"/api/tickets/{number}", headers=carol.auth)
            page = browser.get("/tickets").text
            return (
                number in [t["number"] for t in listed],
                read.status_code == 200,
                f'href="/tickets/{number}"' in page,
                browser.get(f"/tickets/{number}").status_code == 200,
            )

        assert seen() == (False, False, False, False)
        assert browser.get(f"/tickets/{number}/progress").status_code == 404
        carol.confirm()
        assert seen() == (True, True, True, True)
