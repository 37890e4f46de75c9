"""What a person reads on an admin page: text nodes, labels a screen reader announces
(``aria-label``, ``title``, ``alt``, ``placeholder``, button values) and the sidebar's menu
labels (Wagtail renders the sidebar from JSON). Scripts, styles and templates are left out;
so is the time-zone chooser of the account page, whose options are the IANA zone names."""

import json
import re
from html.parser import HTMLParser

# A curated list of English words that would mean an untranslated string (lower case).
ENGLISH = set(
    """
    true false none yes no actions action user users unit units cluster clusters zone zones
    device devices pending in_progress progress success successful retrying failed failure
    error errors commune district province seconds second minutes minute hours hour days day
    ago help editor guide edit delete add save search filter filters status name date created
    updated live draft page pages settings reports dashboard approve approved reject rejected
    submit workflow workflows task tasks item items the and of with for by is are not loading
    close cancel next previous sort more view choose select upload download export import log
    logout account profile password email language sign signed welcome moderators editors
    site sites root homepage approval waiting review title summary body byline category
    categories kind type level role roles member members membership memberships schedule
    scheduled programme programmes slot slots target targets emergency monitoring heartbeat
    online offline token tokens revoke revoked issued subscriber subscribers feed feeds
    delivery deliveries received ingest source sources report statistics chart total count
    average news article articles bulletin transcript image images document documents
    collection collections snippet snippets history revisions revision compare current latest
    owner unknown other all any what new guide whats
    """.split()
)

_HIDDEN_TAGS = {"script", "style", "template", "noscript"}
_READ_ATTRS = {"placeholder", "title", "aria-label", "alt"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self._hidden = 0
        self._in_tz_select = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        if tag == "select" and (attrs.get("name") or "").endswith("current_time_zone"):
            self._in_tz_select = True
        if self._hidden or self._in_tz_select:
            return
        for key in _READ_ATTRS:
            if attrs.get(key):
                self.chunks.append(attrs[key])
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            if attrs.get("value"):
                self.chunks.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS and self._hidden:
            self._hidden -= 1
        if tag == "select":
            self._in_tz_select = False

    def handle_data(self, data):
        if not self._hidden and not self._in_tz_select and data.strip():
            self.chunks.append(data.strip())


def sidebar_props(html: str) -> str:
    match = re.search(
        r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', html, re.S
    )
    return match.group(1) if match else ""


def menu_urls(html: str) -> set[str]:
    """Every admin URL the sidebar menu links to (submenus included)."""
    return {u for u in re.findall(r'"url": "(/admin/[^"]*)"', sidebar_props(html))}


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    labels = re.findall(r'"label": "((?:[^"\\]|\\.)*)"', sidebar_props(html))
    return parser.chunks + [json.loads(f'"{label}"') for label in labels]


def english_words(chunks: list[str], allow: set[str] = frozenset()) -> list[tuple[str, str]]:
    """``(word, the text it was found in)`` for every English word of the list."""
    found = []
    for chunk in chunks:
        for word in re.findall(r"[^\W\d_]+", chunk):
            if word.lower() in ENGLISH and word not in allow:
                found.append((word, chunk[:120]))
    return found
