"""The signature block's closing when OCR put a speck between its words, and its
name unreadable (issue 14: a phone photo whose band was never found)."""

from __future__ import annotations

import pytest

from keyholder.letters.fields import extract_fields
from keyholder.letters.signature import find_signature
from tests.letters.test_fields import LABELLED, page_of


@pytest.mark.parametrize("closing", ["With,best regards,", "Yours.sincerely,", "Best.wishes,"])
def test_a_speck_between_the_closing_s_words_still_closes(closing: str) -> None:
    # The signature ran through the typed name: it reads as no name at all.
    page = page_of(*LABELLED[:7], closing, "K indholm", "Chief Technology Officer")

    fields = extract_fields([page])

    assert fields.closing is not None
    assert fields.closing.text == closing
    assert find_signature([page], fields).band is not None


@pytest.mark.parametrize("line", ["We regret,that we", "Regarding.the account"])
def test_a_body_line_with_a_stray_mark_is_no_closing(line: str) -> None:
    fields = extract_fields([page_of(*LABELLED[:7], line, "Please call us.")])

    assert fields.closing is None
