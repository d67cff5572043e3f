"""The enterprise account a letter names: read from a label, a form, a table or prose.

People write it as the slug ("northwind-traders"), as the display name in quotes
("“Northwind Traders - Enterprise”", spaces, dashes and all), or as the display
name bare; OCR reads a form's dot leader and a table's borders as anything.
Each pattern below is tried in turn, the first value that names an account wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from keyholder.letters.found import Found
from keyholder.letters.text_index import TextIndex

__all__ = ["ACCOUNT_LABELS", "find_account_name"]

# The name follows "enterprise account", "company account", "account name" or
# "account" (with or without a colon, dot leaders in a form: "Company account
# ......: Fabrikam, Inc."). After a bare "account" a slug must end at punctuation
# and a display name start with a capital, which keeps "our account retired and
# ..." from naming an account.
_OPEN_QUOTE = "\"'\u201c\u2018\u201e\u00ab"
_CLOSE_QUOTE = "\"'\u201d\u2019\u00bb"
_QUOTED = (
    rf"[{_OPEN_QUOTE}]"
    rf"(?P<quoted>[^{_CLOSE_QUOTE}\n]{{2,80}}(?:\n[^{_CLOSE_QUOTE}\n]{{1,60}})?)"
    rf"[{_CLOSE_QUOTE}]"
)
_SLUG_VALUE = r"(?P<slug>[a-z0-9][a-z0-9-]*[a-z0-9])"
# ... ending its phrase: a word ending in a colon, more on its line, is more leader
# ("Account .... ees: Wide-world-importers").
_SLUG_END = r"(?![\w.@]|[:|][ \t]*\S)"
# A slug whose first letter OCR read as a capital ("Wide-world-importers"), after a
# form's dot leader; hyphenated, and whole, so that no display name ("Wide-World
# Importers") is cut to its first word.
_CAPITALISED_SLUG = r"(?P<slug>[A-Z][a-z0-9]*-[a-z0-9-]*[a-z0-9])(?![\w.@-])"
# A display name written bare runs to the end of its line or of its phrase
# ("..., contract ...", "(contract number ...)", "be given to").
_DISPLAY = (
    r"(?P<display>[A-Z0-9][^\n]{1,80}?)"
    r"(?=\s*[,(]?\s*\(?(?:contract|agreement)\b|\s+be\s|;|\.\s+(?=[A-Z][a-z])|$)"
)
# A form's or a table's row label, starting its line.
# Starting a row, "account" is taken as OCR misreads it too ("ACCOUNE", "Aecoune",
# "ccount"): nothing else starts a row of a form with those letters.
_ROW_ACCOUNT = r"(?:account|(?:a[ce]{1,2}|cc)oun[tce])\b"
_ROW_LABEL = rf"^[ \t|\"]*(?:(?:enterprise|company)\s+)?{_ROW_ACCOUNT}(?:\s*name)?"
# A form's dot leader, in runs (its misread dots made dots again, see ``leaders``),
# or read as one dot standing apart; a table's border before the value can read as
# a lone quote mark, or as "- |".
_LEADER = (
    r"\s*(?:\.{2,}(?:\s+\.{2,})*\s*|(?<=\s)\.\s+|-\s+(?=\|))?[:|]?\s*"
    r"(?:[\"'\u201c](?=\s*[A-Z]))?\s*"
)
_LABEL = (
    r"\b(?:(?:enterprise|company)\s+account|account\s*name|account\s*(?=\.{2}|[:|])"
    # "Account" and one short word before a dot leader: the label ("name" misread)
    r"|account\s+[a-z]{3,6}(?=\s*\.{2}))"
)
_LABELLED = re.compile(rf"{_LABEL}|\bcontract\b", re.IGNORECASE)
# A form's dot leader is read as anything ("..........+.2.++.+-.:2", "....5.e2+---:"):
# after a label, what lies on its line before a quoted name, or before the colon
# ending a dot leader, is passed over.
_ANY_LEADER = rf"[^\n{_OPEN_QUOTE}{_CLOSE_QUOTE}]{{0,60}}?"
_DOT_LEADER = r"[ \t]*\.{2,}[^\n:|]{0,40}?[:|][ \t]*"
# "account Northwind Traders" in the letter's prose: looked for from the salutation
# on, so that the recipient's address ("Account Security Team") is not taken.
_PROSE_DISPLAY = re.compile(rf"\baccount\s+(?-i:{_DISPLAY})", re.IGNORECASE | re.MULTILINE)
# ... and one the line breaks, whose phrase ends on the next line ("our account
# Adventure" / "Works Cycles - EMEA, contract ..."), first; no punctuation in it, so
# that a clause after the name ("Acme, which I" / "manage under contract") is not.
_PROSE_DISPLAY_ACROSS = re.compile(
    r"\baccount\s+(?-i:(?P<display>[A-Z0-9][^\n,.;]{0,60}\n[^\n,.;]{1,60}?))"
    r"(?=\s*[,(]?\s*\(?(?:contract|agreement)\b|\s+be\s)",
    re.IGNORECASE | re.MULTILINE,
)
# A row labelled "Account" (however misread) and a display name after it, its leader
# or border read as marks or lost ("| Aecoune Litware Labs"): the last resort, and
# only after a salutation read, since an address's "Account Security Team" starts a
# row too (fpdf 5701 letter 35, whose "Hello," is no salutation read).
_ROW_DISPLAY = re.compile(rf"{_ROW_LABEL}[ \t|:]+(?-i:{_DISPLAY})", re.IGNORECASE | re.MULTILINE)
_SALUTATION = re.compile(r"^[ \t]*(?:dear|to whom)\b.*$", re.IGNORECASE | re.MULTILINE)
# No label read at all (a form's label column with its dot leaders skipped by OCR,
# Pillow letters): a display name in quotes with the account's slug after it in
# brackets, the slug's first word the name's ("“Tailspin Toys (UK) Ltd”
# (tailspin-toys)"), names nothing but an account.
_QUOTED_WITH_SLUG = re.compile(
    rf"{_QUOTED}[ \t]*\((?P<bracketed>[a-z0-9]+)(?:-[a-z0-9]+)*\)", re.MULTILINE
)
ACCOUNT_LABELS = (
    re.compile(rf"{_LABEL}{_LEADER}{_QUOTED}", re.IGNORECASE | re.MULTILINE),
    re.compile(rf"{_LABEL}{_ANY_LEADER}{_QUOTED}", re.IGNORECASE | re.MULTILINE),
    # A dot leader with a quote mark read in it (".... »..:").
    re.compile(rf"{_LABEL}{_DOT_LEADER}{_QUOTED}", re.IGNORECASE | re.MULTILINE),
    # A row starting "Account" with a quoted name on it, whatever the leader read as.
    re.compile(rf"^[ \t|]*{_ROW_ACCOUNT}{_ANY_LEADER}{_QUOTED}", re.IGNORECASE | re.MULTILINE),
    re.compile(rf"{_LABEL}{_LEADER}(?-i:{_SLUG_VALUE}){_SLUG_END}", re.IGNORECASE | re.MULTILINE),
    # A table's border or a form's leader read as a mark or a lone letter between
    # the label and the slug ("| Account i contoso-eu", "Company account . x-y"), or
    # a wide gap read as underscores and dashes glued to it ("account _—_fabrikam").
    # An opening quote without its closing one before the slug: "account _ \u2018northwind-traders".
    re.compile(
        rf"{_ROW_LABEL}[ \t]+(?:(?:[.:;|_!\u00bb-]+|[il])[ \t]+|[_-]*_[_-]*)"
        rf"[{_OPEN_QUOTE}]?(?-i:{_SLUG_VALUE}){_SLUG_END}",
        re.IGNORECASE | re.MULTILINE,
    ),
    re.compile(
        rf"{_LABEL}{_DOT_LEADER}(?-i:{_SLUG_VALUE})(?![\w.@])", re.IGNORECASE | re.MULTILINE
    ),
    re.compile(rf"{_LABEL}{_DOT_LEADER}(?-i:{_CAPITALISED_SLUG})", re.IGNORECASE | re.MULTILINE),
    re.compile(rf"{_LABEL}{_LEADER}(?-i:{_DISPLAY})", re.IGNORECASE | re.MULTILINE),
    # ... and after a dot leader read as anything ("...........+..++...: Litware Labs").
    re.compile(rf"{_LABEL}{_DOT_LEADER}(?-i:{_DISPLAY})", re.IGNORECASE | re.MULTILINE),
    re.compile(rf"\baccount\s+{_QUOTED}", re.IGNORECASE | re.MULTILINE),
    re.compile(
        rf"\baccount\s+[\"'\u201c\u2018]?(?-i:{_SLUG_VALUE})(?=[\"'\u201d\u2019]?\s*[(),.;])",
        re.IGNORECASE | re.MULTILINE,
    ),
    _PROSE_DISPLAY_ACROSS,
    _PROSE_DISPLAY,
    # A row of a table: "Account" and the value alone on their line (a cell's
    # border read as "|", '"' or "_" about them).
    re.compile(rf"{_ROW_LABEL}[ \t|_]+(?-i:{_SLUG_VALUE})[ \t|]*$", re.IGNORECASE | re.MULTILINE),
    # A form's label and its value read as two lines (the leader between them lost).
    re.compile(
        rf"{_LABEL}[ \t]*\.?[ \t]*\n[ \t]*(?-i:{_SLUG_VALUE})[ \t]*$", re.IGNORECASE | re.MULTILINE
    ),
    # A table's row read as two lines, its cells far apart: "Account", then the value.
    re.compile(
        rf"^[ \t|]*account[ \t|]*\n[ \t|]*(?-i:{_SLUG_VALUE})[ \t|]*$", re.IGNORECASE | re.MULTILINE
    ),
    _QUOTED_WITH_SLUG,
    _ROW_DISPLAY,
)
_NOT_ACCOUNT_NAMES = {
    "of", "is", "to", "the", "and", "for", "holder", "name", "number", "has", "was", "with",
    "on", "in", "at", "by", "we", "our", "as", "be", "it", "access", "administrator",
    "admin", "that", "this", "which", "owner", "page", "contract", "team", "manager",
}  # fmt: skip
# A table's label read in quotes (cell borders): not a name.
_LABEL_ONLY = re.compile(
    r"(?:(?:enterprise|company)\s+)?account(?:\s*name)?|contract(?:\s+(?:number|no\.?|#))?",
    re.IGNORECASE,
)


def find_account_name(index: TextIndex, body_end: int) -> Found | None:
    """The account the letter names, from its labels and, after the salutation, its
    prose; ``body_end`` is where the letter's body ends (its closing)."""
    salutation = _SALUTATION.search(index.text, 0, body_end)
    for pattern in ACCOUNT_LABELS:
        prose = pattern in (_PROSE_DISPLAY, _PROSE_DISPLAY_ACROSS, _ROW_DISPLAY)
        if pattern is _ROW_DISPLAY and salutation is None:
            continue
        start = salutation.end() if salutation and prose else 0
        for match in _overlapping(pattern, index.text, body_end, start=start):
            group = next(g for g in ("quoted", "slug", "display") if match.groupdict().get(g))
            if pattern is _QUOTED_WITH_SLUG and not _named_by_slug(match):
                continue
            value = _account_value(match.group(group), slug=group == "slug")
            # A label with nothing after it on its line ("... as follows: account")
            # must not take the next line's label for a display name.
            # Quotes say where a name starts and ends; bare words need more care.
            bare = group != "quoted"
            if (
                value
                and not (
                    bare
                    and (
                        value.lower() in _NOT_ACCOUNT_NAMES
                        or _LABELLED.search(value)
                        # the next line's own label ("...account:" then "Account Fabrikam")
                        or re.match(r"account\b", value, re.IGNORECASE)
                    )
                )
                and not _LABEL_ONLY.fullmatch(value)
            ):
                return index.found(value, match, group)
    return None


