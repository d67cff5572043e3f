"""The ``typst`` generator's templates: Typst markup for each letter.

``din`` (a Swiss/DIN 5008 letter: return-address line over a window address field,
fold and punch marks, an information block with the date, bold subject, no
salutation comma habits of its own), ``us`` (a US business letter: centred letterhead,
date flush right, inside address, "Re:" line, the sign-off starting at the centre),
``band`` (a coloured letterhead band across the top, the items as a labelled list, a
two-column footer), ``memo`` (a terse memorandum: TO/FROM/DATE/SUBJECT, often in a
typewriter face), ``grid`` (the details in a ruled table, often two signatories of
whom only the executive signs). Every piece of content comes from the ``LetterSpec``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from benchmarks.corpora import wording
from benchmarks.corpora.spec import FIRST, LAST, LetterSpec
from benchmarks.corpora.typst_clutter import printed, typst_string

TEMPLATES = ("din", "us", "band", "memo", "grid")
S = typst_string
RECIPIENT = (
    "Keyholder Support",
    "Account Recovery Desk",
    "PO Box 4410",
    "Dublin D02 X285",
    "Ireland",
)
PREAMBLE = r"""
#let kh-line(key, body) = {
  block(height: 0pt, above: 0pt, below: 0pt, context {
    let p = here().position()
    let m = measure(body)
    let cap = measure(text(top-edge: "cap-height", bottom-edge: "baseline", "H")).height
    [#metadata((key: key, page: p.page, x: p.x.mm(), y: p.y.mm(), w: m.width.mm(),
      h: m.height.mm(), cap: cap.mm())) <khanchor>]
  })
  block(above: 0pt, below: 0pt, body)
}
#let kh-edge(body) = text(top-edge: 0.75em, bottom-edge: -0.25em, body)
"""


@dataclass
class Style:
    font: str
    size: float  # pt
    leading: float  # em
    justify: bool
    accent: str  # a Typst colour
    margins: tuple[float, float, float, float]  # left, top, right, bottom (mm)
    page2: bool  # the letter runs onto a second page before the sign-off ends

    @property
    def text_width(self) -> float:
        return 210 - self.margins[0] - self.margins[2]


def keep(text: str, spec: LetterSpec) -> str:
    """Prose as Typst markup, the letter's items kept unbroken on one line."""
    items = sorted(
        {spec.contract_on_letter, spec.email_to_add, spec.executive_email, spec.account_written},
        key=len,
        reverse=True,
    )
    parts: list[str] = []
    rest = text
    while rest:
        hits = [(rest.find(i), i) for i in items if i and rest.find(i) >= 0]
        if not hits:
            parts.append(f"#{S(rest)}")
            break
        at, item = min(hits)
        if at:
            parts.append(f"#{S(rest[:at])}")
        parts.append(f"#box({S(item)})")
        rest = rest[at + len(item) :]
    return "".join(parts)


def _body(spec: LetterSpec, rng: random.Random, st: Style, *, listed: str) -> list[str]:
    """The letter's paragraphs (Typst markup): request, items, reason, confirmation."""
    out = []
    if listed == "prose":
        out.append(keep(wording.request_sentence(spec, rng), spec))
    else:
        out.append(
            keep(
                rng.choice(
                    [
                        f"As {spec.executive_title} of {spec.company.display_name}, "
                        "I ask you to add "
                        "a new administrator to our enterprise account:",
                        "Please give administrator rights on our enterprise account "
                        "as set out below.",
                        "We would like a further administrator added to our account. "
                        "The details are:",
                    ]
                ),
                spec,
            )
        )
        rows = wording.labelled_items(spec)
        if listed == "list":
            marker = rng.choice(["-", "\u2022", "\u2013"])
            lines = [
                f'#text(weight: "bold", {S(label + ":")}) #box({S(value)})' for label, value in rows
            ]
            out.append(
                f"#list(marker: [{marker}], indent: {rng.uniform(0, 8):.1f}mm, "
                + ", ".join(f"[{line}]" for line in lines)
                + ")"
            )
        else:  # a table
            fill = "luma(92%)" if rng.random() < 0.6 else "none"
            head = rng.random() < 0.5
            cells = [f'[#text(weight: "bold", {S(label)})], [#{S(value)}]' for label, value in rows]
            header = (
                f"table.header([*{rng.choice(['Item', 'Detail', 'Field'])}*], [*Value*]),"
                if head
                else ""
            )
            stroke = rng.choice(["0.4pt + luma(40%)", "(bottom: 0.4pt + luma(50%))", "0.6pt"])
            out.append(
                f"#table(columns: ({rng.uniform(38, 55):.0f}mm, auto), inset: 2mm, "
                f"stroke: {stroke}, "
                f"fill: (x, y) => if x == 0 {{ {fill} }}, {header} {', '.join(cells)})"
            )
    out.append(keep(wording.reason_sentence(spec, rng), spec))
    if st.page2:
        out.append("#pagebreak()")
    out.append(keep(wording.confirmation(spec, rng), spec))
    out.append(
        keep(
            rng.choice(
                [
                    f"You can reach me at {spec.executive_email} with any questions.",
                    f"Please send your confirmation to {spec.executive_email}.",
                    f"My direct email is {spec.executive_email}.",
                ]
            ),
            spec,
        )
    )
    return out


