"""What a desk attachment is, decided from its bytes (SECURITY.md S32-S34).

We take PDF, PNG, JPEG and plain UTF-8 text, and nothing a browser or viewer
could run: no HTML, SVG or XML, no file that is also another format (a
polyglot), no PDF with actions that run code or carry files. The sender's
Content-Type is never asked; the name's extension must agree with the bytes.

Status codes: over the byte limit → 413. An image whose header declares more
pixels than the limit → 413 as well: a decompression bomb is a size problem
(the file would grow past what we accept), the same answer as the letters
module gives. So is a PDF whose compressed objects inflate past a fixed
budget. Anything else we do not take → 415, naming the types we do take.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
import zlib
from dataclasses import dataclass
from enum import StrEnum

from keyholder.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType


class MediaType(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    TEXT = "text/plain"


# The first extension of each is the one a name without an extension gets.
EXTENSIONS: dict[MediaType, tuple[str, ...]] = {
    MediaType.PDF: (".pdf",),
    MediaType.PNG: (".png",),
    MediaType.JPEG: (".jpg", ".jpeg"),
    MediaType.TEXT: (".txt", ".log", ".csv"),
}
ACCEPTED = "PDF, PNG, JPEG or plain UTF-8 text files (.pdf, .png, .jpg, .jpeg, .txt, .log, .csv)"
MAX_FILENAME_BYTES = 255  # the column's length, and what common file systems allow
# Inflating a PDF's compressed streams (all but images) to look for active
# content stops here: past it, the file is refused as a decompression bomb (S33).
MAX_PDF_INFLATED = 32 * 1024 * 1024

_MAGIC = (
    (b"%PDF-", MediaType.PDF),
    (b"\x89PNG\r\n\x1a\n", MediaType.PNG),
    (b"\xff\xd8\xff", MediaType.JPEG),
)
# Formats people commonly send that we refuse: named so the refusal says why.
_REFUSED_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an executable"),
    (b"#!", "a script"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF file (WebP, AVI or WAV)"),
    (b"%!PS", "a PostScript file"),
)
# Markup a browser would render or run. Binary formats are searched in their
# first KiB (where browsers sniff); plain text is searched whole, since text is
# what a browser could mistake for a page. XMP metadata in images starts with
# "<?xpacket" or "<x:xmpmeta", so "<?xml" counts only in text.
_BINARY_MARKUP = re.compile(
    rb"<\s*(?:html|head|body|script|svg|iframe|object|embed|!doctype)\b", re.IGNORECASE
)
_TEXT_MARKUP = re.compile(
    rb"<\s*(?:html|head|body|script|svg|iframe|frame|object|embed|style|meta|link|base|form|math"
    rb"|xsl|!doctype|!entity|\?xml)\b",
    re.IGNORECASE,
)
_STARTS_LIKE_MARKUP = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<[A-Za-z!?/]")
# C0 controls but tab, newlines, form feed and escape (coloured logs), and DEL.
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_ZIP_END = b"PK\x05\x06"  # a ZIP reader looks for this in the last 64 KiB
_ZIP_TAIL = 65536 + 22


def _pdf_names(*names: str) -> re.Pattern[bytes]:
    """A pattern for any of these PDF names, each letter plain or as a #xx escape."""

    def letter(char: str) -> str:
        code = "".join(
            f"[{h.lower()}{h.upper()}]" if h.isalpha() else h for h in f"{ord(char):02x}"
        )
        return f"(?:{re.escape(char)}|#{code})"

    spelled = "|".join("".join(map(letter, name)) for name in sorted(names, key=len, reverse=True))
    # The lookahead turns most slashes away before the names are tried.
    first = "".join(sorted({name[0] for name in names})) + "#"
    return re.compile(f"/(?=[{first}])(?:{spelled})(?![^\\s/<>\\[\\]()%{{}}])".encode())


