"""A team's own page texts (`notifications.templates`), rendered without risking the page.

`build_notifiers` gives each notifier a `PageTemplate` per text the config
replaces; the notifier asks it for the text and sends its built-in one when
the answer is None. A template that fails on a page (a label the alert does
not have, a filter that raises, a render past the budget of
config.template_budget, nothing printed) never costs the page: it is
logged as `notify.template_failed` with the alert id and the template's name,
and the built-in text goes instead. The variables are config.templates'.

The text is what the template prints; what holds it stays code: an SMS is cut
to one segment as the built-in text would be, a spoken sentence and an e-mail
subject are one line, and the e-mail's HTML part shows the same text with its
links made links.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable

from tocsin.clock import Clock
from tocsin.config.model import MessageTemplates
from tocsin.config.templates import new_environment, sms_text, template_context
from tocsin.logs import event
from tocsin.notify.base import Page
from tocsin.notify.email_body import single_line
from tocsin.notify.sms_text import clip_to_segment

logger = logging.getLogger(__name__)

# What a phone call reads (twice) and a subject line hold at most.
SPOKEN_LIMIT = 500
SUBJECT_LIMIT = 200
_DETAIL_LIMIT = 200
_URL = re.compile(r"https?://[^\s<>\"']+")


class PageTemplate:
    """One template of `notifications.templates`, compiled once per config."""

    def __init__(self, name: str, source: str, clock: Clock,
                 escape: Callable[[str], str] | None = None) -> None:
        self.name = name
        self._clock = clock
        # `escape` applies to the values a template prints, never to its own text.
        self._template = new_environment(escape).from_string(source)

    def render(self, page: Page) -> str | None:
        """The template's text for `page`, or None (logged) when the built-in text must go."""
        try:
            text = self._template.render(template_context(page, self._clock.now()))
        except Exception as exc:  # a template may raise anything; the page goes out regardless
            self._failed(page, type(exc).__name__, str(exc))
            return None
        if not text.strip():
            self._failed(page, "Empty", "the template printed nothing for this page")
            return None
        return text

    def _failed(self, page: Page, error: str, detail: str) -> None:
        event(logger, "notify.template_failed", logging.WARNING, alert_id=page.alert_id,
              delivery_id=page.delivery_id, template=self.name, error=error,
              detail=single_line(detail, _DETAIL_LIMIT))


def page_template(templates: MessageTemplates, name: str, clock: Clock,
                  escape: Callable[[str], str] | None = None) -> PageTemplate | None:
    """The configured template `name` (a field of MessageTemplates), or None for the default."""
    source: str | None = getattr(templates, name)
    return None if source is None else PageTemplate(name, source, clock, escape)


def render(template: PageTemplate | None, page: Page) -> str | None:
    return None if template is None else template.render(page)


def sms_body(template: PageTemplate | None, page: Page) -> str | None:
    """The SMS template's text in one segment, cut the way the built-in text is."""
    text = render(template, page)
    return None if text is None else clip_to_segment(sms_text(text))


def spoken(template: PageTemplate | None, page: Page) -> str | None:
    text = render(template, page)
    return None if text is None else single_line(text, SPOKEN_LIMIT)


def subject(template: PageTemplate | None, page: Page) -> str | None:
    """The subject template's text on one line: a line break never reaches a header."""
    text = render(template, page)
    return None if text is None else single_line(text, SUBJECT_LIMIT)


def body_text(template: PageTemplate | None, page: Page) -> str | None:
    text = render(template, page)
    return None if text is None else text.strip("\n") + "\n"


def body_html(text: str) -> str:
    """A template's e-mail text as HTML: every character escaped, http(s) URLs as links."""
    parts, start = [], 0
    for found in _URL.finditer(text):
        url = found.group(0).rstrip(".,;:!?)")  # a sentence's full stop is not the link's
        parts += [html.escape(text[start:found.start()]),
                  f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>']
        start = found.start() + len(url)
    parts.append(html.escape(text[start:]))
    return ('<!DOCTYPE html><html><body style="font-family:sans-serif">\n'
            f'<div style="white-space:pre-wrap">{"".join(parts)}</div>\n</body></html>\n')
