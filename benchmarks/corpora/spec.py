"""What a letter says, independent of how it is laid out: one ``LetterSpec`` per letter.

Every generator renders the same ``LetterSpec``; the spec alone decides the ground
truth (items as written, the records and the request form they are compared with, and
the check outcomes a correct pre-screen gives). The wording is drawn from the habits
of people writing such letters: the account as a slug or as its display name in
quotes, contract numbers labelled in several ways, dates in four formats.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class Company:
    slug: str
    display_name: str  # as on record, and as people write it
    domain: str
    street: str
    city: str
    phone: str

    @property
    def town(self) -> str:
        """The town alone, as in "Leeds, 3 March 2026" above a closing."""
        words = [w.strip(",") for w in self.city.split() if w.strip(",").isalpha() and len(w) > 2]
        return words[0]


COMPANIES = (
    Company(
        "northwind-traders",
        "Northwind Traders - Enterprise",
        "northwind.example",
        "400 Harbour Road",
        "Seattle, WA 98101",
        "+1 206 555 0142",
    ),
    Company(
        "contoso-eu",
        "Contoso Europe B.V.",
        "contoso.example",
        "Keizersgracht 120",
        "1015 CW Amsterdam",
        "+31 20 555 0199",
    ),
    Company(
        "fabrikam",
        "Fabrikam, Inc.",
        "fabrikam.example",
        "18 Mill Lane",
        "Leeds LS1 4AP",
        "+44 113 555 0123",
    ),
    Company(
        "tailspin-toys",
        "Tailspin Toys (UK) Ltd",
        "tailspintoys.example",
        "Unit 7, Riverside Park",
        "Bristol BS2 0JA",
        "+44 117 555 0167",
    ),
    Company(
        "wide-world-importers",
        "Wide World Importers",
        "wideworld.example",
        "2200 Commerce Blvd",
        "Austin, TX 78701",
        "+1 512 555 0110",
    ),
    Company(
        "adventure-works",
        "Adventure Works Cycles - EMEA",
        "adventure-works.example",
        "Rue du Marché 9",
        "1204 Genève",
        "+41 22 555 01 88",
    ),
    Company(
        "litware",
        "Litware Labs",
        "litware.example",
        "55 Queen Street",
        "Auckland 1010",
        "+64 9 555 0133",
    ),
    Company(
        "proseware-gmbh",
        "Proseware GmbH",
        "proseware.example",
        "Hauptstraße 31",
        "80331 München",
        "+49 89 555 0177",
    ),
)

FIRST = [
    "Laura",
    "Ibrahim",
    "Mei-Ling",
    "Tomasz",
    "Grace",
    "Rafael",
    "Aoife",
    "Jonas",
    "Beatriz",
    "Kwame",
    "Lena",
    "Siddharth",
    "Charlotte",
    "Mateo",
    "Yuki",
    "Oluwaseun",
]
LAST = [
    "Hargreaves",
    "Al-Mansouri",
    "Chen",
    "Kowalczyk",
    "O'Donnell",
    "Fernandes",
    "Byrne",
    "Lindholm",
    "van der Berg",
    "Mensah",
    "Schäfer",
    "Raghunathan",
    "Whitmore-Price",
    "Delgado",
    "Sato",
    "Adeyemi",
]
C_TITLES = [
    "Chief Executive Officer",
    "CEO",
    "Chief Financial Officer",
    "CFO",
    "President",
    "Managing Director",
    "Owner",
    "Founder & CEO",
    "Chief Operating Officer",
    "Chief Technology Officer",
    "Co-Founder and President",
]
REASONS = [
    "our only administrator, who set up the account, left the company in January",
    "the administrator's mailbox was deleted when we moved to a new email provider",
    "our IT manager retired and nobody else was ever given admin rights",
    "the sole admin is on long-term leave and cannot be reached",
    "after a restructuring, the team that managed the account no longer exists",
    "our admin's account was locked after they left and the address no longer receives mail",
]
CLOSINGS = [
    "Sincerely,",
    "Yours sincerely,",
    "Kind regards,",
    "Best regards,",
    "Regards,",
    "Yours faithfully,",
    "With best regards,",
    "Respectfully,",
]
INKS = {  # name -> RGB of the ink where it lies thick on white paper
    "blue": (28, 52, 150),
    "dark-blue": (18, 28, 92),
    "black": (22, 22, 28),
    "royal-blue": (40, 80, 200),
    "green": (20, 105, 60),
    "violet": (92, 40, 140),
}
PENS = ("ballpoint", "gel", "fountain", "felt")
SIGNATURE_KINDS = ("full", "initials", "flourish")
OVERLAPS = ("none", "closing", "name", "both")
CLUTTER = ("none", "stamp", "seal", "logo", "rule", "printed")
VARIANTS = ("genuine", "tampered-contract", "wrong-executive")
CHECK_IDS = (
    "account_name",
    "contract_number",
    "email_to_add",
    "executive_on_record",
    "executive_email_domain",
    "executive_title",
    "reason",
    "date_recent",
    "signature",
)
DEFAULT_TODAY = date(2026, 6, 15)


@dataclass(frozen=True)
class SignatureSpec:
    kind: str  # full | initials | flourish
    pen: str  # ballpoint | gel | fountain | felt
    ink: str  # a key of INKS
    overlap: str  # none | closing | name | both: what the ink reaches into
    seed: int

    @property
    def rgb(self) -> tuple[int, int, int]:
        return INKS[self.ink]


@dataclass(frozen=True)
class LetterSpec:
    number: int
    seed: int
    company: Company
    account_written: str  # the account as the letter writes it
    account_style: str  # slug | quoted | display | both
    contract_on_record: str
    contract_on_letter: str
    email_to_add: str
    reason: str
    executive_name: str
    executive_title: str
    executive_email: str  # on the letter (and typed in the form)
    executive_email_on_record: str
    dated: date
    date_text: str
    today: date
    closing: str
    signature: SignatureSpec | None
    clutter: str  # what is printed or stamped in the signature band besides any ink
    variant: str  # genuine | tampered-contract | wrong-executive
    labels: dict[str, str] = field(default_factory=dict)  # how items are introduced

    @property
    def signed(self) -> bool:
        return self.signature is not None

    def truth(self) -> dict[str, str]:
        """The items as a perfect reader finds them on the page."""
        return {
            "account_name": self.account_written,
            "contract_number": self.contract_on_letter,
            "email_to_add": self.email_to_add,
            "reason": self.reason,
            "date": self.dated.isoformat(),
            "executive_name": self.executive_name,
            "executive_title": self.executive_title,
            "executive_email": self.executive_email,
        }

    def typed(self) -> dict[str, str]:
        """What the requester typed in the form (``keyholder letters check`` options)."""
        return {
            "account_name": self.company.slug,
            "email_to_add": self.email_to_add,
            "contract_number": self.contract_on_record,
            "executive_email": self.executive_email,
        }

    def records(self) -> dict[str, Any]:
        """The account as Keyholder holds it (``AccountRecords``)."""
        return {
            "name": self.company.slug,
            "display_name": self.company.display_name,
            "contract_number": self.contract_on_record,
            "verified_domains": [self.company.domain],
            "executive_contacts": [
                {
                    "name": self.executive_name,
                    "title": self.executive_title,
                    "email": self.executive_email_on_record,
                }
            ],
        }

    def expected(self) -> dict[str, str]:
        """Each check's correct outcome (pass/fail) given the records and the form."""
        outcome = dict.fromkeys(CHECK_IDS, "pass")
        if self.variant == "tampered-contract":
            outcome["contract_number"] = "fail"
        if self.variant == "wrong-executive":
            outcome["executive_on_record"] = "fail"
            if not self.executive_email.endswith("@" + self.company.domain):
                outcome["executive_email_domain"] = "fail"
        if not self.signed:
            outcome["signature"] = "fail"
        return outcome

    def manifest(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "seed": self.seed,
            "variant": self.variant,
            "signed": self.signed,
            "signature": asdict(self.signature) if self.signature else None,
            "clutter": self.clutter,
            "account_style": self.account_style,
            "today": self.today.isoformat(),
            "truth": self.truth(),
            "typed": self.typed(),
            "records": self.records(),
            "expected": self.expected(),
        }