def _other_signatory(spec: LetterSpec, rng: random.Random) -> tuple[str, str]:
    first = rng.choice([f for f in FIRST if f not in spec.executive_name])
    last = rng.choice([w for w in LAST if w not in spec.executive_name])
    return f"{first} {last}", rng.choice(["Company Secretary", "Head of IT", "General Counsel"])


def sign_off(spec: LetterSpec, rng: random.Random, *, offset: float, two: bool) -> str:
    """The closing, the band (its height fixed here, any printed clutter in it), the
    typed name and title, and a second unsigned signatory if ``two``."""
    band = rng.uniform(15, 30) if spec.signed else rng.uniform(11, 26)
    if spec.signature is not None and spec.signature.overlap == "both":
        band = rng.uniform(9, 16)
    bold = rng.random() < 0.4
    name = f'kh-edge(text(weight: "{"bold" if bold else "regular"}", {S(spec.executive_name)}))'
    lines = [spec.executive_title, spec.company.display_name]
    if rng.random() < 0.45:
        lines.append(spec.executive_email)
    rng_accent = "luma(20%)"
    clutter = printed(spec, rng, rng_accent, band)
    under = " \\ ".join(f"#{S(line)}" for line in lines)
    exec_col = (
        f"block(above: 0pt, below: 0pt, height: {band:.1f}mm, width: 100%, {{ {clutter} }})\n"
        f'  kh-line("name", {name})\n'
        f"  block(above: 0.5em, [{under}])"
    )
    head = f'kh-line("closing", kh-edge({S(spec.closing)}))'
    if not two:
        body = f"{head}\n  {exec_col}"
    else:
        other, role = _other_signatory(spec, rng)
        rule = rng.random() < 0.5
        other_band = f"block(above: 0pt, below: 0pt, height: {band:.1f}mm, width: 100%, " + (
            "{ place(bottom + left, dy: -2mm, line(length: 55mm, stroke: 0.3pt)) })"
            if rule
            else "[])"
        )
        other_col = (
            f"{other_band}\n  kh-edge({S(other)})\n  "
            f"block(above: 0.5em, [#{S(role)} \\ #{S(spec.company.display_name)}])"
        )
        body = (
            f"{head}\n  grid(columns: (1fr, 1fr), column-gutter: 8mm, {{\n  {exec_col}\n  }}, {{\n"
            f"  {other_col}\n  }})"
        )
    return (
        f"#v({rng.uniform(2, 7):.1f}mm)\n"
        f"#block(breakable: false, width: 100%, pad(left: {offset:.1f}mm, {{\n  {body}\n}}))\n"
    )


