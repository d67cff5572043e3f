"""How OCR's lines are put together and which of several readings is kept."""

from __future__ import annotations

import numpy as np
import pytest

from keyholder.letters.document import Box, Line, Word
from keyholder.letters.ocr import (
    OcrUnavailable,
    best_reading,
    join_form_rows,
    join_split_lines,
    read_words,
)
from tests.letters import corpus
from tests.letters.conftest import needs_tesseract


def line(*words: tuple[str, int, float], y: int = 100, height: int = 30) -> Line:
    """Words as (text, x, confidence), each 10 pixels a character."""
    return Line(tuple(Word(t, Box(1, x, y, 10 * len(t), height), c) for t, x, c in words))


class TestJoinSplitLines:
    def test_a_word_cut_between_two_blocks_is_one_word(self) -> None:
        (joined,) = join_split_lines([line(("Si", 100, 95.0)), line(("ncerely,", 121, 69.0))])

        assert joined.text == "Sincerely,"
        assert joined.box == Box(1, 100, 100, 101, 30)
        assert joined.confidence == 69.0

    def test_a_line_cut_between_words_keeps_its_space(self) -> None:
        (joined,) = join_split_lines(
            [line(("Kind", 100, 95.0)), line(("regards,", 150, 95.0), y=104)]
        )

        assert joined.text == "Kind regards,"

    @pytest.mark.parametrize(
        "second",
        [
            line(("March", 800, 95.0), ("5,", 860, 95.0)),  # the other side of the page
            line(("regards,", 150, 95.0), y=140),  # the next line down
        ],
    )
    def test_lines_apart_stay_apart(self, second: Line) -> None:
        first = line(("Kind", 100, 95.0))

        assert join_split_lines([first, second]) == [first, second]


class TestJoinFormRows:
    # Pillow 5402 letter 19, photo: the value, read two pixels higher, came first.
    def test_a_label_with_its_leader_takes_the_value_on_its_row(self) -> None:
        value = line(
            ("..:", 617, 0.0), ("\u201cNorthwind", 650, 96.0), ("Traders\u201d", 760, 93.0), y=98
        )
        label = line(("Company", 167, 96.0), ("account", 240, 93.0), ("...", 320, 92.0))
        under = line(("Contract", 167, 92.0), ("#", 250, 81.0), y=136)

        joined, rest = join_form_rows([value, label, under])

        assert joined.text == "Company account ... ..: \u201cNorthwind Traders\u201d"
        assert rest == under

    @pytest.mark.parametrize(
        "first",
        [
            line(("We", 100, 95.0), ("agree", 130, 95.0), ("with", 190, 95.0)),  # no leader
            line(("...", 100, 60.0)),  # a leader alone, no label
        ],
    )
    def test_other_lines_on_a_row_stay_apart(self, first: Line) -> None:
        second = line(("2026-12-05", 800, 95.0))

        assert join_form_rows([first, second]) == [first, second]


class TestBestReading:
    def test_two_readings_that_agree_outvote_a_surer_one(self) -> None:
        first = line(("sofia@", 100, 40.0), ("initech.example", 170, 50.0))
        surer_but_alone = line(("sofia@inittech.example", 100, 81.0))
        third = line(("sofia@", 100, 60.0), ("initech.example", 170, 88.0))

        assert best_reading([first, surer_but_alone, third]) is third

    def test_of_agreeing_readings_the_one_in_fewest_words(self) -> None:
        split = line(("sofia@", 100, 60.0), ("globe", 170, 71.0), ("x.example", 230, 59.0))
        whole = line(("sofia@", 100, 48.0), ("globex.example", 170, 50.0))

        assert best_reading([split, whole]) is whole

    def test_without_agreement_the_surest(self) -> None:
        readings = [line(("a@b.example", 100, c)) for c in (40.0, 70.0)]
        readings.append(line(("a@c.example", 100, 90.0)))

        assert best_reading(readings[1:]) is readings[2]


@needs_tesseract
def test_tesseract_taking_too_long_is_ocr_unavailable(letter: corpus.Letter) -> None:
    page = np.asarray(corpus.render(letter)[0].convert("L"))

    with pytest.raises(OcrUnavailable, match=r"did not finish within 0\.01 s"):
        read_words(page, 1, timeout=0.01)
