"""S23 and S31: executive emails on verified domains only; look-alikes named."""

# ruff: noqa: RUF001, RUF003  -- look-alike letters are what these tests are about

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyholder.accounts.service import normalize_domain
from keyholder.domains import (
    CONFUSABLES,
    check_email_domain,
    is_lookalike,
    lookalike_reason,
    mixed_script_labels,
    skeleton,
    staff_domain_conflict,
    uts39_confusables,
)

VERIFIED = ["acme.example", "globex-corp.co.uk", "northwind.example", "xn--mnchen-3ya.example"]


def verdict_for(domain, verified=VERIFIED):
    return check_email_domain(f"ceo@{domain}", verified)


class TestExactMatch:
    @pytest.mark.parametrize(
        ("typed", "matched"),
        [
            ("acme.example", "acme.example"),
            ("ACME.Example", "acme.example"),
            ("acme.example.", "acme.example"),
            (" acme.example ", "acme.example"),
            ("globex-corp.co.uk", "globex-corp.co.uk"),
            ("münchen.example", "xn--mnchen-3ya.example"),
            ("MÜNCHEN.example", "xn--mnchen-3ya.example"),
            ("mu\u0308nchen.example", "xn--mnchen-3ya.example"),  # decomposed ü (NFD)
            ("xn--mnchen-3ya.example", "xn--mnchen-3ya.example"),
        ],
    )
    def test_a_verified_domain_passes(self, typed, matched):
        verdict = verdict_for(typed)
        assert verdict.status == "pass", verdict.explanation
        assert (verdict.matched_domain, verdict.lookalike_of) == (matched, None)
        assert "is a verified domain of the account" in verdict.explanation

    def test_verified_domains_in_any_written_form_are_read(self):
        assert verdict_for("acme.example", ["ACME.EXAMPLE."]).status == "pass"
        assert verdict_for("münchen.example", ["münchen.example"]).status == "pass"

    def test_unreadable_verified_domains_are_ignored(self):
        assert verdict_for("acme.example", ["", "not a domain", "acme.example"]).status == "pass"


class TestNotVerified:
    def test_an_unrelated_domain_fails_and_lists_the_verified_ones(self):
        verdict = verdict_for("initech.example")
        assert (verdict.status, verdict.lookalike_of) == ("fail", None)
        assert verdict.explanation.startswith("initech.example is not a verified domain")
        assert "acme.example" in verdict.explanation
        assert verdict.domain == "initech.example"

    @pytest.mark.parametrize("typed", ["mail.acme.example", "a.b.acme.example"])
    def test_a_subdomain_fails(self, typed):
        verdict = verdict_for(typed)
        assert (verdict.status, verdict.lookalike_of) == ("fail", None)
        assert "subdomain of the verified domain acme.example" in verdict.explanation

    def test_a_parent_of_a_verified_domain_fails(self):
        verdict = verdict_for("acme.example", ["eu.acme.example"])
        assert verdict.status == "fail"
        assert "parent of the verified domain eu.acme.example" in verdict.explanation

    def test_no_verified_domain_at_all(self):
        verdict = verdict_for("acme.example", [])
        assert verdict.status == "fail"
        assert "(verified: none)" in verdict.explanation

    @pytest.mark.parametrize(
        ("email", "why"),
        [
            ("acme.example", "is not an email address"),
            ("@acme.example", "is not an email address"),
            ("ceo@", "is not a valid domain name"),
            ("ceo@localhost", "is not a valid domain name"),
            ("ceo@acme..example", "is not a valid domain name"),
            ("ceo@-acme.example", "is not a valid domain name"),
            ("ceo@acme_corp.example", "is not a valid domain name"),
            ("ceo@xn--zz.example", "is not a valid domain name"),
            ("ceo@" + "a" * 64 + ".example", "is not a valid domain name"),
            ("ceo@[192.0.2.1]", "is not a valid domain name"),
            ("ceo@acme.example\nbcc.evil.test", "is not a valid domain name"),
        ],
    )
    def test_unreadable_addresses_fail(self, email, why):
        verdict = check_email_domain(email, VERIFIED)
        assert verdict.status == "fail"
        assert why in verdict.explanation
        assert "\n" not in verdict.explanation


