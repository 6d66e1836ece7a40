"""Atom and RSS feeds of the public incidents: `/status/history.atom` and `.rss`.

One entry per public incident (the 50 most recent), updated whenever a new
update is posted, its content the updates newest first. Built with
ElementTree, so every text is escaped; nothing internal is in the view.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from fastapi import APIRouter
from fastapi.responses import Response

from tocsin.engine.runtime import Runtime
from tocsin.oncall.rules import format_utc
from tocsin.statuspage import view
from tocsin.statuspage.view import IncidentView, PageView
from tocsin.web.statuspage_cache import PageCache

ATOM = "http://www.w3.org/2005/Atom"
_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=10"}


def build_router(runtime: Runtime, cache: PageCache) -> APIRouter:
    router = APIRouter(prefix="/status", include_in_schema=False)
    feeds: dict[str, tuple[str, Callable[[PageView, str], bytes]]] = {
        "history.atom": ("application/atom+xml", _atom),
        "history.rss": ("application/rss+xml", _rss),
    }
    for name, (media, build) in feeds.items():
        router.add_api_route(f"/{name}", _endpoint(runtime, cache, name, media, build),
                             methods=["GET"], name=f"status_{name}")
    return router


def _endpoint(runtime: Runtime, cache: PageCache, name: str, media: str,
              build: Callable[[PageView, str], bytes]) -> Callable[[], Response]:
    def make(now: datetime) -> bytes:
        config = runtime.config_now()
        with runtime.sessions() as session:
            shown = view.page(session, config=config, now=now)
        return build(shown, config.public_url.rstrip("/") + "/status")

    def endpoint() -> Response:
        now = runtime.clock.now()
        body = cache.get(f"/status/{name}", now, lambda: make(now))
        return Response(body, media_type=f"{media}; charset=utf-8", headers=_HEADERS)

    return endpoint


def _content(incident: IncidentView) -> str:
    """The updates as HTML text (escaped again by the XML writer, as feeds expect)."""
    return "".join(
        f"<p><small>{format_utc(u.display_at)}</small><br><strong>"
        f"{html.escape(u.status.capitalize())}</strong> - {html.escape(u.body)}</p>"
        for u in incident.updates)


def _atom(shown: PageView, base: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "en"})
    _sub(feed, "id", f"{base}/history")
    _sub(feed, "title", f"{shown.title} status history")
    _sub(feed, "updated", format_utc(shown.updated_at))
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "href": f"{base}/"})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": f"{base}/history.atom"})
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _sub(author, "name", shown.title)
    for incident in shown.incidents:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        link = f"{base}/incidents/{incident.id}"
        _sub(entry, "id", link)
        _sub(entry, "title", incident.name)
        _sub(entry, "published", format_utc(incident.state.started_at))
        _sub(entry, "updated", format_utc(incident.updated_at))
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": link})
        _sub(entry, "content", _content(incident)).set("type", "html")
    written: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return written


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = text
    return element


def _rss(shown: PageView, base: str) -> bytes:
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    for tag, text in (("title", f"{shown.title} status history"), ("link", f"{base}/"),
                      ("description", f"Incidents on {shown.title}"),
                      ("lastBuildDate", format_datetime(shown.updated_at, usegmt=True))):
        ET.SubElement(channel, tag).text = text
    for incident in shown.incidents:
        item = ET.SubElement(channel, "item")
        link = f"{base}/incidents/{incident.id}"
        ET.SubElement(item, "title").text = incident.name
        ET.SubElement(item, "link").text = link
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = link
        ET.SubElement(item, "pubDate").text = format_datetime(incident.state.started_at,
                                                              usegmt=True)
        ET.SubElement(item, "description").text = _content(incident)
    written: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return written