# PDF names that run code or carry files, looked for everywhere, compressed or
# not. Every way to run JavaScript names /JavaScript (the action type, or the
# document's script tree). The short /JS key is looked for outside stream data
# only: in compressed bytes two letters turn up by chance.
_PDF_ACTIVE = _pdf_names("JavaScript", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia")
_PDF_JS = _pdf_names("JS")
_PDF_STREAM = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")  # a stream follows its dictionary
# Objects may sit compressed in object streams. Flate we inflate and read; these
# encodings we do not, so a file with object streams may not use them.
_PDF_OBJECT_STREAMS = _pdf_names("ObjStm", "First")
_PDF_NOT_AN_IMAGE = _pdf_names("ObjStm", "First", "N")
_PDF_IMAGE = _pdf_names("Image")
_PDF_HEADER = re.compile(rb"\d+\s+\d+\s+obj\b")
_PDF_ENCRYPTED = _pdf_names("Encrypt")
_PDF_OPAQUE_FILTERS = _pdf_names(
    "LZWDecode", "LZW", "ASCIIHexDecode", "AHx", "ASCII85Decode", "A85", "RunLengthDecode", "RL"
)
_PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_INFLATE_SLICE = 64 * 1024
_NAME_OVERLAP = 64  # longer than any active name spelt with #xx escapes

# Unicode categories dropped from names: controls, invisible format characters
# (bidi overrides can make "gnp.exe" read as "exe.png"), surrogates, private use,
# unassigned, and line or paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_RESERVED_IN_NAMES = re.compile(r'[<>:"|?*]')  # refused by Windows when the file is saved
_EXTENSION = re.compile(r"(.*)(\.[A-Za-z0-9]{1,10})", re.DOTALL)


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file we take: its sniffed type and a display name whose extension agrees."""

    media_type: MediaType
    filename: str


def check_file(data: bytes, filename: str, *, max_bytes: int, max_pixels: int) -> CheckedFile:
    """Decide whether we take ``data``; 413 over the limits, 415 for what we do not take."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"an attachment may be at most {max_bytes} bytes")
    if not data:
        raise InvalidInput("the attachment is empty")
    media_type = sniff(data)
    display_name = clean_filename(filename, media_type)
    if media_type in (MediaType.PNG, MediaType.JPEG):
        _check_image(data, media_type, max_pixels)
    elif media_type is MediaType.PDF:
        _check_pdf(data)
    return CheckedFile(media_type, display_name)


def sniff(data: bytes) -> MediaType:
    """The type of ``data`` from its bytes alone; 415 for anything else or a polyglot."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            _refuse_binary_polyglot(data, media_type)
            return media_type
    for magic, kind in _REFUSED_MAGIC:
        if data.startswith(magic):
            raise _unsupported(f"the file is {kind}")
    if not _is_plain_text(data):
        raise _unsupported("the file's type is not one we take")
    if _STARTS_LIKE_MARKUP.match(data) or _TEXT_MARKUP.search(data):
        raise _unsupported("the file holds HTML, SVG or XML markup")
    if b"%PDF-" in data:
        raise _unsupported("the text also carries a PDF (a polyglot file)")
    return MediaType.TEXT


def _unsupported(reason: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"{reason}; we accept {ACCEPTED}")


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _TEXT_CONTROLS.search(text) is None


def _refuse_binary_polyglot(data: bytes, media_type: MediaType) -> None:
    if _BINARY_MARKUP.search(data[:1024]):
        raise _unsupported("the file also carries HTML or SVG markup (a polyglot file)")
    if media_type is not MediaType.PDF and b"%PDF-" in data:
        raise _unsupported("the image also carries a PDF (a polyglot file)")
    if _ZIP_END in data[-_ZIP_TAIL:]:
        raise _unsupported("the file also carries a ZIP archive (a polyglot file)")
    if media_type is MediaType.PNG and not data.endswith(_PNG_END):
        # Bytes after IEND are ignored by viewers and read by whatever they were put there for.
        raise _unsupported("the PNG image has data after its end (a polyglot file)")


def _check_image(data: bytes, media_type: MediaType, max_pixels: int) -> None:
    """Refuse images over the pixel limit and images Pillow cannot read.

    ``Image.open`` reads only the header. It checks Pillow's own global limit
    (``Image.MAX_IMAGE_PIXELS``), which we leave alone since other code in the
    process shares it; ours comes from the settings and is checked right after.
    """
    from PIL import Image  # noqa: PLC0415 - Pillow loads with the first image, not at CLI start

    too_many = f"an image may have at most {max_pixels} pixels"
    formats = ["PNG"] if media_type is MediaType.PNG else ["JPEG"]
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            width, height = image.size
            if width * height <= max_pixels:
                image.verify()  # PNG: every chunk's checksum; nothing is decoded
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Past Pillow's own limit: an error, or a warning that tests turn into one.
        raise PayloadTooLarge(too_many) from exc
    except Exception as exc:  # whatever breaks Pillow, we cannot vouch for the file
        raise _unsupported(
            f"the file starts like a {media_type.name} image but cannot be read as one"
        ) from exc
    if width * height > max_pixels:
        raise PayloadTooLarge(too_many)


def _check_pdf(data: bytes) -> None:
    """Refuse PDFs with JavaScript, launch actions or embedded files, compressed or not.

    A screen over the bytes, not a parser: nothing is rendered or interpreted
    (PDF parsing runs in a sandboxed subprocess where it is needed: letters,
    S33). Every Flate stream but plain images is inflated and read, within
    ``MAX_PDF_INFLATED`` bytes in all, so nothing hides in an object stream.
    """
    _refuse_active(_PDF_ACTIVE, data)
    streams = list(_PDF_STREAM.finditer(data))
    _refuse_active(_PDF_JS, _outside_streams(data, streams))
    if _PDF_OBJECT_STREAMS.search(data):
        if _PDF_ENCRYPTED.search(data):
            raise _unsupported(
                "an encrypted PDF cannot be checked for active content; send one without a password"
            )
        if _PDF_OPAQUE_FILTERS.search(data):
            raise _unsupported("the PDF hides objects in encodings we cannot check")
    view = memoryview(data)  # slices without copying the rest of the file each time
    budget = MAX_PDF_INFLATED
    for match in streams:
        if _is_plain_image(data, match.start()):
            continue  # pixels only, and often the bulk of a scan
        with contextlib.suppress(zlib.error):  # not Flate: pictures, fonts, raw data
            budget = _inflate_and_screen(view, match.end(), budget)


def _is_plain_image(data: bytes, stream_at: int) -> bool:
    """Whether the stream at ``stream_at`` is certainly an image, whose data need not be read.

    Only when its object is unambiguous: one object header since the last
    object ended, no strings (which could fake a header or an end), an
    /Image name, and none an object stream needs (/First, /N).
    """
    begin = max(data.rfind(b"endobj", 0, stream_at), data.rfind(b"endstream", 0, stream_at))
    region = data[max(begin, 0) : stream_at]
    return (
        len(region) <= 4096
        and region.count(b"obj") == 1 + region.count(b"endobj")
        and len(_PDF_HEADER.findall(region)) == 1
        and b"(" not in region
        and b"<" not in region.replace(b"<<", b"")
        and _PDF_IMAGE.search(region) is not None
        and _PDF_NOT_AN_IMAGE.search(region) is None
    )


def _inflate_and_screen(view: memoryview, start: int, budget: int) -> int:
    """Inflate the Flate data at ``start`` piece by piece, screening each; the budget left.

    Pieces keep memory flat however far a stream inflates; each is read with
    the end of the one before, so a name across two pieces is still seen.
    """
    inflater = zlib.decompressobj()
    offset, tail = start, b""
    while not inflater.eof:
        if inflater.unconsumed_tail:
            chunk: bytes | memoryview = inflater.unconsumed_tail
        elif offset < len(view):
            chunk, offset = view[offset : offset + _INFLATE_SLICE], offset + _INFLATE_SLICE
        else:
            break  # the data ends inside the stream
        piece = inflater.decompress(chunk, _INFLATE_SLICE)
        budget -= len(piece)
        if budget < 0:
            raise PayloadTooLarge("the PDF's compressed content expands too far to be checked")
        window = tail + piece
        _refuse_active(_PDF_ACTIVE, window)
        tail = window[-_NAME_OVERLAP:]
    return budget


def _outside_streams(data: bytes, streams: list[re.Match[bytes]]) -> bytes:
    """``data`` without its streams' contents: the objects' dictionaries and the rest."""
    parts, position = [], 0
    for match in streams:
        if match.start() < position:
            continue  # "stream" inside the data of a stream
        parts.append(data[position : match.end()])
        end = data.find(b"endstream", match.end())
        position = len(data) if end < 0 else end
    parts.append(data[position:])
    return b"".join(parts)


def _refuse_active(pattern: re.Pattern[bytes], data: bytes) -> None:
    found = pattern.search(data)
    if found:
        name = _PDF_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), found[0]).decode("latin-1")
        raise _unsupported(f"the PDF carries active content ({name})")


def clean_filename(raw: str, media_type: MediaType) -> str:
    """A display name for ``raw``: no directories or control characters, NFC, ≤ 255 bytes.

    Storage never uses it (files are stored by hash, S34). An extension that
    disagrees with the content is refused (415); a missing one is added.
    """
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(_keep(ch) for ch in name)
    name = " ".join(_RESERVED_IN_NAMES.sub("_", name).split())
    name = unicodedata.normalize("NFC", name).rstrip(" .")
    allowed = EXTENSIONS[media_type]
    match = _EXTENSION.fullmatch(name)
    stem, extension = (match[1], match[2].lower()) if match else (name, "")
    if extension and extension not in allowed:
        raise _unsupported(
            f"the file's content is {media_type.value} but its name ends in {extension} "
            f"(a {media_type.name} file's name ends in {' or '.join(allowed)})"
        )
    extension = extension or allowed[0]
    budget = MAX_FILENAME_BYTES - len(extension)
    stem = stem.encode()[:budget].decode("utf-8", "ignore").strip(" .")
    return f"{stem or 'attachment'}{extension}"


def _keep(char: str) -> str:
    if unicodedata.category(char) not in _DROPPED_CATEGORIES:
        return char
    return " " if char.isspace() else ""  # a line break or tab in a name reads as a space
