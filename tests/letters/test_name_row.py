"""The typed name's row read alone (issue 14): a name read as one line with the
signature over it is read again from its own row, above the title."""

from __future__ import annotations

from keyholder.letters.document import Box, Word
from keyholder.letters.name_row import name_in_row
from tests.letters import generated
from tests.letters.conftest import needs_tesseract


def _words(*words: tuple[str, int, float]) -> tuple[Word, ...]:
    """Each word at its x with its confidence, 15 pixels a character, 28 high."""
    return tuple(Word(t, Box(1, x, 0, 15 * len(t), 28), sure) for t, x, sure in words)


def test_a_stroke_s_marks_do_not_join_its_end_to_the_name() -> None:
    # fpdf 5401 letter 39, scan, the row read alone: "Lena O'Donnell | — “eA".
    read = _words(
        ("Lena", 259, 96.0), ("O'Donnell", 335, 96.0), ("|", 475, 40.0), ("\u2014", 503, 30.0),
        ("\u201ceA", 601, 52.0),
    )  # fmt: skip

    name = name_in_row(read, {1: 29.0})

    assert name is not None
    assert name.text == "Lena O'Donnell"


def test_a_stroke_read_on_from_the_name_s_end_is_cut_at_its_first_unsure_word() -> None:
    # fpdf 5501 letter 23, scan, the row above the title read alone.
    read = _words(
        ("Mei-Ling", 143, 92.0), ("C.", 275, 84.0), ("Al-Mansouri", 315, 92.0), ("S", 485, 29.0),
        ("XEN", 515, 45.0), ("i", 570, 2.0), ("J", 590, 85.0),
    )  # fmt: skip

    name = name_in_row(read, {1: 29.0})

    assert name is not None
    assert name.text == "Mei-Ling C. Al-Mansouri"


def test_a_name_in_small_bold_print_read_as_one_word_is_split() -> None:
    # reportlab 5102 letter 16, photo: the row read alone as "CharlotteJ.Mensah".
    name = name_in_row(_words(("CharlotteJ.Mensah", 148, 46.0)), {1: 36.0})

    assert name is not None
    assert [w.text for w in name.words] == ["Charlotte", "J.", "Mensah"]
    assert name.words[1].box.x > name.words[0].box.right - 1


def test_one_name_with_a_capital_inside_is_not_split() -> None:
    name = name_in_row(_words(("McDonald", 148, 46.0)), {1: 36.0})

    assert name is not None
    assert name.text == "McDonald"


def test_an_unsure_word_of_a_name_is_kept_when_the_whole_row_reads_as_a_name() -> None:
    read = _words(("Tomasz", 143, 92.0), ("van", 250, 30.0), ("der", 305, 91.0),
                  ("Berg", 360, 40.0))  # fmt: skip

    name = name_in_row(read, {1: 29.0})

    assert name is not None
    assert name.text == "Tomasz van der Berg"


# The first reading took a gel pen's "L O'Donnelle" and the typed name under it as
# one line five line heights tall, "Lo Porpe" (fpdf 5401 letter 39, scan); read
# alone, the name's row above the title reads "Lena O'Donnell" (and the stroke's
# end beyond it, cut off as above).
@needs_tesseract
def test_a_name_read_with_the_signature_into_it_is_read_alone() -> None:
    report = generated.screen("fpdf", 5401, 39, "scan")

    assert report.json["items"]["executive_name"]["value"] == "Lena O'Donnell"
