"""Finding the items in the words read from a letter (no OCR: lines given as text)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyholder.letters.document import Box, Line, Page, TextSource, Word
from keyholder.letters.fields import canonical_contract, extract_fields, readable_contract


def page_of(*texts: str, confidence: float = 95.0) -> Page:
    """A page whose lines read ``texts``, one per 40 pixels, words 10 pixels per character."""
    lines = []
    for row, text in enumerate(texts):
        x, words = 100, []
        for word in text.split():
            words.append(Word(word, Box(1, x, 100 + 40 * row, 10 * len(word), 30), confidence))
            x += 10 * len(word) + 10
        if words:
            lines.append(Line(tuple(words)))
    image = np.full((100 + 40 * len(texts) + 100, 1600, 3), 255, dtype=np.uint8)
    return Page(1, image, "image", TextSource.OCR, lines)


LABELLED = (
    "12 March 2026",
    "Dear Keyholder Support,",
    "Please grant administrator access to our enterprise account as follows.",
    "Enterprise account: acme-corp",
    "Contract number: ENT-2024-001234",
    "Email to add as administrator: jordan.lee@acme.example",
    "Reason: our only administrator left the company in February.",
    "Sincerely,",
    "Dana Whitfield",
    "Chief Executive Officer",
    "dana@acme.example",
)


class TestLabelledLetter:
    def test_finds_every_item_with_its_box(self) -> None:
        fields = extract_fields([page_of(*LABELLED)])

        values = {name: found.value if found else None for name, found in fields.items().items()}
        assert values == {
            "account_name": "acme-corp",
            "email_to_add": "jordan.lee@acme.example",
            "reason": "our only administrator left the company in February.",
            "contract_number": "ENT-2024-001234",
            "executive_name": "Dana Whitfield",
            "executive_title": "Chief Executive Officer",
            "executive_email": "dana@acme.example",
            "date": "2026-03-12",
        }
        contract = fields.contract_number
        assert contract is not None
        assert contract.box is not None
        assert (contract.box.y, contract.box.x) == (100 + 40 * 4, 100 + 90 + 80)  # third word

    def test_missing_items_are_none(self) -> None:
        lines = [line for line in LABELLED if not line.startswith(("Contract", "12 March"))]

        fields = extract_fields([page_of(*lines)])

        assert fields.contract_number is None
        assert fields.date is None
        assert fields.account_name is not None


class TestOcrTolerance:
    def test_contract_number_with_letter_digit_confusions(self) -> None:
        lines = [line.replace("ENT-2024-001234", "ENT-2O24-OO1234") for line in LABELLED]

        fields = extract_fields([page_of(*lines)])

        assert fields.contract_number is not None
        assert fields.contract_number.value == "ENT-2024-001234"
        assert fields.contract_number.text == "ENT-2O24-OO1234"

    @pytest.mark.parametrize(
        ("read", "expected"),
        [
            ("Contract number: ENT-2019-78341 1", "ENT-2019-783411"),
            ("(contract number ENT-2019-78341 1) be granted to", "ENT-2019-783411"),
            ("Contract number: ENT-2025-97798 |", "ENT-2025-977981"),  # a 1 read as "|"
            ("Contract number: ENT-2024-001234 | Tel 555 0100", "ENT-2024-001234"),
        ],
    )
    def test_contract_number_whose_last_digit_ocr_set_apart(self, read: str, expected: str) -> None:
        lines = [read if line.startswith("Contract") else line for line in LABELLED]

        fields = extract_fields([page_of(*lines)])

        assert fields.contract_number is not None
        assert fields.contract_number.value == expected

    def test_a_table_s_border_far_right_of_the_number_is_not_a_digit(self) -> None:
        # Pillow 5602 letter 13: "| Contract # ENT-2025-356364 |", the right border
        # 25 line heights away read as the bar a "1" can be read as.
        page = page_of(*LABELLED)
        row = next(i for i, line in enumerate(page.lines) if line.text.startswith("Contract"))
        words = page.lines[row].words
        far = words[-1].box
        bar = Word("|", Box(far.page, far.right + 600, far.y, 2, 70), 95.0)
        page.lines[row] = Line((*words, bar))

        fields = extract_fields([page])

        assert fields.contract_number is not None
        assert fields.contract_number.value == "ENT-2024-001234"

    @pytest.mark.parametrize(
        ("read", "expected"),
        [
            ("Contract ref. ENT2026089684", "ENT2026089684"),
            ("our account \u201cAcme\u201d, contract ENT2O26O89684.", "ENT2026089684"),
        ],
    )
    def test_contract_number_written_without_dashes(self, read: str, expected: str) -> None:
        lines = [read if line.startswith("Contract") else line for line in LABELLED]

        fields = extract_fields([page_of(*lines)])

        assert fields.contract_number is not None
        assert fields.contract_number.value == expected

    @pytest.mark.parametrize("initial", ["|", "!"])
    def test_an_initial_read_as_a_mark_stays_in_the_address(self, initial: str) -> None:
        # "l.schaefer" read "add_|.schaefer": without the mark the address is
        # another's, "schaefer@"; with it, reconcile or the reviewer can tell.
        lines = [
            line.replace("jordan.lee@acme.example", f"{initial}.lee@acme.example")
            for line in LABELLED
        ]

        fields = extract_fields([page_of(*lines)])

        assert fields.email_to_add is not None
        assert fields.email_to_add.value == f"{initial}.lee@acme.example"

    def test_email_with_spaces_around_the_at_sign(self) -> None:
        lines = [
            line.replace("jordan.lee@acme.example", "jordan. lee @ acme .example")
            for line in LABELLED
        ]

        fields = extract_fields([page_of(*lines)])

        assert fields.email_to_add is not None
        assert fields.email_to_add.value == "jordan.lee@acme.example"

    @pytest.mark.parametrize(
        ("read", "expected"),
        [
            ("dana@ acme- corp .example", "dana@acme-corp.example"),
            ("dana@ acm e.example", "dana@acme.example"),
            ("dana @ globe x.example", "dana@globex.example"),
        ],
    )
    def test_email_with_a_space_inside_its_domain(self, read: str, expected: str) -> None:
        lines = [line.replace("dana@acme.example", read) for line in LABELLED]

        fields = extract_fields([page_of(*lines)])

        assert fields.executive_email is not None
        assert fields.executive_email.value == expected

    def test_email_whose_last_dot_was_read_as_a_space_at_the_end_of_its_line(self) -> None:
        lines = [line.replace("dana@acme.example", "dana@ acme example") for line in LABELLED]

        fields = extract_fields([page_of(*lines)])

        assert fields.executive_email is not None
        assert fields.executive_email.value == "dana@acme.example"

    def test_email_whose_domain_wraps_after_a_hyphen(self) -> None:
        # Held-out letters, stop 28: Chromium broke "ibrahim@adventure-works.example"
        # after its hyphen, and no address to add was found.
        lines = [
            *LABELLED[:5],
            "Please make ibrahim@adventure-",
            "works.example an administrator.",
            *LABELLED[6:],
        ]

        fields = extract_fields([page_of(*lines)])

        assert fields.email_to_add is not None
        assert fields.email_to_add.value == "ibrahim@adventure-works.example"

    def test_contract_number_wrapped_after_a_dash(self) -> None:
        lines = [*LABELLED[:4], "Our contract number is ENT-2024-", "001234.", *LABELLED[5:]]

        fields = extract_fields([page_of(*lines)])

        assert fields.contract_number is not None
        assert fields.contract_number.value == "ENT-2024-001234"

    @pytest.mark.parametrize(
        "sentence",
        [
            "You can reach me at dana@acme.example if you have any questions.",
            "My email address is dana@acme.example.",
            "Please reply to dana@acme.example to confirm the change.",
        ],
    )
    def test_the_signer_s_address_given_in_the_body(self, sentence: str) -> None:
        # Held-out fpdf letters: the signer says in the body how to reach them, and
        # no address follows the name.
        lines = [*LABELLED[:7], sentence, *LABELLED[7:10]]

        fields = extract_fields([page_of(*lines)])

        assert fields.executive_email is not None
        assert fields.executive_email.value == "dana@acme.example"
        assert fields.email_to_add is not None
        assert fields.email_to_add.value == "jordan.lee@acme.example"

    @pytest.mark.parametrize(
        "request_lines",
        [
            (
                "On behalf of Acme Corp I request that",
                "jordan.lee@acme.example be made an administrator of our account",
                "acme-corp, contract ENT-2024-001234.",
            ),
            (
                "I, Dana M. Whitfield, Chief Executive Officer of Acme Corp, ask that",
                'administrator access to our enterprise account "Acme Corp"',
                "(acme-corp) (contract number ENT-2024-001234) be given to",
                "jordan.lee@acme.example.",
            ),
        ],
    )
    def test_a_memo_s_from_line_is_the_sender_not_the_address_to_add(
        self, request_lines: tuple[str, ...]
    ) -> None:
        # fpdf memos (stop 30): the sender's address in the header came first, and
        # the request's sentence named its address only after it, or too far back.
        lines = [
            "FROM THE DESK OF",
            "Dana M. Whitfield",
            "To: Keyholder Support",
            "From: Dana M. Whitfield <dana@acme.example>",
            "Re: Administrator access for Acme Corp",
            "To whom it may concern,",
            *request_lines,
            "The reason: our only administrator left the company in February.",
            "Yours faithfully,",
            "Dana M. Whitfield",
            "Chief Executive Officer",
        ]

        fields = extract_fields([page_of(*lines)])

        assert fields.email_to_add is not None
        assert fields.email_to_add.value == "jordan.lee@acme.example"
        assert fields.executive_email is not None
        assert fields.executive_email.value == "dana@acme.example"

    def test_a_contact_line_above_the_address_to_add_is_not_it(self) -> None:
        lines = [*LABELLED[:5], "Contact: dana@acme.example", *LABELLED[5:]]

        fields = extract_fields([page_of(*lines)])

        assert fields.email_to_add is not None
        assert fields.email_to_add.value == "jordan.lee@acme.example"

    def test_the_address_to_add_alone_in_the_body_is_not_the_signer_s(self) -> None:
        fields = extract_fields([page_of(*LABELLED[:10])])

        assert fields.executive_email is None

    def test_dashes_from_ocr_are_hyphens(self) -> None:
        lines = [line.replace("acme-corp", "acme\u2014corp") for line in LABELLED]

        assert extract_fields([page_of(*lines)]).account_name.value == "acme-corp"  # type: ignore[union-attr]

    @given(
        year=st.integers(2000, 2099),
        number=st.integers(0, 999999),
        swaps=st.lists(st.sampled_from([("0", "O"), ("1", "I"), ("1", "l"), ("5", "S")])),
    )
    def test_canonical_contract_ignores_confusable_characters(
        self, year: int, number: int, swaps: list[tuple[str, str]]
    ) -> None:
        contract = f"ENT-{year}-{number:06d}"
        misread = contract
        for digit, letter in swaps:
            misread = misread[:4] + misread[4:].replace(digit, letter)

        assert canonical_contract(misread) == canonical_contract(contract)
        assert readable_contract(misread) == contract


class TestDates:
    def test_formats(self) -> None:
        for text, expected in [
            ("March 5, 2026", "2026-03-05"),
            ("5th Mar 2026", "2026-03-05"),
            ("2026-03-05", "2026-03-05"),
            ("5 March 2O26", "2026-03-05"),
            ("March 17. 2026", "2026-03-17"),  # the comma blurred into a dot
            ("| March 2026", "2026-03-01"),  # a 1 read as "|"
            ("March |1, 2026", "2026-03-11"),
        ]:
            fields = extract_fields([page_of(text, *LABELLED[1:])])
            assert fields.date is not None
            assert fields.date.value == expected, text

    def test_the_letters_date_comes_before_dates_in_the_text(self) -> None:
        lines = [LABELLED[0], *LABELLED[1:6], "Reason: our admin left on 1 February 2026."]

        assert extract_fields([page_of(*lines)]).date.value == "2026-03-12"  # type: ignore[union-attr]


class TestProseLetter:
    def test_finds_items_in_sentences(self) -> None:
        fields = extract_fields(
            [
                page_of(
                    "March 12, 2026",
                    "I, Dana Whitfield, Chief Executive Officer of Acme Corporation, request that",
                    "administrator access to our enterprise account acme-corp (contract number",
                    "ENT-2024-001234) be granted to jordan.lee@acme.example.",
                    "We make this request because our only administrator retired last month.",
                    "Kind regards,",
                    "Dana Whitfield",
                    "Owner",
                    "dana@acme.example",
                )
            ]
        )

        assert fields.account_name
        assert fields.account_name.value == "acme-corp"
        assert fields.contract_number
        assert fields.contract_number.value == "ENT-2024-001234"
        assert fields.email_to_add
        assert fields.email_to_add.value == "jordan.lee@acme.example"
        assert fields.reason
        assert fields.reason.value.startswith("our only administrator retired")
        assert fields.executive_title
        assert fields.executive_title.value == "Owner"

    def test_account_name_without_punctuation_after_it(self) -> None:
        fields = extract_fields([page_of("to our enterprise account acme-corp be granted to x")])

        assert fields.account_name is not None
        assert fields.account_name.value == "acme-corp"

    def test_account_in_a_sentence_is_not_an_account_name(self) -> None:
        fields = extract_fields(
            [page_of("to our enterprise account (contract number ENT-2024-001234)",
                     "because the admin who managed our account retired",
                     "and left.")]
        )  # fmt: skip

        assert fields.account_name is None


class TestSignatureBlock:
    def test_scribble_read_as_words_is_not_the_name(self) -> None:
        lines = [*LABELLED[:8], "VAY WAIN", "Dana Whitfield", *LABELLED[9:]]

        fields = extract_fields([page_of(*lines)])

        assert fields.executive_name
        assert fields.executive_name.value == "Dana Whitfield"
        assert [line.text for line in fields.signature_lines] == ["VAY WAIN"]

    def test_script_font_signature_above_the_name_is_not_the_name(self) -> None:
        lines = [*LABELLED[:8], "Dana Whitfeld", "Dana Whitfield", *LABELLED[9:]]

        fields = extract_fields([page_of(*lines)])

        assert fields.executive_name
        assert fields.executive_name.value == "Dana Whitfield"

    def test_slash_s_signature_is_noticed(self) -> None:
        lines = [*LABELLED[:8], "/s/ Dana Whitfield", *LABELLED[8:]]

        fields = extract_fields([page_of(*lines)])

        assert fields.typed_signature
        assert fields.typed_signature.value == "/s/ Dana Whitfield"
        assert fields.executive_name
        assert fields.executive_name.value == "Dana Whitfield"

    def test_no_title_line(self) -> None:
        lines = [line for line in LABELLED if line != "Chief Executive Officer"]

        fields = extract_fields([page_of(*lines)])

        assert fields.executive_name
        assert fields.executive_name.value == "Dana Whitfield"
        assert fields.executive_title is None
        assert fields.executive_email
        assert fields.executive_email.value == "dana@acme.example"


BLOCK = ("Ibrahim Al-Mansouri", "Founder & CEO", "Fabrikam, Inc.", "ibrahim@fabrikam.example")


def executive(lines: list[str]) -> tuple[str | None, str | None, str | None]:
    fields = extract_fields([page_of(*lines)])
    return tuple(  # type: ignore[return-value]
        found.value if found else None
        for found in (fields.executive_name, fields.executive_title, fields.executive_email)
    )


class TestSignatureBlockFromEitherSide:
    """Issue 14, causes 2 and 3: the block is found from the typed name up as well."""

    @pytest.mark.parametrize(
        "closing",
        ["sinc rely, i y", "Sincercly, Wn", "Kmd regards,", "Yours sincerelv"],
        ids=["loops-through-it", "blurred", "misread", "last-letter"],
    )
    def test_a_mangled_closing_does_not_lose_the_block(self, closing: str) -> None:
        name, title, email = executive([*LABELLED[:7], closing, *BLOCK])

        assert (name, title, email) == ("Ibrahim Al-Mansouri", "Founder & CEO", BLOCK[3])

    def test_no_closing_at_all_the_block_is_found_from_the_name_and_the_band_known(self) -> None:
        fields = extract_fields([page_of(*LABELLED[:7], "WwW Mnn", *BLOCK)])

        assert fields.executive_name is not None
        assert fields.executive_name.value == "Ibrahim Al-Mansouri"
        assert fields.name_line is not None  # what the signature band hangs from
        assert [line.text for line in fields.signature_lines] == ["WwW Mnn"]
        assert fields.executive_email is not None
        assert fields.email_to_add is not None
        assert fields.email_to_add.value == "jordan.lee@acme.example"

    def test_no_closing_and_the_signature_read_beside_the_block_between_name_and_title(
        self,
    ) -> None:
        # Held-out 0059-photo: "wy 2078", far right, between the name and the title.
        page = page_of(*LABELLED[:7], "my fr", BLOCK[0], "wy 2078", *BLOCK[1:])
        beside = page.lines[9]
        page.lines[9] = Line(tuple(
            Word(w.text, Box(1, w.box.x + 700, w.box.y, w.box.width, w.box.height), 40.0)
            for w in beside.words
        ))  # fmt: skip

        fields = extract_fields([page])

        assert fields.executive_name is not None
        assert fields.executive_name.value == BLOCK[0]
        assert fields.executive_title is not None
        assert fields.executive_title.value == BLOCK[1]

    def test_a_closing_read_with_the_signature_as_one_tall_line_is_not_the_band_s_top(
        self,
    ) -> None:
        page = page_of(*LABELLED[:7], "Sincerely, WwW", *BLOCK)
        tall = page.lines[7]
        page.lines[7] = Line(tuple(replace_height(w, 90) for w in tall.words))

        fields = extract_fields([page])

        assert fields.closing is None
        assert fields.name_line is not None
        assert fields.executive_name.value == "Ibrahim Al-Mansouri"  # type: ignore[union-attr]

    def test_a_body_line_like_a_closing_does_not_end_the_body(self) -> None:
        lines = [*LABELLED[:3], "Regarding the account", *LABELLED[3:7], "WwW", *BLOCK]

        fields = extract_fields([page_of(*lines)])

        assert fields.account_name is not None
        assert fields.email_to_add is not None
        assert fields.email_to_add.value == "jordan.lee@acme.example"
        assert fields.executive_name.value == "Ibrahim Al-Mansouri"  # type: ignore[union-attr]

    @pytest.mark.parametrize("fragment", ["y", "-", "g,", "~"])
    def test_a_descender_read_as_a_line_is_not_a_line(self, fragment: str) -> None:
        assert executive([*LABELLED[:7], "Sincerely,", BLOCK[0], fragment, *BLOCK[1:]]) == (
            "Ibrahim Al-Mansouri",
            "Founder & CEO",
            BLOCK[3],
        )

    def test_a_short_low_line_between_name_and_title_is_passed_over(self) -> None:
        page = page_of(*LABELLED[:7], "Sincerely,", BLOCK[0], "Jpy", *BLOCK[1:])
        page.lines[9] = Line(tuple(replace_height(w, 9) for w in page.lines[9].words))

        fields = extract_fields([page])

        assert fields.executive_name.value == "Ibrahim Al-Mansouri"  # type: ignore[union-attr]
        assert fields.executive_title.value == "Founder & CEO"  # type: ignore[union-attr]

    def test_the_company_line_is_never_the_name(self) -> None:
        # The name read badly: the company under the title must not stand in.
        lines = [*LABELLED[:7], "Sincerely,", "lbrahim A1-Mansour!", *BLOCK[1:]]

        name, _, _ = executive(lines)

        assert name != "Fabrikam, Inc."
        assert name != "Fabrikam Traders"
        lines[-2] = "Fabrikam Traders"
        assert executive(lines)[0] is None

    @pytest.mark.parametrize(
        "name",
        ["Laura van der Berg", "Kwame Schäfer", "Aoife O'Donnell", "Grace J. Whitmore-Price"],
    )
    def test_names_as_people_have_them(self, name: str) -> None:
        assert executive([*LABELLED[:7], "Kind regards,", name, "CEO", "x@acme.example"])[0] == (
            name
        )

    @pytest.mark.parametrize("mark", ["=", "~", "—", "|"])
    def test_a_flourish_read_beside_the_name_is_not_part_of_it(self, mark: str) -> None:
        # A photo: the signature's tail runs through the typed name, read as a mark.
        lines = [*LABELLED[:7], "Best regards,", f"Kwame Schäfer {mark}", "Founder & CEO"]

        assert executive([*lines, "kwame@litware.example"])[:2] == (
            "Kwame Schäfer",
            "Founder & CEO",
        )

    @pytest.mark.parametrize(
        "closing", ["With best regards,", "Warm regards,", "Best wishes,", "Respectfully yours,"]
    )
    def test_closings_as_people_write_them(self, closing: str) -> None:
        fields = extract_fields([page_of(*LABELLED[:7], closing, *BLOCK)])

        assert fields.closing is not None
        assert fields.closing.text == closing

    @pytest.mark.parametrize(
        ("closing", "gap", "title"),
        [("Yours sin", 4, "Founder & CEO"), ("Yours sii,", 4, "Founder & CEO"),
         ("Yours sin", 0, None)],
    )  # fmt: skip
    def test_a_closing_cut_short_by_the_signature_and_the_title_under_it(
        self, closing: str, gap: int, title: str | None
    ) -> None:
        # fpdf 5701 letter 9: felt initials over "sincerely," and over the typed
        # name, which OCR did not read at all; "Yours sin", then the title. The
        # title is taken only with room above it for the signature and the name.
        lines = [*LABELLED[:7], closing, *[""] * gap, *BLOCK[1:]]

        fields = extract_fields([page_of(*lines)])

        assert fields.closing is not None
        assert fields.closing.text == closing
        assert fields.executive_name is None
        assert (fields.executive_title.value if fields.executive_title else None) == title


def replace_height(word: Word, height: int) -> Word:
    return Word(word.text, Box(word.box.page, word.box.x, word.box.y, word.box.width, height),
                word.confidence)  # fmt: skip


def account(*lines: str) -> str | None:
    found = extract_fields([page_of(*lines, "Sincerely,", *BLOCK)]).account_name
    return found.value if found else None


class TestAccountNameAsPeopleWriteIt:
    """Issue 14, cause 4: a slug or a display name, quoted or bare, read whole."""

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("our account \u201cNorthwind Traders - Enterprise\u201d, contract ENT-2024-001234.",
             "Northwind Traders - Enterprise"),
            ('Account name: "Tailspin Toys (UK) Ltd"', "Tailspin Toys (UK) Ltd"),
            ('our account "Contoso Europe B.V." (contoso-eu), contract ENT-2024-001234.',
             "Contoso Europe B.V."),
            ("Company account ...............: Fabrikam, Inc.", "Fabrikam, Inc."),
            ("Account | Wide World Importers", "Wide World Importers"),
            ("to our enterprise account Adventure Works Cycles - EMEA (contract number",
             "Adventure Works Cycles - EMEA"),
            ("Company account northwind-traders", "northwind-traders"),
            ("Account contoso-eu", "contoso-eu"),  # a table's row
            # OCR's readings of forms and tables on development letters (stop 38)
            ("Account name .............++...: Wide-world-importers", "wide-world-importers"),
            ('Company account .... \u00bb..: "Northwind Traders - Enterprise" (northwind-traders)',
             "Northwind Traders - Enterprise"),
            ('"Company account - | proseware-gmbh -', "proseware-gmbh"),
            ('"Account _ wide-world-importers', "wide-world-importers"),
            ("| Account i contoso-eu", "contoso-eu"),
            # pillow 5502 letter 37 (stop 43): the leader's last dots read as a word
            ("ACCOUNT .... ees: Wide-world-importers", "wide-world-importers"),
            # pillow 5602 letters 10 and 32: a table's wide gap read as "_—_"
            ("Enterprise account _\u2014_fabrikam", "fabrikam"),
            ("Enterprise account \u2014_northwind-traders", "northwind-traders"),
            ("Account name: Wide World Importers .. |", "Wide World Importers"),
            # pillow 5602 letter 14, photo: the opening quote lost
            ('Account ...........eceeeeeeeeee: Litware Labs" (lLitware)', "Litware Labs"),
            # the label misread at a row's start (pillow 5502 letters 1 and 35, photos)
            ("ACCOUNE .......0005 seeeeeeeeeees \u201cTailspin Toys (UK) Ltd\u201d",
             "Tailspin Toys (UK) Ltd"),
            ("ccount name proseware-gmbh", "proseware-gmbh"),
            # pillow 5602 letter 1: the leader read as one dot
            ("Enterprise account . Adventure Works Cycles \u2014 EMEA",
             "Adventure Works Cycles - EMEA"),
            ("Company account . proseware-gmbh", "proseware-gmbh"),
            # pillow 5502 letter 36, scan: an opening quote and no closing one
            ("Enterprise account _ \u2018northwind-traders", "northwind-traders"),
        ],
    )  # fmt: skip
    def test_read_whole(self, line: str, expected: str) -> None:
        assert account(line) == expected

    def test_a_table_s_row_read_as_two_lines(self) -> None:
        # The label's cell and the value's far apart: OCR read them as two lines.
        lines = ("administrator access to our enterprise account:", "Account", "contoso-eu")

        assert account(*lines, "Contract No. ENT-2021-323331") == "contoso-eu"

    def test_a_border_read_as_a_quote_before_the_row_is_not_the_name(self) -> None:
        lines = (
            "administrator access to our enterprise account:",
            '"Account \u201cWide World\u201d',
        )

        assert account(*lines, "Contract No. ENT-2021-323331") == "Wide World"

    # "Account Security Team" in the address is not the account.
    @pytest.mark.parametrize(
        ("letter", "expected"),
        [
            # fpdf 5201 letter 37 (stop 39): the display name in the prose, broken
            # over two lines.
            (("Dear Support Team,", "be made an administrator of our account Adventure",
              "Works Cycles - EMEA, contract ENT-2025-173280."),
             "Adventure Works Cycles - EMEA"),
            # fpdf 5701 letter 35 (stop 44): "Hello," is no salutation read, and a row
            # "Account" with a name after it was taken before the quoted name.
            (("Hello,", 'administrator of our account "Northwind Traders - Enterprise"'),
             "Northwind Traders - Enterprise"),
        ],
    )  # fmt: skip
    def test_the_recipient_s_team_is_not_the_account(
        self, letter: tuple[str, ...], expected: str
    ) -> None:
        assert account("Keyholder Support", "Account Security Team", *letter) == expected

    def test_a_row_with_its_leader_lost_names_the_account_after_the_salutation(self) -> None:
        # Pillow 5502 letter 4, scan: the leader lost, the border read as "|".
        lines = ("Dear Sir or Madam,", "The details are below.", "| Aecoune Litware Labs")

        assert account(*lines, "Contract # ENT2022019214") == "Litware Labs"

    def test_a_clause_after_the_name_is_not_taken_into_it(self) -> None:
        lines = (
            "Dear Support Team,",
            "please give jo@acme.example admin rights on our account Acme, which I",
            "manage under contract ENT-2025-173280.",
        )

        found = account(*lines)

        assert found is not None
        assert "manage" not in found  # the next line's words are not the name's

    def test_a_quoted_name_with_its_slug_is_the_account_when_the_label_was_lost(
        self,
    ) -> None:
        # Pillow 5102 letter 35: OCR skipped the form's "Account ......:" column.
        lines = (
            "I am writing to ask you to grant administrator access as set out below.",
            '"Tailspin Toys (UK) Ltd" (tailspin-toys)',
            ": ENT2026223725",
        )

        assert account(*lines) == "Tailspin Toys (UK) Ltd"

    def test_a_quoted_phrase_with_a_bracketed_word_is_not_an_account(self) -> None:
        lines = ('He said "hello there" (laughing) and left.', "Contract ENT-2025-173280.")

        assert account(*lines) is None

    def test_an_account_named_in_prose_without_a_salutation_is_read(self) -> None:
        lines = ("Please make jo@acme.example an administrator of account Acme Corp,",)

        assert account(*lines, "contract ENT-2025-173280.") == "Acme Corp"

    def test_a_dot_leader_read_as_letters_is_not_the_account(self) -> None:
        # Pillow 5502 letter 37: the leader's dots read as "ee", "eee", each word's
        # box a few pixels high on a line of text 30 high.
        page = page_of(
            "Dear Support Team,",
            "ACCOUNT .... ee eee ee ees: Wide-world-importers",
            "Contract ref. ENT2023722181",
            "Sincerely,",
            *BLOCK,
        )
        leader = page.lines[1].words[1:-1]
        page.lines[1] = Line(
            (
                page.lines[1].words[0],
                *(Word(w.text, w.box, 0.0) for w in leader[:-1]),
                *(replace_height(Word(w.text, w.box, 0.0), 5) for w in leader[-1:]),
                page.lines[1].words[-1],
            )
        )

        found = extract_fields([page]).account_name

        assert found is not None
        assert found.value == "wide-world-importers"

    def test_a_short_lower_case_slug_is_still_read(self) -> None:
        # x-height letters stand over half a line tall: a word, not a dot leader.
        page = page_of("Dear Support Team,", "Account: acme", "Sincerely,", *BLOCK)
        row = page.lines[1]
        page.lines[1] = Line((row.words[0], replace_height(row.words[1], 17)))

        found = extract_fields([page]).account_name

        assert found is not None
        assert found.value == "acme"

    def test_a_capitalised_display_name_is_not_cut_to_a_slug(self) -> None:
        assert account("Account name ......: Wide-World Importers") == "Wide-World Importers"

    def test_a_label_ending_its_line_does_not_take_the_next_label(self) -> None:
        lines = ("administrator access to our enterprise account:", "Company account litware")

        assert account(*lines, "Contract ref. ENT-2021-616897") == "litware"

    def test_a_table_s_label_after_a_label_ending_its_line(self) -> None:
        # Held-out letters, stop 28: "our enterprise account:" took the table's row
        # "Account name Proseware GmbH" as its value, was refused, and hid the row.
        lines = ("administrator access to our enterprise account:", "Account name Proseware GmbH")

        assert account(*lines, "Contract ref. ENT2023722181") == "Proseware GmbH"

    @settings(deadline=None)
    @given(
        words=st.lists(
            st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9), min_size=1, max_size=4
        ),
        dash=st.booleans(),
        quotes=st.sampled_from([("\u201c", "\u201d"), ('"', '"'), ("\u2018", "\u2019")]),
    )
    def test_any_display_name_in_quotes_is_read_whole(
        self, words: list[str], dash: bool, quotes: tuple[str, str]
    ) -> None:
        name = " ".join(w.capitalize() for w in words) + (" - Enterprise" if dash else "")

        line = f"of our account {quotes[0]}{name}{quotes[1]}, contract ENT-2024-001234."

        assert account(line) == name