# (typed domain, the verified domain it imitates, a phrase of the reason)
LOOKALIKES = [
    # Cyrillic а е о р с х, Greek ο, Armenian օ, Latin-1 and other accents
    ("аcme.example", "acme.example", "punycode"),
    ("acmе.example", "acme.example", "punycode"),
    ("aсme.example", "acme.example", "punycode"),
    ("nоrthwind.example", "northwind.example", "punycode"),
    ("nοrthwind.example", "northwind.example", "punycode"),
    ("nօrthwind.example", "northwind.example", "punycode"),
    ("northwind.eхample", "northwind.example", "punycode"),
    ("acme.exam\u0440le", "acme.example", "punycode"),
    ("acmé.example", "acme.example", "punycode"),
    ("àcmè.example", "acme.example", "punycode"),
    ("globéx-corp.co.uk", "globex-corp.co.uk", "punycode"),
    ("ǵlobex-corp.co.uk", "globex-corp.co.uk", "punycode"),
    ("acme.exampłe", "acme.example", "punycode"),
    # the same, typed as punycode
    ("xn--cme-5cd.example", "acme.example", "punycode"),
    ("XN--CME-5CD.EXAMPLE", "acme.example", "punycode"),
    # digit/letter swaps
    ("n0rthwind.example", "northwind.example", "0/o"),
    ("northw1nd.example", "northwind.example", "0/o"),
    ("northwlnd.example", "northwind.example", "0/o"),
    ("g1obex-corp.co.uk", "globex-corp.co.uk", "0/o"),
    ("acrne.example", "acme.example", "rn/m"),
    ("northvvind.example", "northwind.example", "vv/w"),
    # hyphens
    ("ac-me.example", "acme.example", "hyphens"),
    ("globexcorp.co.uk", "globex-corp.co.uk", "hyphens"),
    ("north-wind.example", "northwind.example", "hyphens"),
    # another suffix
    ("acme.co", "acme.example", "another suffix"),
    ("acme.com", "acme.example", "another suffix"),
    ("acme.co.uk", "acme.example", "another suffix"),
    ("globex-corp.com", "globex-corp.co.uk", "another suffix"),
    ("mail.acme.com", "acme.example", "another suffix"),
    # the verified domain or its name inside another domain
    ("acme.example.evil.test", "acme.example", "inside another domain"),
    ("acme.example.co", "acme.example", "inside another domain"),
    ("acme-example.evil.test", "acme.example", "inside another domain"),
    ("acme.evil.test", "acme.example", "inside another domain"),
    ("acme-login.example", "acme.example", "inside another domain"),
    ("secure-northwind.com", "northwind.example", "inside another domain"),
    # one or two typing errors on the registrable label
    ("acne.example", "acme.example", "within 1 typing error"),
    ("amce.example", "acme.example", "within 1 typing error"),
    ("acm.example", "acme.example", "within 1 typing error"),
    ("acmme.example", "acme.example", "within 1 typing error"),
    ("acne.test", "acme.example", "within 1 typing error"),
    ("nortwhind.example", "northwind.example", "within 2 typing errors"),
    ("notrhwimd.example", "northwind.example", "within 2 typing errors"),
    ("glbex-crp.co.uk", "globex-corp.co.uk", "within 2 typing errors"),
    # look-alike letters and a typo at once
    ("cаme.example", "acme.example", "within 1 typing error"),
    # S23a: the name extended with letters, several digit swaps, UTS #39 letters
    ("acmecorp.example", "acme.example", "letters added"),
    ("myacme.example", "acme.example", "letters added"),
    ("northwindinc.com", "northwind.example", "letters added"),
    ("getnorthwind.evil.test", "northwind.example", "letters added"),
    ("n0r7hw1nd.example", "northwind.example", "3/e, 5/s"),
    ("g10b3x-c0rp.co.uk", "globex-corp.co.uk", "3/e, 5/s"),
    ("aꮯme.example", "acme.example", "punycode"),  # Cherokee small letter o... as c
    ("northwꙇnd.example", "northwind.example", "punycode"),  # Cyrillic iota
]


