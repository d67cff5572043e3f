"""A signed letter for the demo's access request, drawn on the spot (no binaries in the repo)."""

from __future__ import annotations

import io
import math
from datetime import date

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1700, 2200  # A4-ish at 200 dpi


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def demo_letter_png(
    *,
    account: str,
    display_name: str,
    contract: str,
    email_to_add: str,
    reason: str,
    executive_name: str,
    executive_title: str,
    executive_email: str,
    dated: date,
) -> bytes:
    """A typed letter with the six items and a blue-ink squiggle for a signature."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    body, head = _font(34), _font(48)
    draw.text((150, 150), display_name, font=head, fill="black")
    lines = [
        f"Date: {dated:%d %B %Y}",
        "",
        "To the Keyholder support team,",
        "",
        f"Enterprise account: {account}",
        f"Contract number: {contract}",
        f"Please add {email_to_add} as an administrator of our account.",
        f"Reason: {reason}",
        "",
        "Sincerely,",
    ]
    y = 320
    for line in lines:
        draw.text((150, y), line, font=body, fill="black")
        y += 60
    # The signature: a few overlapping loops in blue ink, as a pen would leave them.
    points = [
        (180 + t * 4 + 40 * math.sin(t / 6), y + 70 + 45 * math.sin(t / 3.5) * math.cos(t / 11))
        for t in range(120)
    ]
    draw.line(points, fill=(20, 40, 150), width=5, joint="curve")
    y += 200
    for line in (executive_name, executive_title, executive_email):
        draw.text((150, y), line, font=body, fill="black")
        y += 60
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
