"""Is an email on a verified domain of the account, or on a look-alike of one? (S23, S31)

Only an exact match passes: the email's domain, IDNA-normalised (ASCII with
punycode, lower case, no trailing dot), equals a verified domain, and is written
plainly (as that ASCII form or its own Unicode form: full-width letters or
invisible characters that merely normalise to it fail). Subdomains do not pass:
the account proved control of the domain it verified, and subdomains are often
delegated (a mail vendor, a marketing site) to people other than its owner.

Everything else fails; the explanation tells the reviewer why, and
``lookalike_of`` names the verified domain a look-alike imitates. Look-alikes
are found on *skeletons* (after Unicode TR39): NFKC, case-fold, accents
removed, confusable letters (Cyrillic, Greek, Armenian, IPA) mapped to the
Latin letter they imitate, then digits to the letters they pass for (0→o,
1→l, 3→e, 4→a, 5→s, 7→t, 8→b, 9→g), i→l, rn→m, vv→w. The confusable letters
are a reviewed table below, completed by the Unicode confusables data (UTS #39,
``confusables.txt``) that the confusable-homoglyphs package maintains: every
character it lists as confusable with an ASCII letter or digit maps to it.
Strongest first: the same skeleton (homoglyphs, punycode, swaps); the same
without hyphens; the same name under another suffix (``acme.co``); the verified
domain or name inside another domain (``acme.example.evil.test``,
``acme-login.example``); the name extended with letters (``acmecorp.example``,
``myacme.example``); 1 (names of 4-8 characters) or 2 (longer)
Damerau-Levenshtein edits on the registrable label. Labels that mix scripts
(Latin with Cyrillic, ...) are named too.

A leaf module (it imports nothing of Keyholder's), so that the access
requests, the staff-address rule and the letter pre-screen (which depends on
nothing of ours but config and errors) judge a domain by one rule.

The registrable label is the one left of the suffix: the last label, or the last
two for common second-level suffixes (``co.uk``); a heuristic, not the Public
Suffix List (a download).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

# ruff: noqa: RUF001  -- the confusables table is made of ambiguous letters on purpose

# The Latin letter each confusable lower-case character imitates (after NFKC,
# case-folding and accent removal, which handle full-width forms and é, ü, ...).
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "о": "o", "р": "p", "с": "c", "у": "y",
    "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "к": "k", "м": "m", "н": "h", "т": "t", "г": "r", "п": "n",
    "ь": "b", "ү": "y", "ө": "o", "ѵ": "v", "ԍ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ϳ": "j", "ω": "w",
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "զ": "q", "ա": "w", "ւ": "l",
    # Latin letters with no decomposition, and IPA
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ɵ": "o", "ƚ": "l", "ɑ": "a",
    "ɡ": "g", "ɩ": "i", "ɪ": "i", "ȷ": "j", "ʏ": "y", "ʀ": "r", "ɴ": "n", "ʜ": "h",
    "ɛ": "e", "ɔ": "c", "ʋ": "u", "ƿ": "p", "þ": "p", "æ": "ae", "œ": "oe",
}  # fmt: skip
# Characters that read as one another even in plain ASCII: digits for the
# letters they pass for (the usual swaps in phishing domains), and i/l.
_ASCII_CLASSES = str.maketrans(
    {"0": "o", "1": "l", "i": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"}
)
_PLAIN = re.compile(r"[a-z0-9]{1,3}")
_SECOND_LEVEL_SUFFIXES = frozenset({
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "com.au", "net.au",
    "org.au", "edu.au", "gov.au", "co.nz", "org.nz", "net.nz", "co.jp", "ne.jp", "or.jp",
    "ac.jp", "co.kr", "or.kr", "co.in", "net.in", "org.in", "co.za", "co.il", "com.br",
    "net.br", "org.br", "com.cn", "net.cn", "org.cn", "com.hk", "com.sg", "com.tw", "com.mx",
})  # fmt: skip
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_EAST_ASIAN = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"})


@dataclass(frozen=True, slots=True)
class DomainVerdict:
    """The S23 evidence about one email address's domain."""

    status: Literal["pass", "fail"]
    explanation: str  # for a reviewer
    matched_domain: str | None = None  # the verified domain it equals (pass only)
    lookalike_of: str | None = None  # the verified domain it imitates
    domain: str | None = None  # the email's domain, ASCII form, when readable


def uts39_confusables() -> dict[str, str]:
    """Non-ASCII characters the Unicode confusables data says pass for ASCII letters or digits.

    Read from confusable-homoglyphs' copy of UTS #39 ``confusables.txt``; where a
    character passes for several (``l``, ``1``, ``I``), they share one skeleton.
    """
    data = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    found: dict[str, str] = {}
    for char, glyphs in json.loads(data).items():
        if len(char) != 1 or char.isascii():
            continue
        plain = sorted(c for g in glyphs if _PLAIN.fullmatch(c := g["c"].casefold()))
        if plain:
            found[char] = plain[0]
    return found