def page_setup(spec: LetterSpec, st: Style, extra: str = "") -> str:
    left, top, right, bottom = st.margins
    header = (
        f"header: context {{ if here().page() > 1 {{ text(size: 0.8em, fill: luma(40%), "
        f"{S(spec.company.display_name + ' - ' + spec.date_text)} "
        "+ [ - page #here().page()]) } },"
    )
    return (
        PREAMBLE + f'#set page(paper: "a4", margin: (left: {left:.1f}mm, top: {top:.1f}mm, '
        f"right: {right:.1f}mm, bottom: {bottom:.1f}mm), {header} {extra} foreground: KH-MARKS)\n"
        f'#set text(font: {S(st.font)}, size: {st.size}pt, lang: "en", hyphenate: false)\n'
        f"#set par(justify: {'true' if st.justify else 'false'}, leading: {st.leading:.2f}em, "
        f"spacing: {st.leading + rng_spacing(st):.2f}em)\n"
    )


def rng_spacing(st: Style) -> float:
    return 0.55 + (st.size % 1.0) * 0.4


def din(spec: LetterSpec, rng: random.Random, st: Style) -> str:
    c = spec.company
    marks = (
        "background: { for y in (105mm, 210mm) { place(top + left, dx: 5mm, dy: y, "
        "line(length: 5mm, stroke: 0.3pt + luma(55%))) }; place(top + left, dx: 4mm, dy: 148.5mm, "
        "line(length: 7mm, stroke: 0.3pt + luma(55%))) },"
    )
    out = [page_setup(spec, st, marks)]
    out.append(
        f'#place(top + right, dy: -8mm, text(size: 1.5em, weight: "bold", fill: {st.accent}, '
        f"{S(c.display_name)}))"
    )
    out.append(
        "#place(top + left, dx: 20mm - "
        + f"{st.margins[0]:.1f}mm, dy: 45mm - {st.margins[1]:.1f}mm, "
        "block(width: 85mm, height: 45mm, {"
        f"text(size: 7pt, underline({S(c.display_name + ' · ' + c.street + ' · ' + c.city)}))"
        "; v(3mm); " + "; linebreak(); ".join(S(line) for line in RECIPIENT) + "}))"
    )
    info = [
        ("Your reference", "-"),
        ("Our reference", "".join(w[0] for w in spec.executive_name.split() if w[0].isalpha())),
        ("Contact", spec.executive_name),
        ("Telephone", c.phone),
        ("Email", spec.executive_email),
        ("Date", spec.date_text if rng.random() < 0.7 else f"{c.town}, {spec.date_text}"),
    ]
    rows = ", ".join(f"text(fill: luma(40%), {S(k)}), box({S(v)})" for k, v in info)
    out.append(
        f"#place(top + right, dy: 50mm - {st.margins[1]:.1f}mm, block(width: 72mm, "
        "{ set align(left); text(size: 0.85em, grid(columns: (27mm, auto), row-gutter: 1.2mm, "
        f"{rows})) }}))"
    )
    out.append(f"#v(100mm - {st.margins[1]:.1f}mm)")
    out.append(f'#text(weight: "bold", {S(wording.subject(spec).removeprefix("Re: "))})')
    out.append(f"#v(4mm)\n#{S(wording.opening(rng))}")
    out += _body(spec, rng, st, listed=rng.choice(["list", "table", "prose"]))
    out.append(sign_off(spec, rng, offset=0.0, two=rng.random() < 0.25))
    return "\n\n".join(out)


def us(spec: LetterSpec, rng: random.Random, st: Style) -> str:
    c = spec.company
    out = [page_setup(spec, st)]
    out.append(
        f"#align(center, [#text(size: 1.6em, fill: {st.accent}, smallcaps({S(c.display_name)})) \\ "
        f"#text(size: 0.85em, {S(f'{c.street}, {c.city} · {c.phone} · www.{c.domain}')})])"
    )
    out.append(f"#line(length: 100%, stroke: 0.5pt + {st.accent})")
    out.append(f"#v(6mm)\n#align(right, {S(spec.date_text)})")
    out.append(" \\\n".join(f"#{S(line)}" for line in RECIPIENT[:2] + RECIPIENT[2:4]))
    out.append(f'#text(weight: "bold", {S(wording.subject(spec))})')
    out.append(f"#{S(wording.opening(rng))}")
    out += _body(spec, rng, st, listed=rng.choice(["prose", "list", "prose"]))
    right = rng.random() < 0.55
    out.append(sign_off(spec, rng, offset=st.text_width / 2 if right else 0.0, two=False))
    return "\n\n".join(out)


