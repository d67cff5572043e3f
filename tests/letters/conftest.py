from __future__ import annotations

import random
from dataclasses import replace

import pytest

from keyholder.letters import AccountRecords, ExecutiveContact, TypedFields
from keyholder.letters.ocr import tesseract_available
from tests.letters import corpus

needs_tesseract = pytest.mark.skipif(
    not tesseract_available(), reason="Tesseract is not installed (make installs it)"
)


@pytest.fixture
def letter() -> corpus.Letter:
    """One typical letter: labelled layout, letterhead, blue ink signature."""
    return replace(
        corpus.random_letter(random.Random(11), seed=11),
        layout="labelled", font="sans", size=11.0, signature="ink", multipage=False,
    )  # fmt: skip


@pytest.fixture
def records(letter: corpus.Letter) -> AccountRecords:
    return records_for(letter)


@pytest.fixture
def typed(letter: corpus.Letter) -> TypedFields:
    return TypedFields(account_name=letter.account, email_to_add=letter.email_to_add)


def records_for(letter: corpus.Letter) -> AccountRecords:
    contact = ExecutiveContact(
        letter.executive_name, letter.executive_title, letter.executive_email
    )
    return AccountRecords(
        letter.account, letter.display_name, letter.contract, (letter.domain,), (contact,)
    )
