"""axe-core in the browser tests: every page of the app the suite visits is checked.

The engine is the vendored ``vendor/axe.min.js`` (see ``vendor/README.md``),
evaluated in the page through the DevTools protocol, which the pages' strict
Content-Security-Policy does not govern (a ``<script>`` tag would be refused).

``AxeWatch`` checks each page state before the test leaves it: before a click,
a key press or a navigation, axe runs on the document shown now (after the test
filled it in, got its error summary...), and on the last one when the test
ends. In step with the test, so no check races a navigation. A page with a
serious or critical violation of the WCAG 2.2 A/AA rules fails the test, with
the rules and the elements named.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING = ("serious", "critical")

RUN_AXE = """async ([tags, blocking]) => {
    const result = await axe.run(document, {
        runOnly: {type: "tag", values: tags},
        resultTypes: ["violations"],
    });
    return result.violations
        .filter(v => blocking.includes(v.impact))
        .map(v => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary),
        }));
}"""

# Pages that are not ours to fix: Swagger UI's own page (vendored, tested for working offline).
NOT_CHECKED = ("/api/docs",)


def audit(page: Page) -> list[dict[str, Any]]:
    """The serious and critical WCAG 2.2 A/AA violations on the document ``page`` shows."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, [WCAG_22_AA, list(BLOCKING)])
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  {v['impact']}: {v['id']} ({v['help']})")
        lines.extend(f"    - {node}" for node in v["nodes"])
    return "\n".join(lines)


FINGERPRINT = "() => [location.href, innerWidth, document.body.innerHTML.length].join('|')"
GONE = ("Execution context was destroyed", "navigat", "Target page, context or browser")

# What a test does to leave a page, or to change it for good: the page is checked first.
ACTIONS = {
    Page: ("goto", "reload", "go_back", "close"),
    Locator: ("click", "press", "dblclick", "set_input_files"),
}


@dataclass
class AxeWatch:
    """Runs ``audit`` on every state of the app's pages a watched page shows.

    ``install`` wraps the Playwright actions above: before one runs on a watched
    page, the document it shows now is checked, once per document and content
    (its address, the window's width and the length of its markup: a phone-sized
    window or a part replaced by a script is a new state). The last state is
    checked by ``check`` when the test ends.
    """

    origin: str
    pages: list[Page] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    found: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def watch(self, page: Page) -> None:
        self.pages.append(page)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for cls, names in ACTIONS.items():
            for name in names:
                monkeypatch.setattr(cls, name, self._checked_first(getattr(cls, name)))

    def _checked_first(self, action: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(action)
        def checked_first(target: Page | Locator, *args: Any, **kwargs: Any) -> Any:
            self.check(target if isinstance(target, Page) else target.page)
            return action(target, *args, **kwargs)

        return checked_first

    def check(self, page: Page) -> None:
        """Audit the document ``page`` shows now, unless it was checked as it is."""
        if page not in self.pages or page.is_closed():
            return
        url = page.url
        path = urlsplit(url).path
        if not url.startswith(self.origin) or path in NOT_CHECKED:
            return
        try:
            page.wait_for_load_state()
            seen = page.evaluate(FINGERPRINT)
            if page.evaluate("() => window.__axeChecked") == seen:
                return
            violations = audit(page)
            page.evaluate("(seen) => { window.__axeChecked = seen; }", seen)
        except PlaywrightError as exc:
            if any(word in str(exc) for word in GONE):
                return  # left while being checked: the next document is checked in turn
            raise
        self.checked.append(path)
        if violations:
            self.found.setdefault(path, violations)

    def report(self) -> str:
        return "\n".join(f"{path}:\n{describe(v)}" for path, v in self.found.items())