def band(spec: LetterSpec, rng: random.Random, st: Style) -> str:
    c = spec.company
    height = rng.uniform(22, 34)
    bg = (
        f"background: place(top + left, rect(width: 100%, height: {height:.1f}mm, "
        f"fill: {st.accent}, "
        f"inset: (x: {st.margins[0]:.1f}mm, y: 7mm), {{ set text(fill: white); "
        f'text(size: 20pt, weight: "bold", {S(c.display_name)}); linebreak(); '
        f"text(size: 9pt, {S('www.' + c.domain)}) }})),"
    )
    footer = (
        f"footer: context {{ line(length: 100%, stroke: 0.4pt + {st.accent}); "
        "set text(size: 7.5pt, "
        f"fill: luma(35%)); grid(columns: (1fr, 1fr), [#{S(c.display_name)} \\ #{S(c.street)} \\ "
        f"#{S(c.city)}], [Tel. #{S(c.phone)} \\ #{S('www.' + c.domain)} \\ "
        "Page #here().page()]) },"
    )
    margins = (st.margins[0], height + rng.uniform(10, 18), st.margins[2], 30.0)
    st = Style(st.font, st.size, st.leading, st.justify, st.accent, margins, st.page2)
    out = [page_setup(spec, st, bg + footer)]
    out.append(f"#align({rng.choice(['left', 'right'])}, {S(spec.date_text)})")
    out.append(" \\\n".join(f"#{S(line)}" for line in RECIPIENT[:3]))
    out.append(f'#text(weight: "bold", fill: {st.accent}, {S(wording.subject(spec))})')
    out.append(f"#{S(wording.opening(rng))}")
    out += _body(spec, rng, st, listed="list")
    right = rng.random() < 0.3
    out.append(sign_off(spec, rng, offset=st.text_width * 0.5 if right else 0.0, two=False))
    return "\n\n".join(out)


def memo(spec: LetterSpec, rng: random.Random, st: Style) -> str:
    out = [page_setup(spec, st)]
    out.append(
        '#text(size: 1.8em, weight: "bold", tracking: 0.15em, '
        f"{S(rng.choice(['MEMORANDUM', 'MEMO']))})"
    )
    fields = [
        ("TO", "Keyholder Support"),
        ("FROM", f"{spec.executive_name}, {spec.executive_title}"),
        ("DATE", spec.date_text),
        ("SUBJECT", wording.subject(spec).removeprefix("Re: ")),
    ]
    cells = ", ".join(f'text(weight: "bold", {S(k + ":")}), {S(v)}' for k, v in fields)
    out.append(f"#grid(columns: (28mm, 1fr), row-gutter: 2mm, {cells})")
    out.append("#line(length: 100%, stroke: 1pt)")
    out += _body(spec, rng, st, listed=rng.choice(["list", "prose"]))
    out.append(sign_off(spec, rng, offset=0.0, two=False))
    return "\n\n".join(out)


def grid(spec: LetterSpec, rng: random.Random, st: Style) -> str:
    c = spec.company
    out = [page_setup(spec, st)]
    out.append(
        f'#grid(columns: (1fr, auto), align(left + horizon, text(size: 1.4em, weight: "bold", '
        f"fill: {st.accent}, {S(c.display_name)})), align(right, text(size: 0.8em, "
        f"[#{S(c.street)} \\ #{S(c.city)} \\ #{S(c.phone)}])))"
    )
    out.append(f"#line(length: 100%, stroke: 2pt + {st.accent})")
    out.append(
        " \\\n".join(f"#{S(line)}" for line in RECIPIENT[:2]) + f"\n#h(1fr) #{S(spec.date_text)}"
    )
    out.append(f'#text(weight: "bold", {S(wording.subject(spec))})')
    out.append(f"#{S(wording.opening(rng))}")
    out += _body(spec, rng, st, listed="table")
    out.append(sign_off(spec, rng, offset=0.0, two=rng.random() < 0.6))
    return "\n\n".join(out)


BUILD = {"din": din, "us": us, "band": band, "memo": memo, "grid": grid}