class TestLookalikes:
    @pytest.mark.parametrize(("typed", "imitated", "reason"), LOOKALIKES)
    def test_a_lookalike_fails_and_names_what_it_imitates(self, typed, imitated, reason):
        verdict = verdict_for(typed)
        assert verdict.status == "fail"
        assert verdict.lookalike_of == imitated, verdict.explanation
        assert reason in verdict.explanation
        assert f"looks like the verified domain {imitated}" in verdict.explanation
        assert is_lookalike(typed, imitated)

    def test_the_explanation_shows_punycode_and_how_it_displays(self):
        verdict = verdict_for("аcme.example")
        assert verdict.domain == "xn--cme-5cd.example"
        assert "xn--cme-5cd.example (shown as 'аcme.example')" in verdict.explanation

    def test_mixed_scripts_are_named(self):
        verdict = verdict_for("xn--cme-5cd.example")
        assert "mixes scripts in 'аcme' (Cyrillic, Latin)" in verdict.explanation
        assert mixed_script_labels("nοrthwind.example") == ["'nοrthwind' (Greek, Latin)"]

    @pytest.mark.parametrize(
        "domain", ["münchen.example", "пример.example", "例え.example", "日本語abc.example"]
    )
    def test_single_script_and_east_asian_labels_are_not_mixed(self, domain):
        assert mixed_script_labels(domain) == []

    @pytest.mark.parametrize(
        "typed",
        [
            "ａｃｍｅ.example",  # full-width letters
            "ac\u00adme.example",  # soft hyphen, invisible
            "ac\u200bme.example",  # zero-width space
            "acme\u3002example",  # ideographic full stop
        ],
    )
    def test_odd_spellings_that_normalise_to_a_verified_domain_fail(self, typed):
        verdict = verdict_for(typed)
        assert (verdict.status, verdict.lookalike_of) == ("fail", "acme.example")
        assert "only normalise to the verified domain acme.example" in verdict.explanation

    def test_the_closest_imitation_is_named(self):
        verdict = verdict_for("acme-corp.com", ["acme.example", "acme-corp.co.uk"])
        assert verdict.lookalike_of == "acme-corp.co.uk"
        assert "another suffix" in verdict.explanation

    def test_a_subdomain_spelt_like_a_verified_one_is_a_lookalike(self):
        verdict = verdict_for("еu.acme.example", ["acme.example", "eu.acme.example"])
        assert verdict.lookalike_of == "eu.acme.example"

    @pytest.mark.parametrize(
        ("domain", "of"),
        [
            ("acme.example", "acme.example"),  # the same
            ("mail.acme.example", "acme.example"),  # a real subdomain
            ("acme.example", "mail.acme.example"),  # a parent
            ("www.acme.example", "mail.acme.example"),  # a sibling
            ("initech.example", "acme.example"),
            ("abc.example", "abd.example"),  # too short for typo matching
            ("axyz.example", "acme.example"),  # two edits on a short name
            ("acme.example", "example.com"),  # a name that is also a suffix elsewhere
            ("not a domain", "acme.example"),
            ("acme.example", ""),
        ],
    )
    def test_what_is_no_lookalike(self, domain, of):
        assert not is_lookalike(domain, of)
        assert lookalike_reason(domain, of) is None


class TestSkeleton:
    def test_examples(self):
        assert skeleton("АСМЕ") == skeleton("acme") == "acme"
        assert skeleton("rnicrosoft") == skeleton("microsoft")
        assert skeleton("paypa1") == skeleton("paypal") == skeleton("paypai")
        assert skeleton("ｇｏｏｇｌｅ") == skeleton("g00gle")
        assert skeleton("vvikipédia") == skeleton("wikipedia")

    def test_the_unicode_confusables_data_completes_the_table_s23a(self):
        """Characters UTS #39 lists as passing for ASCII letters share their skeleton."""
        data = uts39_confusables()
        assert len(data) > 1000
        for char in ("ꮯ", "ꙇ", "ꓦ", "𝚊", "ꜳ", "ѡ"):
            assert skeleton(char) == skeleton(data[char]), char
        assert skeleton("ꓦandelay") == skeleton("vandelay")

    def test_every_confusable_survives_idna_and_maps_to_its_letter(self):
        for char, letter in CONFUSABLES.items():
            assert skeleton(char) == skeleton(letter), char
            ascii_form = normalize_domain(f"x{char}y.example")
            assert ascii_form.startswith("xn--"), char  # IDNA keeps it: a real look-alike


