"""Moments in words that nobody can misread: weekday, day, month name, year, UTC.

``2026-03-04`` is 4 March to some readers and 3 April to others; "Wednesday
4 March 2026, 14:05 UTC" is the same to everyone, in an email as on a page.
"""

from __future__ import annotations

from datetime import UTC, datetime


def aware(moment: datetime) -> datetime:
    """``moment`` in UTC (the database hands back naive UTC times on SQLite)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def long_utc(moment: datetime) -> str:
    """'Wednesday 4 March 2026, 14:05 UTC'."""
    at = aware(moment).astimezone(UTC)
    return f"{at:%A} {at.day} {at:%B %Y, %H:%M} UTC"


def iso_utc(moment: datetime) -> str:
    """For ``<time datetime=…>``: '2026-03-04T14:05:00Z'."""
    return f"{aware(moment).astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def countdown(until: datetime, now: datetime) -> str:
    """'2 days 3 hours left', '40 minutes left', or 'ended'."""
    left = aware(until) - aware(now)
    seconds = int(left.total_seconds())
    if seconds <= 0:
        return "ended: the worker grants access on its next run"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(1, rest // 60) if not (days or hours) else rest // 60
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if not days and minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts) + " left"