@cache
def _confusable_table() -> Mapping[int, str]:
    """The reviewed table over the UTS #39 data (loaded once, on first use: ~40 ms)."""
    uts39 = uts39_confusables()
    # Skeletons are taken after case-folding: key each character by its folded form too.
    folded = {f: t for c, t in uts39.items() if len(f := c.casefold()) == 1 and not f.isascii()}
    return str.maketrans({**folded, **uts39, **CONFUSABLES})


def skeleton(text: str) -> str:
    """The form two strings share when they look alike (TR39-style, deterministic)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    bare = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    mapped = bare.translate(_confusable_table()).translate(_ASCII_CLASSES)
    return mapped.replace("rn", "m").replace("vv", "w")  # letter pairs that read as one


@dataclass(frozen=True, slots=True)
class _Domain:
    ascii: str
    unicode: str  # how it displays
    skeletons: tuple[str, ...]  # per label
    flat: tuple[str, ...]  # per label, skeletons without hyphens (``c-vv`` is ``cw``)
    base: int  # index of the registrable label

    @property
    def name(self) -> str:  # the registrable label's skeleton
        return self.skeletons[self.base]

    @property
    def name_length(self) -> int:  # letters of the registrable label as shown, not its skeleton
        return len(self.unicode.split(".")[self.base].replace("-", ""))

    @property
    def registrable(self) -> str:
        return ".".join(self.ascii.split(".")[self.base :])

    def __str__(self) -> str:
        shown = f" (shown as {self.unicode!r})" if self.unicode != self.ascii else ""
        return self.ascii + shown


def _to_unicode(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label.encode("ascii").decode("idna")
    except UnicodeError:  # valid IDNA 2008 that Python's IDNA 2003 codec refuses: show it
        return label[4:].encode("ascii").decode("punycode")


def _parse(text: str) -> _Domain | None:
    candidate = text.strip().rstrip(".").lower()
    if not candidate or len(candidate) > 1024:
        return None
    try:
        ascii_form = candidate.encode("idna").decode("ascii")
        labels = ascii_form.split(".")
        shown = [_to_unicode(label) for label in labels]
    except (UnicodeError, ValueError):
        return None
    if len(labels) < 2 or len(ascii_form) > 253 or not all(map(_LABEL.fullmatch, labels)):
        return None
    suffix = 2 if len(labels) > 2 and ".".join(labels[-2:]) in _SECOND_LEVEL_SUFFIXES else 1
    return _Domain(
        ascii=ascii_form,
        unicode=".".join(shown),
        skeletons=tuple(map(skeleton, shown)),
        flat=tuple(skeleton(label.replace("-", "")) for label in shown),
        base=len(labels) - suffix - 1,
    )


def _is_under(domain: _Domain, parent: _Domain) -> bool:
    return domain.ascii.endswith("." + parent.ascii)


def _embeds(candidate: _Domain, verified: _Domain) -> bool:
    """The verified domain, or its name, inside another domain (not as its suffix)."""
    run = verified.skeletons[verified.base :]
    labels = candidate.skeletons
    if any(labels[i : i + len(run)] == run for i in range(len(labels) - len(run) + 1)):
        return True
    name, joined = verified.name, "".join(verified.flat[verified.base :])
    # Only left of the candidate's suffix: a verified name that is also a suffix
    # elsewhere (staff on example.com, a customer on acme.example) is no imitation.
    for i, label in enumerate(labels[: candidate.base + 1]):
        if candidate.flat[i] == joined:
            return True
        long_enough = verified.name_length >= 4
        if long_enough and ((i != candidate.base and label == name) or name in label.split("-")):
            return True
    return False


def _extends(candidate: _Domain, verified: _Domain) -> bool:
    """The verified name with letters before or after it (``acmecorp``, ``myacme``)."""
    name = verified.flat[verified.base]
    if verified.name_length < 4:  # short names are inside too many honest ones
        return False
    labels = candidate.flat[: candidate.base + 1]
    return any(label.startswith(name) or label.endswith(name) for label in labels)


def _typo_budget(candidate: _Domain, verified: _Domain) -> int:
    """1 or 2 edits (by the verified name's length) when the names are that close, else 0."""
    from rapidfuzz.distance import DamerauLevenshtein  # noqa: PLC0415 - not at CLI start

    name = verified.name
    budget = 0 if len(name) < 4 else 1 if len(name) <= 8 else 2
    if budget and DamerauLevenshtein.distance(candidate.name, name, score_cutoff=budget) <= budget:
        return budget
    return 0


def _lookalike(candidate: _Domain, verified: _Domain) -> tuple[int, str] | None:
    """How strongly (0 = most) and why ``candidate`` imitates ``verified``, or None.

    Equal or related domains (subdomain, parent, sibling) are no look-alikes,
    unless they look the same (``eu.acme.example`` spelt with a Cyrillic e).
    """
    same_look = candidate.skeletons == verified.skeletons
    if candidate.ascii == verified.ascii or (
        candidate.registrable == verified.registrable and not same_look
    ):
        return None
    mine = ".".join(candidate.skeletons[candidate.base :])
    theirs = ".".join(verified.skeletons[verified.base :])
    looks_same = same_look or mine == theirs
    typos = _typo_budget(candidate, verified)
    swaps = "look-alike character swaps like 0/o, 1/l/i, 3/e, 5/s, rn/m, vv/w"
    if "xn--" in candidate.ascii:
        swaps = "internationalised (punycode) domain with look-alike letters"
    reasons = (
        (looks_same, swaps),
        (
            candidate.flat[candidate.base :] == verified.flat[verified.base :],
            "the same name with other hyphens",
        ),
        (candidate.name == verified.name, "the same name under another suffix"),
        (_embeds(candidate, verified), "the verified domain or its name inside another domain"),
        (_extends(candidate, verified), "the verified name with letters added"),
        (typos > 0, f"within {typos} typing error{'s' * (typos > 1)} of the verified name"),
    )
    return next(((rank, why) for rank, (hit, why) in enumerate(reasons) if hit), None)


def _script(char: str) -> str:
    word = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
    return "CJK" if word in _EAST_ASIAN else word


def mixed_script_labels(domain: str) -> list[str]:
    """Labels whose letters come from more than one script, as 'label (Cyrillic, Latin)'."""
    parsed = _parse(domain)
    if parsed is None:
        return []
    found = []
    for label in parsed.unicode.split("."):
        scripts = {_script(c) for c in label if c.isalpha()}
        if len(scripts) > 1 and not scripts <= {"LATIN", "CJK"}:
            found.append(f"{label!r} ({', '.join(sorted(s.title() for s in scripts))})")
    return found


def lookalike_reason(domain: str, of: str) -> str | None:
    """Why ``domain`` looks like ``of`` without being it (or a subdomain of it), else None."""
    candidate, verified = _parse(domain), _parse(of)
    hit = _lookalike(candidate, verified) if candidate and verified else None
    return hit[1] if hit else None


def is_lookalike(domain: str, of: str) -> bool:
    """True when ``domain`` imitates ``of``; equal, related or unreadable domains are not."""
    return lookalike_reason(domain, of) is not None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:80] + "...")


