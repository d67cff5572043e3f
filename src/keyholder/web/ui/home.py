"""The home page and the static files (the stylesheet, the upload script)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from keyholder.demo import DEMO_PASSWORD
from keyholder.web.ui.rendering import HERE, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATIC = HERE / "static"
# Only files known at start-up are served: no path from the request reaches the disk.
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_STATIC_FILES = {
    path.name: path for path in STATIC.iterdir() if path.is_file() and path.suffix in _STATIC_TYPES
}

DEMO_LOGINS = [
    ("alice@acme.example", "admin of Acme (acme-corp)"),
    ("bob@acme.example", "member of Acme"),
    (
        "peter@initech.example",
        "member of Initech, which has no admin left: sign in and ask for admin access",
    ),
    ("agent@keyholder.example", "support agent (enrols MFA on first sign-in)"),
    ("reviewer@keyholder.example", "reviewer of access requests (enrols MFA on first sign-in)"),
    ("reviewer2@keyholder.example", "the second reviewer: two must approve"),
]


@router.get("/")
def home(request: Request, signed_out: str = "") -> Response:
    context = {
        "title": "Keyholder",
        "signed_out": bool(signed_out),
        "demo_logins": DEMO_LOGINS,
        "demo_password": DEMO_PASSWORD,
    }
    return render(request, "home.html", context)


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    path = _STATIC_FILES.get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        path.read_bytes(),
        media_type=_STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600"},
    )
