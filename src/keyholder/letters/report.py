"""The pre-screen's result: versioned JSON for storage and an annotated PNG for people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from keyholder.letters.document import Box, Page

SCHEMA = "keyholder.letter-report/1"
# Box colours (RGB) on the annotated image, by check status.
_COLOURS = {"pass": (0, 150, 0), "fail": (210, 0, 0), "unknown": (230, 140, 0)}
_ITEM_COLOUR = (40, 90, 220)
ANNOTATED_WIDTH = 1100


@dataclass
class LetterReport:
    """A pre-screen's report. ``json`` follows ``SCHEMA``; stable keys:

    ``schema``, ``media_type``, ``pages`` (per page: ``text_source``, ``notes``),
    ``ocr`` (``available`` | ``unavailable``), ``items`` (each found item:
    ``value``, ``text``, ``box``, ``corrected_from``, ``confusions`` or null;
    ``corrected_from`` is null unless ``value`` is the form's or the records'
    address that OCR confusions, listed in ``confusions``, explain the reading
    ``corrected_from`` as: see ``reconcile``), ``checks`` (each: ``id``, ``label``,
    ``status`` pass|fail|unknown, ``evidence``, ``box``, ``score``),
    ``signature`` (``level`` "signature-like ink" | "uncertain" | "no handwriting"
    or null when the band was not found, ``verdict`` the same in a reviewer's words,
    ``score``, ``band``, ``ink_box``, ``flags``, ``evidence``, ``note``),
    ``summary`` (counts per status), ``typed`` and ``records`` (what the letter
    was compared with), ``today``, ``seconds``.
    Boxes are ``{"page", "x", "y", "w", "h"}`` in pixels of the page image
    (PDF pages rendered at 200 dpi; scans and photos after clean-up).
    """

    json: dict[str, Any]
    annotated_png: bytes | None = None

    def check(self, check_id: str) -> dict[str, Any]:
        for check in self.json["checks"]:
            if check["id"] == check_id:
                return dict(check)
        raise KeyError(check_id)

    def status(self, check_id: str) -> str:
        return str(self.check(check_id)["status"])

    @property
    def signature_level(self) -> str | None:
        level = self.json["signature"]["level"]
        return str(level) if level else None

    @property
    def signature_verdict(self) -> str:
        return str(self.json["signature"]["verdict"])


def annotate(pages: list[Page], report: dict[str, Any]) -> bytes:
    """The pages stacked, each found item boxed blue, each check's box in its status colour."""
    boxes: list[tuple[dict[str, int], tuple[int, int, int], str]] = []
    for name, item in report["items"].items():
        if item and item["box"]:
            boxes.append((item["box"], _ITEM_COLOUR, name))
    for check in report["checks"]:
        if check["box"]:
            boxes.append((check["box"], _COLOURS[check["status"]], check["id"]))
    signature = report["signature"]
    if signature["band"]:
        boxes.append((signature["band"], (150, 150, 150), "signature band"))
    rendered = []
    for page in pages:
        image = np.ascontiguousarray(page.image.copy())
        thickness = max(2, page.width // 600)
        for box, colour, label in boxes:
            if box["page"] != page.number:
                continue
            top_left = (box["x"] - 3, box["y"] - 3)
            bottom_right = (box["x"] + box["w"] + 3, box["y"] + box["h"] + 3)
            cv2.rectangle(image, top_left, bottom_right, colour, thickness)
            cv2.putText(
                image, label, (box["x"], max(12, box["y"] - 6)), cv2.FONT_HERSHEY_SIMPLEX,
                0.5 * thickness, colour, max(1, thickness // 2), cv2.LINE_AA,
            )  # fmt: skip
        scale = ANNOTATED_WIDTH / image.shape[1]
        rendered.append(cv2.resize(image, (ANNOTATED_WIDTH, round(image.shape[0] * scale))))
    stacked = np.vstack(rendered) if len(rendered) > 1 else rendered[0]
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(stacked, cv2.COLOR_RGB2BGR))
    assert ok
    return bytes(encoded.tobytes())


def page_box(box: Box | None) -> dict[str, int] | None:
    return box.as_json() if box else None