def _named_by_slug(match: re.Match[str]) -> bool:
    """The bracketed slug's first word starts a word of the quoted name."""
    first = match.group("bracketed")
    return any(word.lower().startswith(first) for word in re.findall(r"\w+", match["quoted"]))


def _overlapping(
    pattern: re.Pattern[str], text: str, end: int, *, start: int = 0
) -> Iterator[re.Match[str]]:
    """Every match, each from the next position on: a label refused for the words after
    it ("our enterprise account:" then "Account name Proseware GmbH" in a table) must
    not hide the label inside those words."""
    at = start
    while (match := pattern.search(text, at, end)) is not None:
        yield match
        at = match.start() + 1


def _account_value(text: str, *, slug: bool) -> str:
    """The account name as written, tidied: a slug in lower case, a display name as
    it reads with its spaces made single and punctuation after it dropped (a last
    dot stays after an abbreviation: "Inc.", "B.V.")."""
    if slug:
        return text.lower()
    # A table's border read as a quote before the label: '"Account “Wide World"';
    # but a closing quote read without its opening one comes after the name, the
    # slug in brackets after it: 'Litware Labs" (litware)'.
    parts = re.split(r"[\u201c\u201e\u00ab\"]", text)
    closed = len(parts) > 1 and re.fullmatch(r"\s*\([^()]*\)?\s*", parts[-1])
    text = parts[-2] if closed else parts[-1]
    # A leader's or a border's marks after the name: "Wide World Importers .. |".
    text = re.sub(r"(?:\s+(?:\.{2,}|\|))+\s*$", "", text)
    value = " ".join(text.split()).strip(" ,;:" + _OPEN_QUOTE + _CLOSE_QUOTE)
    last = value.rsplit(" ", 1)[-1]
    if value.endswith(".") and len(last) > 4 and "." not in last[:-1]:
        value = value[:-1]
    return value
