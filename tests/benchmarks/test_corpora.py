"""The independent letter corpora (benchmarks/corpora): every generator writes valid
files in every condition, the same bytes from the same seed, and a complete manifest.

Two letters per generator; the Chromium one is skipped where Chromium is missing."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from benchmarks.corpora.build import GENERATORS, HELD_OUT, build
from benchmarks.corpora.degrade import CONDITIONS
from benchmarks.corpora.html_letters import chromium_available
from benchmarks.corpora.signatures import Band, signature_ink
from benchmarks.corpora.spec import CHECK_IDS, SignatureSpec, random_spec
from benchmarks.signature_bands import one_band

SEED = 424242
LETTERS = 2
PDF_GENERATORS = {"fpdf", "html", "reportlab", "typst"}
MANIFEST_KEYS = {
    "file", "generator", "held_out", "template", "font", "condition", "signed", "signature",
    "clutter", "variant", "truth", "typed", "records", "expected", "expected_signature_level",
    "check_args", "today",
}  # fmt: skip


def _generator(name: str) -> Any:
    marks = [pytest.mark.skipif(not chromium_available(), reason="Chromium is not installed")]
    return pytest.param(name, marks=marks if name == "html" else [])


@pytest.fixture(scope="module", params=[_generator(g) for g in sorted(GENERATORS)])
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, list[dict[str, Any]]]:
    generator = request.param
    out = tmp_path_factory.mktemp(generator)
    return generator, out, build(generator, LETTERS, SEED, out)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_condition_is_written_as_a_valid_file(
    corpus: tuple[str, Path, list[dict[str, Any]]],
) -> None:
    generator, out, rows = corpus
    wanted = set(CONDITIONS) - (set() if generator in PDF_GENERATORS else {"text-pdf"})
    assert {(r["number"], r["condition"]) for r in rows} == {
        (n, c) for n in range(LETTERS) for c in wanted
    }
    for row in rows:
        data = (out / row["file"]).read_bytes()
        if row["file"].endswith(".pdf"):
            assert data.startswith(b"%PDF-")
            document = pdfium.PdfDocument(data)
            text = document[0].get_textpage().get_text_range()
            assert document[0].render(scale=0.2).to_pil().size[0] > 50  # a scan as a PDF draws
            document.close()
            # A text PDF's words are text; the contract number is among them.
            if row["condition"] == "text-pdf":
                assert row["truth"]["contract_number"] in text.replace("\r", "").replace("\n", " ")
        else:
            image = Image.open(io.BytesIO(data))
            assert image.format == {"png": "PNG", "jpg": "JPEG"}[row["file"].rsplit(".", 1)[1]]
            image.load()
            assert min(image.size) > 1000  # a page, not a thumbnail
            assert np.asarray(image.convert("L")).std() > 5  # something printed on it


def test_manifest_is_complete(corpus: tuple[str, Path, list[dict[str, Any]]]) -> None:
    generator, out, rows = corpus
    lines = (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == json.loads(json.dumps(rows))
    files = sorted(p.name for p in out.iterdir() if p.name != "manifest.jsonl")
    assert sorted(r["file"] for r in rows) == files
    for row in rows:
        assert row.keys() >= MANIFEST_KEYS
        assert row["generator"] == generator
        assert row["held_out"] == (generator == HELD_OUT)
        assert set(row["expected"]) == set(CHECK_IDS)
        assert row["expected"]["signature"] == ("pass" if row["signed"] else "fail")
        assert all(row["truth"].values())
        assert row["check_args"][:2] == ["--account", row["records"]["name"]]


def test_same_seed_same_bytes(
    corpus: tuple[str, Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    generator, out, rows = corpus
    again = build(generator, 1, SEED, tmp_path, first=1)
    assert again == [r for r in rows if r["number"] == 1]
    for row in again:
        assert _digest(tmp_path / row["file"]) == _digest(out / row["file"]), row["file"]


def test_other_seed_other_letters() -> None:
    assert random_spec(1, 0) != random_spec(2, 0)
    assert random_spec(1, 0) == random_spec(1, 0)


@pytest.mark.parametrize(
    ("variant", "check", "outcome"),
    [("tampered-contract", "contract_number", "fail"),
     ("wrong-executive", "executive_on_record", "fail"),
     ("genuine", "contract_number", "pass")],
)  # fmt: skip
def test_variants_say_which_check_must_catch_them(variant: str, check: str, outcome: str) -> None:
    for number in range(5):
        spec = random_spec(7, number, variant=variant)
        assert spec.expected()[check] == outcome
        if variant == "tampered-contract":
            assert spec.contract_on_letter != spec.contract_on_record
        if variant == "wrong-executive":
            assert spec.executive_email != spec.executive_email_on_record


def test_unsigned_letters_expect_no_signature() -> None:
    spec = random_spec(7, 0, signed=False)
    assert spec.signature is None
    assert spec.expected()["signature"] == "fail"


@pytest.mark.parametrize("pen", ["ballpoint", "gel", "fountain", "felt"])
def test_signature_ink_is_deterministic_and_pen_dependent(pen: str) -> None:
    spec = SignatureSpec("full", pen, "blue", "none", seed=99)
    band = Band(gap=18.0, text_height=2.8, width=120.0)
    first = signature_ink("Laura Hargreaves", spec, band, 200)
    second = signature_ink("Laura Hargreaves", spec, band, 200)
    assert np.array_equal(first.alpha, second.alpha)
    assert float(first.alpha.min()) >= 0.0
    assert float(first.alpha.max()) <= 1.0
    covered = int((first.alpha > 0.2).sum())
    assert covered > 300  # there is a signature
    # Felt tips lay a wide line, ballpoints a thin one: ink per mm of signature width.
    per_mm = covered / first.size_mm[0]
    assert per_mm < 120 if pen == "ballpoint" else per_mm > 20


def test_overlap_reaches_the_typed_lines() -> None:
    band = Band(gap=18.0, text_height=2.8, width=120.0)
    reached = {
        overlap: signature_ink(
            "Grace Sato", SignatureSpec("full", "gel", "blue", overlap, 5), band, 200
        )
        for overlap in ("none", "both")
    }
    top, bottom = (reached["both"].y_mm, reached["both"].y_mm + reached["both"].size_mm[1])
    assert top < 0
    assert bottom > band.gap
    assert reached["none"].y_mm > -1.0


@pytest.mark.parametrize("condition", ["clean", "photo"])
def test_signature_bands_judge_signed_and_unsigned_bands(condition: str) -> None:
    signed = one_band(5, 0, condition, "ballpoint", True)
    unsigned = one_band(5, 1, condition, None, False)

    assert (signed.signed, signed.pen) == (True, "ballpoint")
    assert signed.level != "no handwriting", signed.evidence
    assert (unsigned.signed, unsigned.pen) == (False, "-")
    assert unsigned.level != "signature-like ink", unsigned.evidence


def test_signature_bands_draw_the_fpdf_generator_s_signatures_and_seals() -> None:
    signed = one_band(5, 0, "clean", "ballpoint", True, maker="fpdf")
    unsigned = [one_band(5, n, "clean", None, False, maker="fpdf") for n in range(6)]

    assert (signed.signed, signed.pen) == (True, "ballpoint")
    assert signed.level == "signature-like ink", signed.evidence
    assert signed.evidence != one_band(5, 0, "clean", "ballpoint", True).evidence
    assert {"stamp", "seal"} & {o.clutter for o in unsigned}
    assert all(o.level != "signature-like ink" for o in unsigned), [o.evidence for o in unsigned]
