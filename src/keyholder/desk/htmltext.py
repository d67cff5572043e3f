"""HTML-only emails as plain text, for the ticket thread.

The stdlib parser is enough: we want readable words and line breaks, never
markup, so script and style content is dropped, block elements end lines and
``<blockquote>`` becomes ``> `` quoting (so ``desk.quoting`` can collapse it).
Nothing here is ever rendered as HTML again.

The stdlib parser is not safe on hostile input by itself (in 3.11 some
inputs take quadratic time, ``<![`` runs raise AssertionError), so one linear
regex pass first rewrites the markup into bare ``<name>``/``</name>`` tags and
text: comments, declarations, processing instructions and attributes go,
and every ``<`` that opens no tag becomes ``&lt;``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose text is not meant for reading.
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
# Elements that start and end a line of their own.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_MAX_DEPTH = 200  # hostile nesting cannot grow our bookkeeping without bound
# More HTML than this is not read: the stored text is cut far below it anyway
# (thread.MAX_BODY), and the raw email keeps everything.
MAX_HTML = 1_000_000
# One token: a comment (to its end, or the end of input), a tag (its name kept,
# nothing else; "[^<>]*" stops at the next "<", which keeps the scan linear),
# or a lone "<".
_TOKEN = re.compile(r"<!--.*?(?:-->|\Z)|<(/?)([A-Za-z][A-Za-z0-9]{0,30})?[^<>]*>|<", re.DOTALL)


def _canonical(match: re.Match[str]) -> str:
    markup = match.group(0)
    if markup == "<":
        return "&lt;"
    name = match.group(2)
    if markup.startswith("<!--") or name is None:
        return ""  # comments, <!DOCTYPE>, <![CDATA[, <?xml ...?>
    return f"<{match.group(1)}{name.lower()}>"


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._hidden: list[str] = []  # open hidden elements (a stack)
        self._quote_depth = 0
        self._pre = 0

    # --- building lines -----------------------------------------------------------

    def _break(self) -> None:
        text = "".join(self._line)
        if not self._pre:
            text = " ".join(text.split())
        prefix = "> " * self._quote_depth
        self.lines.append(f"{prefix}{text}".rstrip() if text else prefix.rstrip())
        self._line = []

    def _block_edge(self) -> None:
        if self._line:
            self._break()

    # --- parser callbacks -----------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            if len(self._hidden) < _MAX_DEPTH:
                self._hidden.append(tag)
            return
        if self._hidden:
            return
        if tag == "br":
            self._break()
        elif tag in _BLOCKS:
            self._block_edge()
            if tag == "blockquote" and self._quote_depth < _MAX_DEPTH:
                self._quote_depth += 1
            elif tag == "pre":
                self._pre += 1
            elif tag == "li":
                self._line.append("- ")
        elif tag in {"td", "th"} and self._line:
            self._line.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            if tag in self._hidden:
                while self._hidden and self._hidden.pop() != tag:
                    pass
            return
        if self._hidden:
            return
        if tag in _BLOCKS:
            self._block_edge()
            if tag == "blockquote" and self._quote_depth:
                if self.lines and not self.lines[-1].strip("> "):
                    self.lines.pop()  # no empty quoted line after the quote's last paragraph
                self._quote_depth -= 1
            elif tag == "pre" and self._pre:
                self._pre -= 1
            elif tag == "p":
                self.lines.append("> " * self._quote_depth)  # a paragraph ends with a gap

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._hidden:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            parts = data.split("\n")
            for part in parts[:-1]:
                self._line.append(part)
                self._break()
            self._line.append(parts[-1])
        else:
            self._line.append(data)

    def text(self) -> str:
        self._block_edge()
        lines = [line.rstrip() for line in self.lines]
        joined = "\n".join(lines).strip("\n")
        return re.sub(r"\n(?:[> ]*\n){2,}", "\n\n", joined) + "\n" if joined else ""


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML email body: no scripts, styles or tags."""
    parser = _TextExtractor()
    parser.feed(_TOKEN.sub(_canonical, html[:MAX_HTML]))
    parser.close()
    return parser.text()
