"""``/dev/letters/initech.png``: a signed letter to try the access request with (development only).

The demo seeds no request: a newcomer makes one, as Peter of Initech (which has
no admin left), and needs a letter that states the six items. This one is drawn
on the spot, dated today, and reads well enough for the pre-screen.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from keyholder.demo import initech_letter_png
from keyholder.errors import NotFound
from keyholder.web.ui.forms import runtime_of
from keyholder.web.ui.rendering import PageRoute

router = APIRouter(prefix="/dev/letters", route_class=PageRoute, include_in_schema=False)


@router.get("/initech.png")
def initech_letter(request: Request) -> Response:
    runtime = runtime_of(request)
    if not runtime.settings.is_development:
        raise NotFound("There is no page at this address.")
    return Response(
        initech_letter_png(runtime.clock.now().date()),
        media_type="image/png",
        headers={"Content-Disposition": 'attachment; filename="initech-letter.png"'},
    )
