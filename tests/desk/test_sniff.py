"""desk.sniff: what we take as an attachment, decided from its bytes (S32, S33, S34)."""

from __future__ import annotations

import unicodedata
import zlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from keyholder.desk import sniff as sniff_module
from keyholder.desk.sniff import (
    MAX_FILENAME_BYTES,
    MediaType,
    check_file,
    clean_filename,
    sniff,
)
from keyholder.errors import InvalidInput, KeyholderError, PayloadTooLarge, UnsupportedMediaType
from tests.desk import sample_files

MAX_BYTES = 1024 * 1024
MAX_PIXELS = 1_000_000


def check(data: bytes, filename: str = "file", **limits: int):
    return check_file(
        data,
        filename,
        max_bytes=limits.get("max_bytes", MAX_BYTES),
        max_pixels=limits.get("max_pixels", MAX_PIXELS),
    )


def outcome(data: bytes, filename: str):
    """The checked file, or None when refused with one of the upload statuses."""
    try:
        return check(data, filename)
    except KeyholderError as error:
        refused = error
    assert refused.status_code in {413, 415, 422}
    return None


class TestAccepted:
    @pytest.mark.parametrize(
        ("data", "filename", "media_type"),
        [
            (sample_files.png(), "screenshot.png", MediaType.PNG),
            (sample_files.jpeg(), "photo.JPG", MediaType.JPEG),
            (sample_files.jpeg(), "photo.jpeg", MediaType.JPEG),
            (sample_files.pdf(), "invoice.pdf", MediaType.PDF),
            ("grüße, 2 < 3\n".encode(), "notes.txt", MediaType.TEXT),
            (b"\xef\xbb\xbfwith a BOM\r\n", "export.csv", MediaType.TEXT),
            (b"\x1b[31mred\x1b[0m\tcoloured log\n", "server.log", MediaType.TEXT),
        ],
    )
    def test_the_four_types_with_agreeing_extensions(self, data, filename, media_type):
        checked = check(data, filename)
        assert checked.media_type is media_type
        stem, _, extension = filename.rpartition(".")
        assert checked.filename == f"{stem}.{extension.lower()}"

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (sample_files.png(), "scan.png"),
            (sample_files.jpeg(), "scan.jpg"),
            (sample_files.pdf(), "scan.pdf"),
            (b"plain words\n", "scan.txt"),
        ],
    )
    def test_a_name_without_extension_gets_the_sniffed_one(self, data, expected):
        assert check(data, "scan").filename == expected

    def test_a_pdf_with_compressed_content_but_no_actions_is_fine(self):
        page = sample_files.pdf_stream(b"", b"BT /F1 12 Tf 72 712 Td (Hello) Tj ET")
        objects = sample_files.pdf_stream(b"/Type /ObjStm /N 1 /First 4", b"9 0 << /A 1 >>")
        assert check(sample_files.pdf(page, objects), "a.pdf").media_type is MediaType.PDF


