"""Email bodies from Jinja2 templates in ``keyholder/mail/templates``.

Each email ``name`` has three templates: ``name.subject`` (one line),
``name.txt`` (the plain text body) and ``name.html`` (the HTML body). The
HTML ones are autoescaped, so user-supplied text (names, account names) can
carry no markup into them (SECURITY.md S37); the text ones are not, as plain
text has nothing to escape. Header injection through a subject is refused by
``enqueue_email``. Links come from the caller, built from ``settings.base_url``
only (S4).
``mail.outbox.send_templated_email`` renders and queues both parts; the relay
sends them as multipart/alternative.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    # Jinja loads with the first email rendered, not with every module that can send one.
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape  # noqa: PLC0415

    return Environment(
        loader=PackageLoader("keyholder.mail", "templates"),
        # Escaped in .html templates only: plain text and subjects have nothing to escape.
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,  # a missing value is a bug, not an empty string
        keep_trailing_newline=True,
    )


def render(name: str, /, **context: object) -> tuple[str, str, str]:
    """The subject, plain text body and HTML body of the email ``name``."""
    environment = _environment()
    subject = environment.get_template(f"{name}.subject").render(context)
    text = environment.get_template(f"{name}.txt").render(context)
    html = environment.get_template(f"{name}.html").render(context)
    return " ".join(subject.split()), text, html
