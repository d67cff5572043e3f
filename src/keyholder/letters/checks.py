"""Compare what the letter says with the account's records and the request form.

Each check ends ``pass``, ``fail`` or ``unknown`` with its evidence: the text
read, where it was on the page, and what it was compared with. ``fail`` means
the letter disagrees or lacks the item; ``unknown`` means there was nothing to
compare with or the letter could not be read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from rapidfuzz import fuzz, utils

from keyholder.domains import check_email_domain
from keyholder.letters.document import Box
from keyholder.letters.fields import Found, LetterFields, canonical_contract
from keyholder.letters.signature_finding import SignatureFinding, SignatureLevel

# rapidfuzz ratio (0-100) of the name as read with the slug or display name,
# case, spaces and punctuation folded: from PASS a match, below UNCLEAR a
# different account, in between for the reviewer to look at.
ACCOUNT_NAME_PASS = 90.0
ACCOUNT_NAME_UNCLEAR = 80.0
EXECUTIVE_NAME_PASS = 88.0
# Below that, a name read in part ("Lena Ragh") or with letters beside it: one
# name NAME_IN_PART% inside the other and at least NAME_IN_PART_LENGTH of its
# length is "unclear", never a pass.
NAME_IN_PART = 90.0
NAME_IN_PART_LENGTH = 0.5
# A name read word for word like an executive's, each word at least this like
# theirs (a letter or two wrong: "Giace Schafer" for "Grace Schäfer"; not "Dana
# Whitmore" for "Dana Whitfield", 59, nor "Lina" for "Lena", 75), and given with that
# executive's own address on record, is left to the reviewer: "unclear", never a pass.
MISREAD_NAME_WORD = 80.0
C_LEVEL_TITLE = re.compile(
    r"\b(chief\s+[a-z]+(?:\s+[a-z]+)?\s+officer|ceo|cfo|coo|cto|cio|ciso|cso|cmo|cro|"
    r"president|owner|co-?founder|founder|managing\s+director|managing\s+partner|"
    r"proprietor|executive\s+chair(?:man|woman|person)?|chair(?:man|woman|person)?)\b",
    re.IGNORECASE,
)
NOT_C_LEVEL = re.compile(r"\b(vice|deputy|assistant|associate|to\s+the)\b", re.IGNORECASE)


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TypedFields:
    """What the requester typed into the access-request form (all optional)."""

    account_name: str | None = None
    email_to_add: str | None = None
    contract_number: str | None = None
    executive_name: str | None = None
    executive_title: str | None = None
    executive_email: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutiveContact:
    name: str
    title: str
    email: str


@dataclass(frozen=True, slots=True)
class AccountRecords:
    """What Keyholder knows about the account, independent of the database."""

    name: str
    display_name: str
    contract_number: str
    verified_domains: tuple[str, ...] = ()
    executive_contacts: tuple[ExecutiveContact, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    label: str
    status: Status
    evidence: str
    box: Box | None = None
    score: float | None = None
    # The item was not found on the letter (see ``run_checks``); not in the report.
    missing: bool = field(default=False, compare=False)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "status": self.status.value,
            "evidence": self.evidence,
            "box": self.box.as_json() if self.box else None,
            "score": self.score,
        }


LABELS = {
    "account_name": "Account name matches",
    "contract_number": "Contract number matches",
    "email_to_add": "Email to add matches the form",
    "executive_on_record": "Executive is a contact on record",
    "executive_email_domain": "Executive email on a verified domain",
    "executive_title": "Title is C-level or owner",
    "reason": "Reason present",
    "date_recent": "Letter dated recently",
    "signature": "Signature present",
}


def unreadable_checks(reason: str) -> list[Check]:
    """Every check ``unknown``: the letter's text could not be read at all."""
    return [Check(id_, label, Status.UNKNOWN, reason) for id_, label in LABELS.items()]


def run_checks(
    fields: LetterFields,
    signature: SignatureFinding,
    *,
    typed: TypedFields,
    records: AccountRecords | None,
    today: date,
    max_age_days: int,
    read_by_ocr: bool = False,
) -> list[Check]:
    """Every check of the letter. An item not found fails either way (approving then
    takes a note: a forger who does not know the contract number leaves it out);
    from a PDF's own text it is missing, but on a letter read by OCR
    (``read_by_ocr``) it may only be unread (a signature through the typed name,
    issue 14), and the evidence says so rather than that the letter lacks it."""
    checks = [
        _account_name(fields.account_name, typed, records),
        _contract_number(fields.contract_number, typed, records),
        _email_to_add(fields.email_to_add, typed),
        _executive_on_record(fields, typed, records),
        _executive_email_domain(fields.executive_email, typed, records),
        _executive_title(fields.executive_title, _company_names(fields, typed, records)),
        _reason(fields.reason),
        _date_recent(fields.date, today, max_age_days),
        _signature(signature),
    ]
    return [_not_read(check) if read_by_ocr and check.missing else check for check in checks]


