"""How the letters say it: the sentences the generators share, each with a few wordings
drawn per letter, so a reader cannot rely on one phrasing."""

from __future__ import annotations

import random

from benchmarks.corpora.spec import LetterSpec


def opening(rng: random.Random) -> str:
    return rng.choice(
        [
            "Dear Keyholder Support,",
            "Dear Sir or Madam,",
            "To whom it may concern,",
            "Dear Support Team,",
            "Hello,",
        ]
    )


def request_sentence(spec: LetterSpec, rng: random.Random) -> str:
    """The request as one prose sentence, for templates that do not list the items."""
    return rng.choice(
        [
            f"I, {spec.executive_name}, {spec.executive_title} of {spec.company.display_name}, "
            f"ask that administrator access to our enterprise account {spec.account_written} "
            f"(contract number {spec.contract_on_letter}) be given to {spec.email_to_add}.",
            f"On behalf of {spec.company.display_name} I request that {spec.email_to_add} be made "
            f"an administrator of our account {spec.account_written}, contract "
            f"{spec.contract_on_letter}.",
        ]
    )


def reason_sentence(spec: LetterSpec, rng: random.Random) -> str:
    return rng.choice(["We ask for this because ", "The reason: ", "This is needed because "]) + (
        spec.reason + "."
    )


def confirmation(spec: LetterSpec, rng: random.Random) -> str:
    return rng.choice(
        [
            f"I confirm that I am authorised to make this request on behalf of "
            f"{spec.company.display_name}.",
            "Please contact me directly if you need anything further to verify this request.",
            f"As {spec.executive_title}, I confirm this request and accept responsibility for it.",
        ]
    )


def labelled_items(spec: LetterSpec) -> list[tuple[str, str]]:
    """The request's items as (label, value) rows, for templates that list them."""
    return [
        (spec.labels["account"], spec.account_written),
        (spec.labels["contract"], spec.contract_on_letter),
        (spec.labels["email"], spec.email_to_add),
    ]


def subject(spec: LetterSpec) -> str:
    return f"Re: Administrator access for {spec.company.display_name}"
