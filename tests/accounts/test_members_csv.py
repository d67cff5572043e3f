"""The members file (``members import|export``): parsing, row errors and the safe export."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyholder.accounts import members_csv
from keyholder.accounts.members_csv import (
    MemberRow,
    ParsedFile,
    RowAction,
    parse_members_csv,
    write_members_csv,
)
from keyholder.accounts.permissions import Permission, parse_permissions
from keyholder.errors import RowError

VIEW, CREATE, MANAGE, BILLING = (
    Permission.VIEW,
    Permission.CREATE,
    Permission.MANAGE,
    Permission.BILLING,
)


def parse(text: str) -> ParsedFile:
    return parse_members_csv(text.encode())


def errors_of(text: str) -> list[str]:
    return [str(error) for error in parse(text).errors]


class TestRows:
    def test_each_row_is_an_email_and_its_complete_permissions(self) -> None:
        parsed = parse(
            "email,permissions\n"
            "alice@acme.example,view;manage;billing\n"
            "bob@acme.example,create\n"
            "carol@acme.example,\n"
        )

        assert parsed.errors == []
        assert parsed.rows == [
            MemberRow(2, "alice@acme.example", RowAction.SET, frozenset({VIEW, MANAGE, BILLING})),
            MemberRow(3, "bob@acme.example", RowAction.SET, frozenset({VIEW, CREATE})),
            MemberRow(4, "carol@acme.example", RowAction.SET, frozenset({VIEW})),  # view implied
        ]

    @pytest.mark.parametrize("cell", ["manage;billing", "manage billing", "manage,billing",
                                      " Manage ; BILLING ", "view manage\tbilling"])  # fmt: skip
    def test_permissions_split_on_semicolons_commas_or_spaces(self, cell: str) -> None:
        [row] = parse(f'email,permissions\nbob@acme.example,"{cell}"\n').rows

        assert row.permissions == frozenset({VIEW, MANAGE, BILLING})

    def test_action_column_removes_or_sets(self) -> None:
        parsed = parse(
            "Email , Permissions , ACTION\n"
            "bob@acme.example,,remove\n"
            "carol@acme.example,billing,set\n"
            "dave@acme.example,billing,\n"
        )

        assert parsed.errors == []
        assert [(r.email, r.action) for r in parsed.rows] == [
            ("bob@acme.example", RowAction.REMOVE),
            ("carol@acme.example", RowAction.SET),
            ("dave@acme.example", RowAction.SET),
        ]

    def test_columns_in_any_order(self) -> None:
        [row] = parse("permissions,email\nmanage,bob@acme.example\n").rows

        assert (row.email, row.permissions) == ("bob@acme.example", frozenset({VIEW, MANAGE}))

    def test_bom_crlf_whitespace_and_blank_lines(self) -> None:
        data = (
            b"\xef\xbb\xbfemail,permissions\r\n"
            b"\r\n"
            b"  Bob@ACME.example  ,  create \r\n"
            b" , \r\n"
            b"carol@acme.example,billing\r\n"
        )

        parsed = parse_members_csv(data)

        assert parsed.errors == []
        assert [(r.line, r.email) for r in parsed.rows] == [
            (3, "bob@acme.example"),
            (5, "carol@acme.example"),
        ]

    def test_quoted_cells_over_several_lines_keep_the_file_line_numbers(self) -> None:
        parsed = parse('email,permissions\n"bob@acme.example","view\ncreate"\nnot-an-email,view\n')

        assert parsed.rows[0].permissions == frozenset({VIEW, CREATE})
        assert [str(e) for e in parsed.errors] == [
            "line 4, column email: 'not-an-email' is not a valid email address: "
            "An email address must have an @-sign."
        ]

    def test_trailing_empty_cells_are_allowed(self) -> None:
        [row] = parse("email,permissions\nbob@acme.example,create,,\n").rows

        assert row.permissions == frozenset({VIEW, CREATE})


class TestRowErrors:
    def test_every_error_is_reported_with_its_line_and_column(self) -> None:
        assert errors_of(
            "email,permissions,action\n"
            "alice@acme.example,manage,\n"
            "not-an-email,view,\n"
            "bob@acme.example,owner,\n"
            "carol@acme.example,view,delete\n"
            "dave@acme.example,view,remove\n"
            ",view,\n"
            "erin@acme.example,view,,surplus\n"
        ) == [
            "line 3, column email: 'not-an-email' is not a valid email address: "
            "An email address must have an @-sign.",
            "line 4, column permissions: unknown permission(s) 'owner'; valid permissions "
            "are: view, create, manage, billing",
            "line 5, column action: 'delete' is not an action: leave it empty, or set or remove",
            "line 6, column permissions: must be empty on a remove row",
            "line 7, column email: is empty",
            "line 8: 4 cells, but the header names 3",
        ]

    def test_errors_in_several_columns_of_one_row(self) -> None:
        assert errors_of("email,permissions\nbad,owner\n") == [
            "line 2, column email: 'bad' is not a valid email address: "
            "An email address must have an @-sign.",
            "line 2, column permissions: unknown permission(s) 'owner'; valid permissions "
            "are: view, create, manage, billing",
        ]

    def test_a_duplicate_email_names_both_lines_whatever_its_case(self) -> None:
        parsed = parse(
            "email,permissions\nbob@acme.example,view\nalice@acme.example,manage\n"
            "BOB@Acme.Example,billing\n"
        )

        assert [str(e) for e in parsed.errors] == [
            "line 4, column email: bob@acme.example is also on line 2: one row per email"
        ]

    def test_a_nul_character_is_an_error_of_its_cell(self) -> None:
        assert errors_of("email,permissions\nbob@acme.example,view\x00\n") == [
            "line 2, column permissions: contains a NUL character"
        ]

    def test_a_file_that_is_not_utf8_names_the_line(self) -> None:
        data = b"email,permissions\nbob@acme.example,view\ncaf\xe9@acme.example,view\n"

        assert parse_members_csv(data).errors == [RowError(3, "", "the file is not UTF-8 text")]

    def test_broken_quoting(self) -> None:
        assert errors_of('email,permissions\nbob@acme.example,"view"manage\n') == [
            "line 2: not valid CSV: ',' expected after '\"'"
        ]

    def test_over_long_cells_are_refused(self) -> None:
        long_email = "a" * 1_001 + "@acme.example"

        assert errors_of(f"email,permissions\n{long_email},view\n") == [
            "line 2, column email: longer than 1000 characters"
        ]


class TestHeader:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("", "line 1: the file is empty: it needs a header row"),
            ("\n\n", "line 1: the file is empty: it needs a header row"),
            (
                "bob@acme.example,view\n",
                "line 1: unknown column 'bob@acme.example' (columns: email, permissions, action)",
            ),
            (
                "email\nbob@acme.example\n",
                "line 1: the header row must name the columns email, permissions "
                "(missing: permissions)",
            ),
            (
                "email,permision\nbob@acme.example,view\n",
                "line 1: unknown column 'permision' (columns: email, permissions, action)",
            ),
            ("email,permissions,email\n", "line 1: column 'email' appears twice"),
        ],
    )
    def test_the_header_must_name_the_columns(self, text: str, expected: str) -> None:
        parsed = parse(text)

        assert parsed.rows == []
        assert str(parsed.errors[0]) == expected


class TestLimits:
    def test_too_many_rows(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(members_csv, "MAX_ROWS", 2)
        text = "email,permissions\n" + "".join(f"u{i}@acme.example,view\n" for i in range(3))

        assert errors_of(text) == ["line 4: the file has more than 2 rows"]

    def test_too_large(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(members_csv, "MAX_FILE_BYTES", 1024 * 1024)
        data = b"email,permissions\n" + b"x" * (1024 * 1024)

        assert [str(e) for e in parse_members_csv(data).errors] == [
            "line 1: the file is larger than 1 MiB"
        ]
        assert parse_members_csv(data).rows == []


class TestExport:
    def test_writes_a_header_and_one_row_per_member(self) -> None:
        out = io.StringIO()

        written = write_members_csv(
            out,
            [
                ("alice@acme.example", frozenset({BILLING, MANAGE, VIEW})),
                ("bob@acme.example", frozenset({VIEW})),
            ],
        )

        assert written == 2
        assert out.getvalue() == (
            "email,permissions\r\n"
            "alice@acme.example,view;manage;billing\r\n"
            "bob@acme.example,view\r\n"
        )

    @pytest.mark.parametrize(
        "email", ["=cmd@acme.example", "+1@acme.example", "-x@acme.example", "'q@acme.example"]
    )
    def test_cells_a_spreadsheet_would_run_start_with_a_quote_and_import_back(
        self, email: str
    ) -> None:
        """OWASP CSV injection: = + - @ (and tab, CR) start a formula in a spreadsheet."""
        out = io.StringIO()
        write_members_csv(out, [(email, frozenset({VIEW}))])

        cell = out.getvalue().splitlines()[1].split(",")[0]
        assert cell == f"'{email}"
        assert [r.email for r in parse(out.getvalue()).rows] == [email]

    def test_round_trip(self) -> None:
        members = [
            ("alice@acme.example", frozenset({VIEW, MANAGE, BILLING})),
            ("=sum@acme.example", frozenset({VIEW, CREATE})),
        ]
        out = io.StringIO()
        write_members_csv(out, members)

        parsed = parse(out.getvalue())

        assert parsed.errors == []
        assert [(r.email, r.permissions, r.action) for r in parsed.rows] == [
            (email, permissions, RowAction.SET) for email, permissions in members
        ]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_rows_or_row_errors_never_a_crash(text: str) -> None:
    parsed = parse(text)

    lines = text.count("\n") + text.count("\r") + 1
    assert all(1 <= error.line <= lines + 1 for error in parsed.errors)
    assert all(row.line >= 2 for row in parsed.rows)
    if not text.strip():
        assert parsed.rows == []
        assert parsed.errors


_CELL = st.one_of(
    st.sampled_from(["alice@acme.example", "BOB@acme.example", "=x@acme.example", "", "remove"]),
    st.sampled_from(["view", "manage;billing", "owner", "set", "'"]),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(
    header=st.lists(st.sampled_from(["email", "permissions", "action", "Email", "x"]), max_size=4),
    rows=st.lists(st.lists(_CELL, max_size=4), max_size=8),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_table_gives_valid_rows_or_errors_on_their_lines(
    header: list[str], rows: list[list[str]], newline: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerows([header, *rows])

    parsed = parse(out.getvalue())

    emails = [row.email for row in parsed.rows]
    assert len(emails) == len(set(emails))
    for row in parsed.rows:
        assert row.permissions == frozenset() or row.permissions == parse_permissions(
            row.permissions
        )
        assert (row.action is RowAction.REMOVE) == (row.permissions == frozenset())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_never_crash_it(data: bytes) -> None:
    parse_members_csv(data)