def _not_read(check: Check) -> Check:
    what = check.evidence.removeprefix(NOT_STATED)
    return replace(check, evidence=f"{what} was not read on the letter: look at it (OCR may "
                                   "have missed it, or the letter lacks it)")  # fmt: skip


def _check(id_: str, status: Status, evidence: str, found: Found | None = None,
           score: float | None = None) -> Check:  # fmt: skip
    return Check(id_, LABELS[id_], status, evidence, found.box if found else None, score)


def _fold(name: str) -> str:
    """A name for fuzzy comparison: case, spacing, hyphens and OCR's 0/o 1/l 5/s folded."""
    return re.sub(r"[^a-z0-9]", "", name.lower()).translate(str.maketrans("015", "ols"))


NOT_STATED = "the letter does not state "


def _missing(id_: str, what: str) -> Check:
    return replace(_check(id_, Status.FAIL, NOT_STATED + what), missing=True)


def _account_name(found: Found | None, typed: TypedFields, records: AccountRecords | None) -> Check:
    """Pass on a near-exact match with the account's slug, display name or the form's
    account name; fail when clearly different; in between, ask the reviewer."""
    if found is None:
        return _missing("account_name", "the account name")
    names = [records.name, records.display_name] if records else []
    names += [typed.account_name] if typed.account_name else []
    names = [name for name in dict.fromkeys(names) if name]
    if not names:
        return _check(
            "account_name", Status.UNKNOWN, f"reads {found.text!r}; nothing to compare with", found
        )
    score, closest = max((fuzz.ratio(_fold(found.value), _fold(name)), name) for name in names)
    if score >= ACCOUNT_NAME_PASS:
        status, verdict = Status.PASS, "matches"
    elif score >= ACCOUNT_NAME_UNCLEAR:
        status, verdict = Status.UNKNOWN, "is close to, but not the same as"
    else:
        status, verdict = Status.FAIL, "differs from"
    on_record = " / ".join(repr(name) for name in names)
    return _check(
        "account_name", status,
        f"reads {found.text!r}, which {verdict} {closest!r} ({score:.0f}% similar; "
        f"on record and typed: {on_record})",
        found, round(score, 1),
    )  # fmt: skip


def _contract_number(
    found: Found | None, typed: TypedFields, records: AccountRecords | None
) -> Check:
    if found is None:
        return _missing("contract_number", "a contract number")
    expected = {
        source: value
        for source, value in (
            ("on record", records and records.contract_number),
            ("typed", typed.contract_number),
        )
        if value
    }
    if not expected:
        return _check(
            "contract_number",
            Status.UNKNOWN,
            f"reads {found.value!r}; nothing to compare with",
            found,
        )
    wrong = [f"{source} {value!r}" for source, value in expected.items()
             if canonical_contract(value) != canonical_contract(found.value)]  # fmt: skip
    if wrong:
        return _check(
            "contract_number", Status.FAIL, f"reads {found.value!r}; {', '.join(wrong)}", found
        )
    return _check(
        "contract_number", Status.PASS, f"reads {found.value!r}, as {' and '.join(expected)}", found
    )


def _email_to_add(found: Found | None, typed: TypedFields) -> Check:
    if found is None:
        return _missing("email_to_add", "the email address to add")
    if not typed.email_to_add:
        return _check(
            "email_to_add", Status.UNKNOWN, f"reads {found.value!r}; no form to compare with", found
        )
    if found.corrected_from is not None:
        return _check("email_to_add", Status.UNKNOWN, _corrected(found, "the typed address"), found)
    if found.value.lower() == typed.email_to_add.strip().lower():
        return _check("email_to_add", Status.PASS, f"reads {found.value!r}, as typed", found)
    return _check(
        "email_to_add", Status.FAIL, f"reads {found.value!r}; typed {typed.email_to_add!r}", found
    )