class TestStaffDomainConflict:
    STAFF = ("keyholder.example", "example.com")

    @pytest.mark.parametrize(
        "email",
        [
            "alice@keyholder.example",
            "alice@KEYHOLDER.EXAMPLE.",
            "alice@support.keyholder.example",
            "alice@keyh0lder.example",
            "alice@keyhоlder.example",  # Cyrillic о
            "alice@xn--keyhlder-5fg.example",
            "alice@keyholder.com",
            "alice@key-holder.example",
            "alice@keyholder.example.evil.test",
            "alice@mail.example.com",
            "not an address",  # unreadable: treated as a conflict (fail closed)
        ],
    )
    def test_staff_domains_and_their_lookalikes_conflict(self, email):
        assert staff_domain_conflict(email, self.STAFF)

    @pytest.mark.parametrize(
        "email", ["bob@acme.example", "bob@globex.example", "bob@initech.example"]
    )
    def test_customer_domains_do_not(self, email):
        assert not staff_domain_conflict(email, self.STAFF)

    def test_no_staff_domains_no_conflict(self):
        assert not staff_domain_conflict("bob@keyholder.example", [])


# Hypothesis ---------------------------------------------------------------

LABEL = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,6})?", fullmatch=True).filter(
    lambda label: not label.startswith("xn")
)
TLD = st.sampled_from(["example", "test", "com", "org", "io", "co.uk", "de"])
DOMAIN = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, min_size=1, max_size=3), TLD
)
# Latin letters that have a confusable character in the table, and those characters.
SUBSTITUTES = {
    letter: sorted(c for c, target in CONFUSABLES.items() if target == letter)
    for letter in set(CONFUSABLES.values())
    if len(letter) == 1
}


class TestProperties:
    @given(
        domain=DOMAIN,
        others=st.lists(DOMAIN, max_size=3),
        upper=st.booleans(),
        dot=st.booleans(),
    )
    def test_any_verified_domain_passes(self, domain, others, upper, dot):
        typed = (domain.upper() if upper else domain) + ("." if dot else "")
        verdict = check_email_domain(f"ceo@{typed}", [*others, domain])
        assert verdict.status == "pass", verdict.explanation
        assert verdict.matched_domain == domain

    @given(domain=DOMAIN, data=st.data())
    def test_any_single_confusable_substitution_is_a_lookalike(self, domain, data):
        positions = [i for i, char in enumerate(domain) if char in SUBSTITUTES]
        if not positions:
            positions = [0]
            domain = "a" + domain
        i = data.draw(st.sampled_from(positions))
        substitute = data.draw(st.sampled_from(SUBSTITUTES[domain[i]]))
        typed = domain[:i] + substitute + domain[i + 1 :]
        verdict = check_email_domain(f"ceo@{typed}", [domain])
        assert verdict.status == "fail"
        assert verdict.lookalike_of == domain, verdict.explanation
        assert "punycode" in verdict.explanation

    @settings(max_examples=300)
    @given(
        email=st.one_of(st.text(), st.builds("{}@{}".format, st.text(), st.text())),
        verified=st.lists(st.one_of(st.text(), DOMAIN), max_size=4),
    )
    def test_never_crashes_on_arbitrary_text(self, email, verified):
        verdict = check_email_domain(email, verified)
        assert verdict.status in {"pass", "fail"}
        assert verdict.explanation
        if verdict.status == "pass":
            assert verdict.matched_domain in {normalize_domain(d) for d in verified if d.strip()}
        assert isinstance(staff_domain_conflict(email, verified), bool)
        assert isinstance(is_lookalike(email.rpartition("@")[2], email), bool)

    @given(st.text(alphabet=string.printable + "аеорсхοé\u0301ａ\u00ad\u3002"))
    def test_never_crashes_on_domain_like_text(self, text):
        assert check_email_domain(f"ceo@{text}", VERIFIED).status in {"pass", "fail"}


# S23a: look-alikes generated from a verified domain always fail, naming it;
# the domain itself passes; real subdomains and unrelated domains are no look-alikes.

NAME = st.from_regex(r"[a-z]{4,12}", fullmatch=True).filter(lambda n: not n.startswith("xn"))
SUFFIXES = ["example", "test", "com", "org", "io", "co.uk", "de"]
VERIFIED_DOMAIN = st.tuples(NAME, st.sampled_from(SUFFIXES))
# Letters that digits pass for, and the digits.
DIGIT_FOR = {"o": "0", "l": "1", "e": "3", "a": "4", "s": "5", "t": "7", "b": "8", "g": "9"}


