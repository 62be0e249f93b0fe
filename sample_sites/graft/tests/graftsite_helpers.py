"""Helpers of the sample site's tests: links in HTML and JSON, which side served a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

__all__ = ["Links", "generator", "internal_path", "json_links", "page_links"]


class Links(HTMLParser):
    """The ``href``/``src`` of a page's links, stylesheets and scripts, and its ``generator``."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.generator: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("name") == "generator":
            self.generator = a.get("content")
        for name in ("href", "src"):
            value = a.get(name)
            if value and tag in ("a", "link", "script", "img"):
                self.links.append(value)


def page_links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def generator(response: Any) -> str | None:
    """Which framework rendered an HTML page (each side stamps ``<meta name=generator>``)."""
    return page_links(response.text).generator


def json_links(data: Any) -> Iterator[str]:
    """Every URL-looking string in a JSON document."""
    if isinstance(data, dict):
        for value in data.values():
            yield from json_links(value)
    elif isinstance(data, list):
        for value in data:
            yield from json_links(value)
    elif isinstance(data, str) and re.match(r"^(/|https?://)", data):
        yield data


def internal_path(url: str, base: str, host: str = "localhost") -> str | None:
    """``url`` (relative to ``base``) as a path+query if it points into the site, else ``None``."""
    if url.startswith(("mailto:", "javascript:", "#")):
        return None
    parts = urlsplit(urljoin("http://" + host + base, url))
    if parts.scheme not in ("http", "https") or parts.hostname not in ("localhost", "127.0.0.1"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