def _executive_on_record(
    fields: LetterFields, typed: TypedFields, records: AccountRecords | None
) -> Check:
    """The signer is an executive on record: the name, and the email beside it.

    A letter signed with an executive's name but another address may come from
    someone else of that name (or someone posing as them): it fails. An address
    explained only as OCR confusions is never enough to pass.
    """
    found = fields.executive_name
    if found is None:
        return _missing("executive_on_record", "the executive's name under the signature")
    if _is_company(found, _company_names(fields, typed, records)):
        missing = _missing("executive_on_record", "the executive's name under the signature")
        return replace(missing, evidence=f"{missing.evidence} (the line taken for it, "
                                         f"{found.text!r}, is the company's name)")  # fmt: skip
    if records is None:
        return _check(
            "executive_on_record",
            Status.UNKNOWN,
            f"signed by {found.value!r}; no records to compare with",
            found,
        )
    if not records.executive_contacts:
        return _check(
            "executive_on_record",
            Status.FAIL,
            f"signed by {found.value!r}; the account has no executive on record",
            found,
        )
    scored = [(_name_score(found.value, c.name), c) for c in records.executive_contacts]
    score, best = max(scored, key=lambda pair: pair[0])
    signed = f"signed by {found.value!r}; closest executive on record {best.name!r} ({score:.0f}%)"
    same_name = [c for s, c in scored if s >= EXECUTIVE_NAME_PASS]
    in_part = [c for _, c in scored if _read_in_part(found.value, c.name)]
    if not (same_name or in_part):
        return _misread_or_someone_else(fields, typed, scored, signed, found)
    status, evidence = _executive_email_on_record(
        fields.executive_email, typed, same_name or in_part
    )
    if status is not Status.FAIL and not same_name:
        # "Lena Ragh" for "Lena Raghunathan": a signature over the typed name hides
        # its end, or its strokes are read as letters beside it.
        evidence = (
            "; the name was read only in part, or with marks beside it: look at the letter"
            + (evidence if status is Status.UNKNOWN else f" ({evidence.lstrip(',; ')})")
        )
        status = Status.UNKNOWN
    return _check("executive_on_record", status, f"{signed}{evidence}", found, round(score, 1))


def _misread_or_someone_else(
    fields: LetterFields,
    typed: TypedFields,
    scored: list[tuple[float, ExecutiveContact]],
    signed: str,
    found: Found,
) -> Check:
    """A name unlike every executive's fails, and so does one misread from an
    executive's given with another address; misread from one and given with that
    executive's own address on record, it is left to the reviewer."""
    score = max(s for s, _ in scored)
    misread = [c for _, c in scored if _misread_name(found.value, c.name)]
    stated = fields.executive_email is not None or bool(typed.executive_email)
    if misread and stated:
        status, evidence = _executive_email_on_record(fields.executive_email, typed, misread)
        if status is not Status.FAIL:
            evidence = (
                "; the name reads like an executive's with a letter or two wrong, and the "
                f"address beside it is theirs ({evidence.lstrip(',; ')}): OCR may have misread "
                "the name, or it is someone else's: look at the letter"
            )
            return _check(
                "executive_on_record", Status.UNKNOWN, f"{signed}{evidence}", found, round(score, 1)
            )
    return _check("executive_on_record", Status.FAIL, signed, found, round(score, 1))


def _name_score(read: str, on_record: str) -> float:
    """Names compared word by word, in any order, with case, hyphens, dots and
    apostrophes (typographic or straight) folded: "Mei-Ling-van der Berg" is
    "Mei-Ling van der Berg"."""
    return float(fuzz.token_sort_ratio(read, on_record, processor=utils.default_process))


def _misread_name(read: str, on_record: str) -> bool:
    """As many words as the name on record, each nearly the same."""
    words, recorded = (utils.default_process(n).split() for n in (read, on_record))
    return len(words) == len(recorded) and all(
        fuzz.ratio(a, b) >= MISREAD_NAME_WORD for a, b in zip(words, recorded, strict=True)
    )


def _read_in_part(read: str, on_record: str) -> bool:
    """One name nearly all inside the other, and at least half its length."""
    a, b = sorted((utils.default_process(read), utils.default_process(on_record)), key=len)
    return len(a) >= NAME_IN_PART_LENGTH * len(b) and fuzz.partial_ratio(a, b) >= NAME_IN_PART


def _executive_email_on_record(
    stated: Found | None, typed: TypedFields, same_name: list[ExecutiveContact]
) -> tuple[Status, str]:
    """The addresses given beside a name on record, the letter's and the form's, each
    compared with that contact's: OCR can drop a letter's "s." and leave the record's
    address, while the form, typed, still says who the signer really is."""
    on_record = {c.email.strip().lower() for c in same_name}
    given = {
        where: email
        for where, email in (
            ("the letter", stated.value if stated else ""),
            ("the form", (typed.executive_email or "").strip().lower()),
        )
        if email
    }
    if not given:
        return Status.PASS, "; no email on the letter or the form to compare"
    recorded = " / ".join(repr(e) for e in sorted(on_record))
    elsewhere = [f"{where} gives {email!r}" for where, email in given.items()
                 if email not in on_record]  # fmt: skip
    if elsewhere:
        return Status.FAIL, (
            f", but {' and '.join(elsewhere)} and the record {recorded}: "
            "someone else of that name, or not the executive"
        )
    if stated is not None and stated.corrected_from is not None:
        return Status.UNKNOWN, "; " + _corrected(stated, "the executive's address on record")
    emails = " / ".join(repr(email) for email in dict.fromkeys(given.values()))
    return Status.PASS, f", with the address on record {emails} ({' and '.join(given)})"


