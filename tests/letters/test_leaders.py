from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from keyholder.letters.document import Box, Line, Word
from keyholder.letters.leaders import leader_texts

LINE_HEIGHT = 26.0


def line_of(*words: tuple[str, int, float]) -> Line:
    """A line of (text, box height, confidence) words, left to right."""
    placed, x = [], 100
    for text, height, confidence in words:
        placed.append(Word(text, Box(1, x, 700 + 26 - height, 12 * len(text), height), confidence))
        x += 12 * len(text) + 12
    return Line(tuple(placed))


def test_dots_read_as_letters_are_dots_again() -> None:
    # Pillow 5502 letter 37: each "word" of the leader a few pixels high.
    line = line_of(("ACCOUNT", 19, 35), ("....", 4, 0), ("ee", 4, 28), ("eee", 4, 38),
                   ("ees:", 15, 0), ("Wide-world-importers", 26, 84))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT) == [
        "ACCOUNT", "....", "..", "...", "...:", "Wide-world-importers",
    ]  # fmt: skip


def test_unsure_words_after_a_leader_are_the_leader_read_on() -> None:
    # Pillow 5502 letter 32: the leader's words as tall as letters, read at 0%.
    line = line_of(("Account", 20, 91), ("........e", 14, 0), ("cece", 36, 0),
                   ("eaeeeest", 14, 0), ("Litware", 21, 78))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT) == [
        "Account", ".........", "....", "........", "Litware",
    ]  # fmt: skip


def test_dots_read_as_symbols_are_dots_again() -> None:
    # Pillow 5502 letter 32, photo: the leader's dots read as "©", one as "°".
    line = line_of(("Account", 20, 95), ("re", 5, 0), ("©", 5, 63), ("©", 5, 80),
                   ("°", 14, 56), ("litware", 21, 47))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT) == ["Account", "..", "..", "..", "..", "litware"]


def test_dashes_bars_and_quotes_are_not_dots() -> None:
    line = line_of(("Account", 20, 95), ("....", 4, 80), ("|", 4, 50), ("-", 3, 50),
                   ("“", 5, 40), ("Litware", 21, 90))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT)[2:5] == ["|", "-", "“"]


def test_the_value_after_a_leader_is_kept_however_unsure() -> None:
    # The line's last word: the value, even read at 40%.
    line = line_of(("Account", 20, 91), ("........", 4, 80), ("contoso-eu", 20, 40))

    assert leader_texts(line, LINE_HEIGHT)[-1] == "contoso-eu"


def test_an_unsure_slug_with_words_after_it_is_kept() -> None:
    line = line_of(("Account", 20, 91), ("........", 4, 80), ("northwind-traders", 20, 45),
                   ("(main)", 20, 40))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT)[2] == "northwind-traders"


def test_a_value_read_glued_to_the_leader_is_kept() -> None:
    line = line_of(("Email", 20, 96), ("..........:jo@acme.example", 20, 70))
    assert leader_texts(line, LINE_HEIGHT)[1] == "..........:jo@acme.example"

    line = line_of(("Account", 20, 96), ("........acme-corp", 20, 70), ("(main)", 20, 40))
    assert leader_texts(line, LINE_HEIGHT)[1:] == ["........acme-corp", "(main)"]


def test_a_capitalised_word_in_a_box_read_too_small_is_no_leader() -> None:
    # Pillow 5702 letter 20, photo: Tesseract gave "“Tailspin" a box one pixel high.
    line = line_of(("Account", 29, 96), ("\u201cTailspin", 1, 0), ("Toys", 33, 96),
                   ("(UK)", 31, 95), ("Ltd\u201d", 28, 57))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT)[1] == "\u201cTailspin"


def test_a_colon_ends_the_leader() -> None:
    line = line_of(("Email", 20, 96), ("..........:", 14, 89),
                   ("jo@acme.example", 20, 50), ("(it)", 20, 40))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT) == ["Email", "..........:", "jo@acme.example", "(it)"]


def test_small_punctuation_in_a_name_is_no_leader() -> None:
    # Pillow 5502 letter 10: the dash of "Cycles - EMEA" is two pixels high.
    line = line_of(("Adventure", 18, 96), ("Cycles", 22, 93), ("-", 2, 55),
                   ("emea", 16, 40), ("now", 16, 96))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT) == ["Adventure", "Cycles", "-", "emea", "now"]


def test_prose_with_an_ellipsis_is_untouched() -> None:
    line = line_of(("we", 15, 96), ("tried", 20, 50), ("everything...", 20, 50),
                   ("then", 20, 45), ("left", 20, 96))  # fmt: skip

    assert leader_texts(line, LINE_HEIGHT) == ["we", "tried", "everything...", "then", "left"]


def test_a_page_read_sideways_keeps_its_small_words() -> None:
    # Pillow 5502 letter 6, photo: read sideways, a "line" runs down the page and
    # each word's box is its length; "6," is no dot leader.
    line = line_of(("Adventure", 148, 96), ("Works", 80, 96), ("December", 128, 95),
                   ("6,", 23, 96), ("2026", 63, 95), ("Cycles", 1269, 93))  # fmt: skip

    assert leader_texts(line, 1000.0)[3] == "6,"


words = st.tuples(
    st.text(alphabet="abcdeACDE.:@-0123", min_size=1, max_size=8),
    st.integers(min_value=2, max_value=40),
    st.floats(min_value=0, max_value=100),
)


@given(st.lists(words, min_size=1, max_size=8))
def test_only_leaders_change(spec: list[tuple[str, int, float]]) -> None:
    line = line_of(*spec)

    texts = leader_texts(line, LINE_HEIGHT)

    assert len(texts) == len(line.words)
    for text, word in zip(texts, line.words, strict=True):
        if text != word.text:
            # made dots, keeping a colon that ends it; never an address nor capitals
            assert set(text.rstrip(":|")) == {"."}
            assert "@" not in word.text
            assert not any(c.isupper() for c in word.text)
            assert any(c.isalnum() for c in word.text)