def _date_text(d: date, style: int) -> str:
    return [
        f"{d.day} {d:%B %Y}",
        f"{d:%B} {d.day}, {d.year}",
        d.isoformat(),
        f"{d:%d} {d:%b}. {d.year}",
    ][style]


def _account_written(company: Company, style: str) -> str:
    if style == "slug":
        return company.slug
    if style == "quoted":
        return f"\u201c{company.display_name}\u201d"
    if style == "both":
        return f'"{company.display_name}" ({company.slug})'
    return company.display_name


def _ascii_name(name: str) -> str:
    folded = name.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    return "".join(c for c in folded if c.isalnum() and c.isascii())


def _local_part(rng: random.Random, first: str, last: str) -> str:
    f, surname = _ascii_name(first), _ascii_name(last)
    return rng.choice(
        [f"{f}.{surname}", f"{f[0]}{surname}", f"{f}_{surname}", f, f"{f[0]}.{surname}"]
    )


def _tamper(contract: str, rng: random.Random) -> str:
    digits = [i for i, c in enumerate(contract) if c.isdigit()]
    position = rng.choice(digits[-6:])
    new = str((int(contract[position]) + rng.randint(1, 9)) % 10)
    return contract[:position] + new + contract[position + 1 :]


def random_spec(
    seed: int,
    number: int,
    *,
    today: date = DEFAULT_TODAY,
    signed: bool | None = None,
    variant: str | None = None,
) -> LetterSpec:
    """The letter ``number`` of a corpus whose seed is ``seed``: the same spec whatever
    else the corpus holds or in which order letters are made."""
    rng = random.Random(f"spec/{seed}/{number}")
    company = rng.choice(COMPANIES)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{first} {rng.choice('ABCDJMRS')}. {last}" if rng.random() < 0.15 else f"{first} {last}"
    new_first, new_last = rng.choice(FIRST), rng.choice(LAST)
    email_to_add = f"{_local_part(rng, new_first, new_last)}@{company.domain}"
    on_record = f"{_local_part(rng, first, last)}@{company.domain}"
    contract = rng.choice(
        [
            f"ENT-{rng.randint(2019, 2026)}-{rng.randint(0, 999999):06d}",
            f"ENT{rng.randint(2019, 2026)}{rng.randint(0, 999999):06d}",
            f"ENT-{rng.randint(2019, 2026)}-{rng.randint(0, 999999):06d}",
        ]
    )
    variant = variant or rng.choices(VARIANTS, weights=(8, 1, 1))[0]
    letter_email, letter_contract = on_record, contract
    if variant == "tampered-contract":
        letter_contract = _tamper(contract, rng)
    elif variant == "wrong-executive":  # the same name, an address not on record
        letter_email = rng.choice(
            [
                f"{_local_part(rng, first, last)}@mail.example.net",
                f"{_local_part(rng, first, last)}2@{company.domain}",
                f"{_local_part(rng, last, first)}@{company.domain}",
            ]
        )
        if letter_email == on_record:
            letter_email = f"x.{on_record}"
    signed = rng.random() < 0.6 if signed is None else signed
    signature = None
    if signed:
        ink = rng.choices(list(INKS), weights=(10, 6, 6, 3, 1, 1))[0]
        signature = SignatureSpec(
            kind=rng.choices(SIGNATURE_KINDS, weights=(6, 2, 2))[0],
            pen=rng.choices(PENS, weights=(5, 2, 1, 2))[0],
            ink=ink,
            overlap=rng.choices(OVERLAPS, weights=(3, 3, 2, 2))[0],
            seed=rng.randint(0, 2**31),
        )
    clutter = rng.choices(
        CLUTTER, weights=(3, 2, 2, 1, 2, 1) if not signed else (8, 1, 1, 0, 1, 0)
    )[0]
    dated = today - timedelta(days=rng.randint(0, 21))
    account_style = rng.choice(["slug", "quoted", "quoted", "display", "both"])
    labels = {
        "account": rng.choice(["Enterprise account", "Account name", "Account", "Company account"]),
        "contract": rng.choice(["Contract number", "Contract No.", "Contract #", "Contract ref."]),
        "email": rng.choice(
            [
                "Email to add as administrator",
                "New administrator",
                "Administrator email",
                "Email address to add",
            ]
        ),
    }
    return LetterSpec(
        number=number,
        seed=seed,
        company=company,
        account_written=_account_written(company, account_style),
        account_style=account_style,
        contract_on_record=contract,
        contract_on_letter=letter_contract,
        email_to_add=email_to_add,
        reason=rng.choice(REASONS),
        executive_name=name,
        executive_title=rng.choice(C_TITLES),
        executive_email=letter_email,
        executive_email_on_record=on_record,
        dated=dated,
        date_text=_date_text(dated, rng.randint(0, 3)),
        today=today,
        closing=rng.choice(CLOSINGS),
        signature=signature,
        clutter=clutter,
        variant=variant,
        labels=labels,
    )