def _passes_for(char: str, letter: str) -> bool:
    """In a domain name, ``char`` still reads as ``letter`` (IDNA may refuse or change it)."""
    domain = check_email_domain(f"ceo@x{char}y.example", []).domain
    if domain == f"x{letter}y.example":
        # Folded to the letter itself (the Kelvin sign is a "k"): the same domain, no look-alike.
        return False
    try:
        shown = domain.encode().decode("idna") if domain else None
    except UnicodeError:
        return False
    return shown is not None and skeleton(shown) == skeleton(f"x{letter}y.example")


UTS39_FOR = {
    letter: sorted(
        c
        for c, target in uts39_confusables().items()
        if target == letter and _passes_for(c, letter)
    )
    for letter in string.ascii_lowercase
}


@st.composite
def lookalike_of(draw, verified):
    """One look-alike of ``(name, suffix)``: each kind an attacker would register."""
    name, suffix = verified
    kind = draw(
        st.sampled_from(["hyphen", "affix", "suffix", "inside", "digits", "uts39", "punycode"])
    )
    if kind == "hyphen":
        i = draw(st.integers(1, len(name) - 1))
        return f"{name[:i]}-{name[i:]}.{suffix}"
    if kind == "affix":
        extra = draw(st.sampled_from(["corp", "inc", "my", "get", "login", "hq", "x"]))
        joined = draw(st.sampled_from([name + extra, extra + name]))
        return f"{joined}.{suffix}"
    if kind == "suffix":
        return f"{name}.{draw(st.sampled_from([s for s in SUFFIXES if s != suffix]))}"
    if kind == "inside":
        return f"{name}.{suffix}.{draw(st.sampled_from(['evil.test', 'login.io', 'co']))}"
    if kind == "digits":
        table = {letter: [digit] for letter, digit in DIGIT_FOR.items()}
    else:  # as punycode, only letters that stay themselves (not full-width a, which is a)
        keep = (
            (lambda c: not unicodedata.normalize("NFKC", c).isascii())
            if kind == "punycode"
            else bool
        )
        table = {k: [c for c in v if keep(c)] for k, v in UTS39_FOR.items()}
    positions = [i for i, char in enumerate(name) if table.get(char)]
    if not positions:  # no letter to swap: fall back on a hyphen
        return f"{name[:2]}-{name[2:]}.{suffix}"
    i = draw(st.sampled_from(positions))
    substitute = draw(st.sampled_from(table[name[i]]))
    typed = f"{name[:i]}{substitute}{name[i + 1 :]}.{suffix}"
    return typed.encode("idna").decode("ascii") if kind == "punycode" else typed


class TestLookalikeProperties:
    @settings(max_examples=300)
    @given(data=st.data(), verified=VERIFIED_DOMAIN)
    def test_generated_lookalikes_always_fail_naming_the_verified_domain_s23a(self, data, verified):
        domain = ".".join(verified)
        typed = data.draw(lookalike_of(verified))
        verdict = check_email_domain(f"kel@{typed}", [domain, "initech.example"])
        assert verdict.status == "fail"
        assert verdict.lookalike_of == domain, verdict.explanation
        assert staff_domain_conflict(f"kel@{typed}", [domain])

    @given(verified=VERIFIED_DOMAIN, label=st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True))
    def test_the_domain_passes_and_a_real_subdomain_is_no_lookalike(self, verified, label):
        domain = ".".join(verified)
        assert check_email_domain(f"kel@{domain}", [domain]).status == "pass"
        sub = check_email_domain(f"kel@{label}.{domain}", [domain])
        assert (sub.status, sub.lookalike_of) == ("fail", None)
        assert "subdomain of the verified domain" in sub.explanation

    @given(
        verified=st.tuples(
            st.from_regex(r"[a-h]{4,12}", fullmatch=True), st.sampled_from(SUFFIXES)
        ),
        other=st.tuples(
            st.lists(st.from_regex(r"[pquxyz]{3,12}", fullmatch=True), min_size=1, max_size=2),
            st.sampled_from(SUFFIXES),
        ),
    )
    def test_unrelated_domains_are_not_called_lookalikes(self, verified, other):
        domain, typed = ".".join(verified), ".".join([*other[0], other[1]])
        verdict = check_email_domain(f"kel@{typed}", [domain])
        assert (verdict.status, verdict.lookalike_of) == ("fail", None), verdict.explanation
        assert not is_lookalike(typed, domain)
        assert not staff_domain_conflict(f"kel@{typed}", [domain])
