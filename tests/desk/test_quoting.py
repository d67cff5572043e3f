"""Quoted history in replies (desk.quoting): found for display, never deleted."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyholder.desk.htmltext import html_to_text
from keyholder.desk.quoting import split_quoted

GMAIL = (
    "Thanks, that worked.\n\n"
    "On Thu, Jan 15, 2026 at 12:00 PM Keyholder Support <support@keyholder.example> wrote:\n\n"
    "> Please try again.\n>\n> -- \n> Agent 1, Keyholder Support\n"
)
GMAIL_WRAPPED = (
    "Thanks.\n\nOn Thu, Jan 15, 2026 at 12:00 PM Keyholder Support <\n"
    "support+t12-0123456789abcdef@keyholder.example> wrote:\n\n> Please try again.\n"
)
OUTLOOK = (
    "It works now.\n\n"
    "________________________________\n"
    "From: Keyholder Support <support@keyholder.example>\n"
    "Sent: Thursday, January 15, 2026 12:00 PM\n"
    "To: Carol <carol@customer.example>\n"
    "Subject: [#12] Export\n\n"
    "Please try again.\n"
)
ORIGINAL_MESSAGE = "See below.\n\n-----Original Message-----\nFrom: x\nSent: y\n\nold text\n"
GERMAN = "Danke!\n\nAm 15.01.2026 um 12:00 schrieb Keyholder Support <s@k.example>:\n> Alt\n"
FRENCH = "Merci !\n\nLe jeu. 15 janv. 2026 à 12:00, Support <s@k.example> a écrit :\n> Vieux\n"
SIGNATURE = "Short answer.\n\n-- \nCarol Customer\nCEO, Customer Inc.\n"


class TestSplitQuoted:
    @pytest.mark.parametrize(
        ("body", "visible"),
        [
            (GMAIL, "Thanks, that worked.\n\n"),
            (GMAIL_WRAPPED, "Thanks.\n\n"),
            (OUTLOOK, "It works now.\n\n"),
            (ORIGINAL_MESSAGE, "See below.\n\n"),
            (GERMAN, "Danke!\n\n"),
            (FRENCH, "Merci !\n\n"),
            (SIGNATURE, "Short answer.\n\n"),
            ("Top.\n\n> quoted\n> lines\n", "Top.\n\n"),
            ("ok\r\n\r\nOn Tue, X wrote:\r\n> y\r\n", "ok\r\n\r\n"),
        ],
        ids=[
            "gmail",
            "gmail-wrapped",
            "outlook",
            "original-message",
            "de",
            "fr",
            "sig",
            ">",
            "crlf",
        ],
    )
    def test_history_is_collapsed(self, body: str, visible: str) -> None:
        shown, quoted = split_quoted(body)

        assert shown == visible
        assert shown + quoted == body

    @pytest.mark.parametrize(
        "body",
        [
            "Just a message.\nNo history.\n",
            # Inline answers between quotes: collapsing would hide the answers.
            "On Mon, Bob wrote:\n> question 1\nanswer 1\n> question 2\nanswer 2\n",
            "Before\n> a quote in the middle\nAfter\n",
            # Everything is history: shown whole rather than hidden behind a toggle.
            "> only a quote\n",
            "",
        ],
    )
    def test_nothing_is_collapsed(self, body: str) -> None:
        assert split_quoted(body) == (body, "")

    def test_a_blockquote_from_html_mail_is_collapsed(self) -> None:
        text = html_to_text(
            "<p>Works now.</p><div>On Thu, Support wrote:</div>"
            "<blockquote><p>Try again.</p></blockquote>"
        )

        assert split_quoted(text) == ("Works now.\n\n", "On Thu, Support wrote:\n> Try again.\n")

    @given(st.text())
    def test_nothing_is_ever_lost(self, body: str) -> None:
        visible, quoted = split_quoted(body)

        assert visible + quoted == body

    @given(
        st.lists(
            st.sampled_from(
                [
                    "Hello",
                    "",
                    "> quoted",
                    ">",
                    "-- ",
                    "On Mon, Bob wrote:",
                    "-----Original Message-----",
                    "From: a",
                    "Sent: b",
                    "To: c",
                    "________________________________",
                    "Am 1.1.2026 schrieb X:",
                    " \u2028",
                ]
            )
        ),
        st.sampled_from(["\n", "\r\n", "\r"]),
    )
    def test_nothing_is_lost_in_mail_shaped_text(self, lines: list[str], newline: str) -> None:
        body = newline.join(lines)

        visible, quoted = split_quoted(body)

        assert visible + quoted == body
        assert visible.strip() or not quoted  # never an empty message with hidden history


class TestHtmlToText:
    def test_markup_goes_and_lines_stay(self) -> None:
        html = (
            "<!DOCTYPE html><html><head><title>t</title><style>p {}</style></head><body>"
            "<!-- a comment > with a bracket --><p class='x'>Hello <b>there</b>,</p>"
            "<p>line 1<br/>line 2</p><script>if (a<b) alert(1)</script>"
            "<ul><li>one</li><li>two</li></ul><p>1 &lt; 2 &amp; 3 > 2</p></body></html>"
        )

        assert html_to_text(html) == (
            "Hello there,\n\nline 1\nline 2\n\n- one\n- two\n1 < 2 & 3 > 2\n"
        )

    @pytest.mark.parametrize(
        "unit",
        ["<![", "<!--", "<a ", "<", "</", "<?", "<a b='", "&#", "<!-- <a b='<![CDATA[ <? &#x"],
    )
    def test_hostile_markup_is_read_in_linear_time(self, unit: str) -> None:
        # Python 3.11's parser alone takes minutes on some of these, or raises.
        started = time.perf_counter()

        text = html_to_text(unit * (200_000 // len(unit)))

        assert time.perf_counter() - started < 5
        assert "<script" not in text
