"""Times on pages: an unambiguous UTC text, machine-readable, for the browser to localise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from keyholder.web.ui.times import utc_text, when


class TestWhen:
    def test_a_month_by_name_never_a_number_that_reads_two_ways(self):
        moment = datetime(2026, 12, 3, 14, 5, 59, tzinfo=UTC)
        assert utc_text(moment) == "3 Dec 2026, 14:05 UTC"
        assert utc_text(moment, date_only=True) == "3 Dec 2026"

    def test_the_element_carries_the_instant_in_utc(self):
        assert str(when(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))) == (
            '<time datetime="2026-03-12T09:00:00Z" data-local="datetime">'
            "12 Mar 2026, 09:00 UTC</time>"
        )
        assert 'data-local="date"' in when(datetime(2026, 3, 12, tzinfo=UTC), date_only=True)
        assert when(None) == ""

    def test_naive_times_are_utc_and_other_zones_are_converted(self):
        """SQLite gives naive datetimes back; they were stored in UTC."""
        naive = datetime(2026, 1, 15, 12, 0)  # noqa: DTZ001 - as SQLite returns it
        assert utc_text(naive) == "15 Jan 2026, 12:00 UTC"
        berlin = datetime(2026, 1, 15, 13, 0, tzinfo=timezone(timedelta(hours=1)))
        assert utc_text(berlin) == "15 Jan 2026, 12:00 UTC"