class TestRefusedTypes:
    @pytest.mark.parametrize(
        ("data", "filename"),
        [
            (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "page.txt"),
            (b"<html><body>hi</body></html>", "page.html"),
            (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image.svg"),
            (b'<?xml version="1.0"?><svg/>', "image.png"),
            (b'<?xml version="1.0"?><note>hi</note>', "note.txt"),
            (b"  \n<div onclick=x>looks like markup</div>", "note.txt"),
            (b"log line\nlater: <script>steal()</script>\n", "app.log"),
            (b"PK\x03\x04\x14\x00\x00\x00", "archive.zip"),
            (b"PK\x03\x04\x14\x00\x00\x00", "archive.pdf"),
            (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "setup.exe"),
            (b"\x7fELF\x02\x01\x01\x00", "program.txt"),
            (b"#!/bin/sh\nrm -rf /\n", "script.txt"),
            (b"GIF89a\x01\x00\x01\x00", "anim.gif"),
            (b"\x00\x01\x02binary", "data.txt"),
            (b"utf-16 \x00t\x00e\x00x\x00t", "notes.txt"),
            (b"latin-1 caf\xe9", "notes.txt"),
            (b"a text that is also %PDF-1.7 a pdf", "notes.txt"),
        ],
    )
    def test_markup_archives_executables_and_binaries_are_415(self, data, filename):
        with pytest.raises(UnsupportedMediaType) as refused:
            check(data, filename)
        assert "we accept PDF, PNG, JPEG or plain UTF-8 text" in refused.value.detail

    @pytest.mark.parametrize(
        ("data", "filename"),
        [
            (sample_files.png(), "photo.jpg"),
            (sample_files.jpeg(), "photo.png"),
            (sample_files.pdf(), "letter.txt"),
            (sample_files.png(), "page.html"),
            (b"hello", "hello.pdf"),
            (sample_files.pdf(), "archive.tar.gz"),
            (sample_files.pdf(), "invoice.pdf.exe"),
            (sample_files.pdf(), "invoice.pdf\x00.png"),  # NUL truncation: the name says png
        ],
    )
    def test_an_extension_that_disagrees_with_the_content_is_415(self, data, filename):
        with pytest.raises(UnsupportedMediaType, match="name ends in"):
            check(data, filename)

    @pytest.mark.parametrize(
        "data",
        [
            sample_files.png()[:-12]
            + b"<html><script>alert(1)</script>"
            + sample_files.png()[-12:],
            sample_files.png() + b"<html><script>alert(1)</script></html>",  # after IEND
            sample_files.png() + b"%PDF-1.7 trailing",
            sample_files.jpeg()[:20] + b"<svg onload=alert(1)>" + sample_files.jpeg()[20:],
            sample_files.jpeg() + b"PK\x05\x06" + b"\x00" * 18,  # a ZIP's end after the image
            sample_files.jpeg() + b"%PDF-1.4\n",
            b"%PDF-1.4\n<html><script>alert(1)</script>" + sample_files.pdf()[9:],
        ],
    )
    def test_polyglots_are_415(self, data):
        with pytest.raises(UnsupportedMediaType, match="polyglot"):
            sniff(data)

    @pytest.mark.parametrize(
        "action",
        [
            b"<< /S /JavaScript /JS (app.alert(1)) >>",
            b"<< /JS (app.alert(1)) >>",
            b"<< /S /Launch /F (cmd.exe) >>",
            b"<< /Type /EmbeddedFile >>",
            b"<< /Names << /JavaScript 9 0 R >> >>",
            b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",  # names with #xx escapes
        ],
    )
    def test_pdfs_with_active_content_are_415(self, action):
        with pytest.raises(UnsupportedMediaType, match="active content"):
            check(sample_files.pdf(action), "a.pdf")

    def test_javascript_hidden_in_a_compressed_object_stream_is_found(self):
        hidden = sample_files.pdf_stream(
            b"/Type /ObjStm /N 1 /First 4", b"9 0 << /S /JavaScript /JS (app.alert(1)) >>"
        )
        with pytest.raises(UnsupportedMediaType, match="/JavaScript"):
            check(sample_files.pdf(hidden), "a.pdf")

    def test_an_object_stream_dressed_as_an_image_is_still_read(self):
        disguised = sample_files.pdf_stream(
            b"/Type /ObjStm /N 1 /First 4 /X (1 0 obj) /Subtype /Image",
            b"9 0 << /S /Launch /F (cmd.exe) >>",
        )
        with pytest.raises(UnsupportedMediaType, match="/Launch"):
            check(sample_files.pdf(disguised), "a.pdf")

    @pytest.mark.parametrize("at", range(64 * 1024 - 24, 64 * 1024 + 8))
    def test_a_name_across_two_inflated_pieces_is_still_found(self, at):
        data = b" " * at + b"/JavaScript " + b" " * 1000
        stream = b"<< /Length 1 >>\nstream\n" + zlib.compress(data, 0) + b"\nendstream"
        with pytest.raises(UnsupportedMediaType, match="/JavaScript"):
            check(sample_files.pdf(stream), "a.pdf")

    def test_two_letters_by_chance_in_stream_data_are_not_active_content(self):
        pixels = b"<< /Subtype /Image /Length 20 >>\nstream\n\x00\x17/JS (\xff\x00\nendstream"
        assert check(sample_files.pdf(pixels), "a.pdf").media_type is MediaType.PDF

    def test_object_streams_in_encodings_we_cannot_read_are_415(self):
        lzw = b"<< /Type /ObjStm /N 1 /First 4 /Filter /LZWDecode /Length 3 >>"
        lzw += b"\nstream\nabc\nendstream"
        with pytest.raises(UnsupportedMediaType, match="encodings"):
            check(sample_files.pdf(lzw), "a.pdf")

    def test_encrypted_object_streams_are_415(self):
        objects = sample_files.pdf_stream(b"/Type /ObjStm /N 1 /First 4", b"9 0 << >>")
        encrypted = sample_files.pdf(objects, b"<< /Filter /Standard /V 2 >>").replace(
            b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 6 0 R"
        )
        with pytest.raises(UnsupportedMediaType, match="without a password"):
            check(encrypted, "a.pdf")

    def test_a_pdf_that_inflates_past_the_budget_is_413(self, monkeypatch):
        monkeypatch.setattr(sniff_module, "MAX_PDF_INFLATED", 1024 * 1024)
        huge = sample_files.pdf_stream(b"", b"\x00" * (1024 * 1024 + 1))
        with pytest.raises(PayloadTooLarge, match="expands"):
            check(sample_files.pdf(huge), "a.pdf")

    def test_plain_images_are_not_inflated_however_large(self, monkeypatch):
        monkeypatch.setattr(sniff_module, "MAX_PDF_INFLATED", 1024 * 1024)
        scan = b"/Type /XObject /Subtype /Image /Width 1024 /Height 2048 /BitsPerComponent 8"
        page = sample_files.pdf_stream(scan, b"\xff" * 2 * 1024 * 1024)
        assert check(sample_files.pdf(page), "scan.pdf").media_type is MediaType.PDF

    @pytest.mark.parametrize(
        "dictionary",
        [
            b"/Subtype /Image /N 1 /First 4",  # an object stream calling itself an image
            b"/Subtype /Image /Name (x) ",  # strings could fake where the object starts
        ],
    )
    def test_anything_less_than_a_plain_image_is_inflated(self, monkeypatch, dictionary):
        monkeypatch.setattr(sniff_module, "MAX_PDF_INFLATED", 1024 * 1024)
        stream = sample_files.pdf_stream(dictionary, b"\xff" * 2 * 1024 * 1024)
        with pytest.raises(PayloadTooLarge, match="expands"):
            check(sample_files.pdf(stream), "a.pdf")

    def test_a_broken_image_behind_good_magic_is_415(self):
        with pytest.raises(UnsupportedMediaType, match="cannot be read"):
            check(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10 + b"\x00\x00\x00\x00IEND\xaeB`\x82")
        with pytest.raises(UnsupportedMediaType, match="cannot be read"):
            check(b"\xff\xd8\xff" + b"not really a jpeg")

    def test_an_empty_file_is_422(self):
        with pytest.raises(InvalidInput, match="empty"):
            check(b"", "empty.txt")


class TestLimits:
    def test_s33_over_the_byte_limit_is_413(self):
        with pytest.raises(PayloadTooLarge):
            check(b"x" * 101, "big.txt", max_bytes=100)
        assert check(b"x" * 100, "fits.txt", max_bytes=100).media_type is MediaType.TEXT

    def test_s33_a_pixel_bomb_past_pillows_own_limit_is_413(self):
        bomb = sample_files.png_bomb(20000, 20000)  # 400 million pixels in a few hundred bytes
        assert len(bomb) < 2000
        with pytest.raises(PayloadTooLarge, match="pixels"):
            check(bomb, "bomb.png", max_pixels=50_000_000)

    def test_s33_an_image_over_our_limit_but_under_pillows_is_413(self):
        with pytest.raises(PayloadTooLarge, match="pixels"):
            check(sample_files.png_bomb(2000, 1000), "wide.png", max_pixels=1_000_000)

    def test_s33_a_bomb_between_pillows_warning_and_error_limits_is_413(self):
        # ~100 million pixels: Pillow only warns, and this suite turns warnings into errors.
        with pytest.raises(PayloadTooLarge, match="pixels"):
            check(sample_files.png_bomb(10000, 10000), "bomb.png", max_pixels=200_000_000)

    def test_an_image_at_the_limit_is_fine(self):
        assert check(sample_files.png(1000, 1000), "ok.png").media_type is MediaType.PNG


class TestCleanFilename:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("../../etc/passwd", "passwd.txt"),
            ("..\\..\\windows\\system32\\notes.txt", "notes.txt"),
            ("/absolute/path/report.txt", "report.txt"),
            ("re\x00port\x07\x1b.txt", "report.txt"),
            ("line\nbreak\r\n.txt", "line break.txt"),
            ("evil\u202etxt.gnp", None),  # a bidi override may not disguise the extension
            ("cafe\u0301.txt", "café.txt"),  # NFC
            ("  .hidden.txt. . ", "hidden.txt"),
            ("..", "attachment.txt"),
            ("", "attachment.txt"),
            (".txt", "attachment.txt"),
            ('a<b>c:d"e|f?g*.txt', "a_b_c_d_e_f_g_.txt"),
            ("v1.2 release notes", "v1.2 release notes.txt"),
            ("REPORT.TXT", "REPORT.txt"),
        ],
    )
    def test_s34_names_are_for_display_only(self, raw, expected):
        if expected is None:
            with pytest.raises(UnsupportedMediaType):
                clean_filename(raw, MediaType.TEXT)
        else:
            assert clean_filename(raw, MediaType.TEXT) == expected

    def test_long_names_are_trimmed_to_255_bytes_keeping_the_extension(self):
        cleaned = clean_filename("ü" * 300 + ".pdf", MediaType.PDF)
        assert cleaned.endswith(".pdf")
        assert len(cleaned.encode()) <= MAX_FILENAME_BYTES
        assert cleaned == "ü" * 125 + ".pdf"

    @given(raw=st.text(), media_type=st.sampled_from(MediaType))
    @example(raw="a/\u0301x", media_type=MediaType.PNG)
    @example(raw="\ud800.txt", media_type=MediaType.TEXT)
    def test_any_name_comes_out_safe_or_is_refused_for_its_extension(self, raw, media_type):
        try:
            cleaned = clean_filename(raw, media_type)
        except UnsupportedMediaType:
            return
        assert "/" not in cleaned
        assert "\\" not in cleaned
        assert not any(unicodedata.category(ch)[0] == "C" for ch in cleaned)
        assert unicodedata.is_normalized("NFC", cleaned)
        assert 0 < len(cleaned.encode()) <= MAX_FILENAME_BYTES
        assert not cleaned.startswith((".", " "))
        stem, _, extension = cleaned.rpartition(".")
        assert stem
        assert f".{extension}" in {".pdf", ".png", ".jpg", ".jpeg", ".txt", ".log", ".csv"}
        assert clean_filename(cleaned, media_type) == cleaned  # cleaning is idempotent


class TestArbitraryBytes:
    @given(data=st.binary(max_size=4096), filename=st.text(max_size=50))
    def test_never_crash_only_keyholder_errors(self, data, filename):
        outcome(data, filename)

    @given(
        magic=st.sampled_from([b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b""]),
        data=st.binary(max_size=2048),
    )
    def test_never_crash_behind_good_magic(self, magic, data):
        checked = outcome(magic + data, "file")
        if checked is not None and magic:
            assert checked.media_type is sniff(magic)

    @given(
        before=st.binary(max_size=300) | st.text(max_size=75).map(str.encode),
        tag=st.sampled_from(["<html", "<HTML", "<svg", "<script", "< ScRiPt", "<!doctype html"]),
        after=st.text(max_size=300).map(str.encode),
        magic=st.sampled_from([b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0"]),
    )
    def test_never_accept_html_or_svg_near_the_start(self, before, tag, after, magic):
        data = magic + before + tag.encode() + b" " + after
        with pytest.raises(KeyholderError):
            check(data, "file")
