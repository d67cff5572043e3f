"""The pre-screen in a child process with time and memory limits (S33)."""

from __future__ import annotations

import pytest
from PIL import Image

from keyholder.config import Settings
from keyholder.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from keyholder.letters import AccountRecords, TypedFields, prescreen_in_subprocess
from keyholder.letters.sandbox import child_environment
from tests.letters import corpus


def settings(**overrides: object) -> Settings:
    return Settings(env="development", **overrides)  # type: ignore[arg-type]


class TestSandbox:
    def test_s33_report_comes_back_from_the_child(
        self, letter: corpus.Letter, typed: TypedFields, records: AccountRecords
    ) -> None:
        report = prescreen_in_subprocess(
            corpus.text_pdf(letter), typed=typed, records=records, settings=settings(),
            today=corpus.TODAY, annotated=True,
        )  # fmt: skip

        assert report.json["summary"] == {"pass": 9, "fail": 0, "unknown": 0}
        assert report.json["records"]["executive_contacts"][0]["name"] == letter.executive_name
        assert (report.annotated_png or b"").startswith(b"\x89PNG")

    def test_s32_refusals_in_the_child_are_raised_in_the_parent(self) -> None:
        with pytest.raises(UnsupportedMediaType):
            prescreen_in_subprocess(b"<html>not a letter</html>", settings=settings())

    def test_s33_oversized_input_is_refused_before_starting_a_child(self) -> None:
        with pytest.raises(PayloadTooLarge):
            prescreen_in_subprocess(b"%PDF-" + b"0" * 100, settings=settings(letters_max_bytes=50))

    def test_s33_time_limit_stops_the_child(self, letter: corpus.Letter) -> None:
        with pytest.raises(InvalidInput, match="longer than"):
            prescreen_in_subprocess(
                corpus.text_pdf(letter), settings=settings(letters_timeout_seconds=0.05)
            )

    def test_s33_memory_limit_stops_the_child(self) -> None:
        # 12,000 x 12,000 white pixels: a small PNG that needs ~430 MB once decoded.
        huge = corpus.png_bytes(Image.new("1", (12_000, 12_000), 1))

        with pytest.raises(InvalidInput, match="stopped by its limits"):
            prescreen_in_subprocess(
                huge,
                settings=settings(letters_memory_limit_mb=256, letters_max_pixels=200_000_000),
            )

    def test_s33_the_child_gets_no_secrets_from_our_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KEYHOLDER_SECRET_KEY", "do-not-leak")
        monkeypatch.setenv("KEYHOLDER_DATABASE_URL", "postgresql://user:pw@db/keyholder")

        environment = child_environment()

        assert not any(name.startswith("KEYHOLDER_") for name in environment)
        assert environment["OMP_THREAD_LIMIT"] == "1"