def _executive_email_domain(
    found: Found | None, typed: TypedFields, records: AccountRecords | None
) -> Check:
    email = found.value if found else (typed.executive_email or "").strip().lower()
    if not email:
        return _missing("executive_email_domain", "the executive's email address")
    source = "letter" if found else "form"
    if found and typed.executive_email and typed.executive_email.strip().lower() != found.value:
        evidence = f"letter reads {found.value!r}; typed {typed.executive_email!r}"
        return _check("executive_email_domain", Status.FAIL, evidence, found)
    if records is None:
        return _check(
            "executive_email_domain",
            Status.UNKNOWN,
            f"{source} reads {email!r}; no records to compare with",
            found,
        )
    # The same rule (S23) as for the address typed in the request form.
    verdict = check_email_domain(email, records.verified_domains)
    if found and found.corrected_from is not None:
        read_domain = found.corrected_from.rsplit("@", 1)[-1]
        if read_domain != email.rsplit("@", 1)[-1] or verdict.status != "pass":
            # A look-alike domain blurred reads the same: only a person can tell.
            evidence = _corrected(found, "the executive's address on record")
            return _check("executive_email_domain", Status.UNKNOWN, evidence, found)
    if verdict.status == "pass":
        # Only the part before the "@" can have been corrected here: still said.
        read = f" (read {found.corrected_from!r})" if found and found.corrected_from else ""
        return _check(
            "executive_email_domain", Status.PASS, f"{email!r}{read}: {verdict.explanation}", found
        )
    return _check("executive_email_domain", Status.FAIL, f"{email!r}: {verdict.explanation}", found)


def _corrected(found: Found, what: str) -> str:
    confusions = ", ".join(found.confusions)
    return (
        f"reads {found.corrected_from!r}, which OCR confusions ({confusions}) explain as "
        f"{what} {found.value!r}; confirm by eye: a look-alike address reads the same way"
    )


def _company_names(
    fields: LetterFields, typed: TypedFields, records: AccountRecords | None
) -> list[str]:
    names = [records.name, records.display_name] if records else []
    names += [typed.account_name or "", fields.account_name.value if fields.account_name else ""]
    return [name for name in names if name]


def _is_company(found: Found, company_names: list[str]) -> bool:
    return any(
        fuzz.ratio(_fold(found.value), _fold(name)) >= ACCOUNT_NAME_PASS for name in company_names
    )


def _executive_title(found: Found | None, company_names: list[str]) -> Check:
    if found is None:
        return _missing("executive_title", "the signer's title")
    if _is_company(found, company_names):
        # The line under the name is the company's when the title's was not read
        # (a photo lost "Owner"): not a title that fails, a title not read.
        missing = _missing("executive_title", "the signer's title")
        return replace(missing, evidence=f"{missing.evidence} (the line under the name, "
                                         f"{found.text!r}, is the company's name)")  # fmt: skip
    if C_LEVEL_TITLE.search(found.value) and not NOT_C_LEVEL.search(found.value):
        return _check("executive_title", Status.PASS, f"title {found.value!r}", found)
    return _check(
        "executive_title", Status.FAIL, f"title {found.value!r} is not C-level or owner", found
    )


def _reason(found: Found | None) -> Check:
    if found is None:
        return _missing("reason", "a reason for the request")
    return _check("reason", Status.PASS, f"reason: {found.value!r}", found)


def _date_recent(found: Found | None, today: date, max_age_days: int) -> Check:
    if found is None:
        return _missing("date_recent", "a date")
    age = (today - date.fromisoformat(found.value)).days
    if age < -1:
        return _check("date_recent", Status.FAIL, f"dated {found.value}, in the future", found)
    if age > max_age_days:
        return _check(
            "date_recent",
            Status.FAIL,
            f"dated {found.value}, {age} days ago (limit {max_age_days})",
            found,
        )
    return _check("date_recent", Status.PASS, f"dated {found.value}, {max(age, 0)} days ago", found)


def _signature(finding: SignatureFinding) -> Check:
    box = finding.ink_box or finding.band
    flags = "; ".join(finding.flags)
    evidence = f"{finding.verdict}: {finding.evidence}" if finding.evidence else finding.verdict
    evidence += f"; {flags}" if flags else ""
    if finding.level is None:
        status = Status.UNKNOWN
    elif finding.level is SignatureLevel.INK:
        status = Status.UNKNOWN if finding.flags else Status.PASS
    elif finding.level is SignatureLevel.UNCERTAIN:
        # Even with typed text ("/s/ Name") in the band: ink that may be a pen's is
        # never reported as no signature.
        status = Status.UNKNOWN
    else:  # an empty band, typed signature or not
        status = Status.FAIL
    return Check("signature", LABELS["signature"], status, evidence, box, round(finding.score, 3))
