"""Whole letters from the benchmark's generators, as the corpora write them."""

from __future__ import annotations

import random
from datetime import date

from benchmarks.corpora.build import GENERATORS, letter_files
from benchmarks.corpora.spec import random_spec
from keyholder.letters import LetterReport, prescreen_letter

TODAY = date(2026, 12, 7)


def letter_file(generator: str, seed: int, number: int, condition: str) -> tuple[bytes, str]:
    """The file ``python -m benchmarks.corpora`` writes for this letter and condition."""
    spec = random_spec(seed, number, today=TODAY)
    file_seed = random.Random(f"file/{generator}/{seed}/{number}/{condition}").randint(0, 2**63)
    return letter_files(GENERATORS[generator](spec), condition, file_seed, generator)


def screen(generator: str, seed: int, number: int, condition: str) -> LetterReport:
    data, extension = letter_file(generator, seed, number, condition)
    return prescreen_letter(data, filename=f"letter.{extension}")