def check_email_domain(email: str, verified_domains: Sequence[str]) -> DomainVerdict:
    """S23: pass only when ``email`` is on one of ``verified_domains`` exactly.

    Never raises: unreadable addresses and domains fail with an explanation.
    """
    local, at, raw = email.rpartition("@")
    if not at or not local:
        return DomainVerdict("fail", f"{_shown(email)} is not an email address")
    candidate = _parse(raw)
    if candidate is None:
        return DomainVerdict("fail", f"{_shown(raw)} is not a valid domain name")
    verified = list({d.ascii: d for d in filter(None, map(_parse, verified_domains))}.values())
    matched = next((d for d in verified if d.ascii == candidate.ascii), None)
    typed = unicodedata.normalize("NFC", raw.strip().rstrip(".").lower())
    if matched is not None and typed in {matched.ascii, matched.unicode}:
        explanation = f"{matched} is a verified domain of the account"
        return DomainVerdict("pass", explanation, matched.ascii, None, matched.ascii)
    why, lookalike_of = _why_not(candidate, verified, matched, raw)
    mixed = mixed_script_labels(candidate.ascii)
    if mixed:
        why += f"; it mixes scripts in {', '.join(mixed)}"
    return DomainVerdict("fail", why, None, lookalike_of, candidate.ascii)


def _why_not(
    candidate: _Domain, verified: list[_Domain], matched: _Domain | None, raw: str
) -> tuple[str, str | None]:
    """The explanation of a failing domain, and the verified domain it imitates, if any."""
    if matched is not None:
        return (
            f"{_shown(raw)} is written with characters (such as full-width letters or "
            f"invisible ones) that only normalise to the verified domain {matched}",
            matched.ascii,
        )
    lookalikes = sorted((hit, d.ascii) for d in verified if (hit := _lookalike(candidate, d)))
    parent = next((d for d in verified if _is_under(candidate, d)), None)
    # A true subdomain is named as such, unless it is spelt to look like a verified domain.
    if parent and not (lookalikes and lookalikes[0][0][0] == 0):
        return (
            f"{candidate} is a subdomain of the verified domain {parent.ascii}; only a "
            "verified domain itself is accepted (subdomains are often run by others)",
            None,
        )
    if lookalikes:
        (_, reason), imitated = lookalikes[0]  # the closest imitation
        return (
            f"{candidate} is not a verified domain: it looks like the verified domain "
            f"{imitated} ({reason})",
            imitated,
        )
    if child := next((d for d in verified if _is_under(d, candidate)), None):
        return f"{candidate} is a parent of the verified domain {child.ascii}, not one itself", None
    listed = ", ".join(sorted(d.ascii for d in verified)) or "none"
    return f"{candidate} is not a verified domain of the account (verified: {listed})", None


def staff_domain_conflict(email: str, staff_domains: Sequence[str]) -> bool:
    """S31: is ``email`` on a staff domain, under the same registrable domain, or a look-alike?

    An address whose domain cannot be read counts as a conflict (fail closed).
    """
    candidate = _parse(email.rpartition("@")[2])
    if candidate is None:
        return True
    for staff in filter(None, map(_parse, staff_domains)):
        if candidate.registrable == staff.registrable or _lookalike(candidate, staff):
            return True
    return False
