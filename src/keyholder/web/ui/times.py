"""Times on pages: unambiguous in UTC from the server, in the reader's zone in the browser.

``when`` renders ``<time datetime="2026-12-03T14:05:00Z" data-local>3 Dec 2026,
14:05 UTC</time>``: a month name, never 03/12/2026, which half the world reads
as March and the other half as December. ``static/local-time.js`` rewrites the
text into the browser's time zone and keeps the UTC text in the tooltip;
without script the UTC text stays, and it is right.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one (SQLite gives those back) is taken as UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_text(moment: datetime, *, date_only: bool = False) -> str:
    """``3 Dec 2026, 14:05 UTC`` (or ``3 Dec 2026`` for a date)."""
    moment = as_utc(moment)
    day = f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
    return day if date_only else f"{day}, {moment:%H:%M} UTC"


def when(moment: datetime | None, *, date_only: bool = False) -> Markup:
    """A ``<time>`` element for ``moment`` (an empty string for None), see the module doc."""
    if moment is None:
        return Markup("")
    kind = "date" if date_only else "datetime"
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(
        f"{as_utc(moment):%Y-%m-%dT%H:%M:%SZ}", kind, utc_text(moment, date_only=date_only)
    )
