"""Upstream ingest: poll sources (RSS, Atom, ninjs) and land new items as newsroom drafts.

Dedupe is by (source, guid, version): a version already seen is skipped; a new version of
a known guid updates the draft it created (as a new revision) instead of making another.
Received HTML is cleaned with nh3 before it is stored. A source quiet for longer than its
expected interval, or failing, raises an alert in the admin; success closes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import feedparser
import nh3
import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from newsroom.models import Category, NewsItem

from .feeds import plain_text
from .models import Alert, IngestedItem, Source
from .outbound import OutboundRefused, guarded_session

logger = logging.getLogger(__name__)

USER_AGENT = "Nguon-Ingest/1"


class IngestError(Exception):
    pass


@dataclass
class Incoming:
    guid: str
    version: str
    headline: str
    summary: str = ""
    body: str = ""
    byline: str = ""
    category_keys: tuple[str, ...] = ()
    canceled: bool = False


# --- fetching -----------------------------------------------------------------------------


def _fetch(source: Source) -> tuple[int, bytes, dict]:
    """GET the source with its validators, under a total deadline and a size cap."""
    headers = {"User-Agent": USER_AGENT}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    timeout = settings.SYNDICATION_INGEST_TIMEOUT_SECONDS
    limit = settings.SYNDICATION_INGEST_MAX_BYTES
    deadline = time.monotonic() + timeout
    try:
        # Every connection, redirects included, only to an address outbound allows.
        with (
            guarded_session() as session,
            session.get(
                source.url, headers=headers, timeout=(min(10, timeout), timeout), stream=True
            ) as response,
        ):
            if response.status_code == 304:
                return 304, b"", dict(response.headers)
            if response.status_code != 200:
                raise IngestError(f"HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_content(65536):
                data += chunk
                if len(data) > limit:
                    raise IngestError(f"document larger than {limit} bytes")
                if time.monotonic() > deadline:
                    raise IngestError(f"no complete document within {timeout:g} s")
            return 200, bytes(data), dict(response.headers)
    except OutboundRefused as exc:
        raise IngestError(f"refused: {exc}") from exc
    except requests.RequestException as exc:
        raise IngestError(f"{type(exc).__name__}: {exc}") from exc


# --- parsing ------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def parse_feed(data: bytes) -> list[Incoming]:
    """RSS 2.0 or Atom 1.0 entries (feedparser reads both)."""
    feed = feedparser.parse(data)
    if feed.bozo and not feed.entries:
        raise IngestError(f"not a feed: {feed.get('bozo_exception')}")
    out = []
    for entry in feed.entries:
        headline = (entry.get("title") or "").strip()
        guid = entry.get("id") or entry.get("link") or ""
        if not headline or not guid:
            continue
        body = ""
        if entry.get("content"):
            body = entry.content[0].get("value", "")
        summary_html = entry.get("summary", "")
        # Read real keys only: feedparser maps a missing "updated" to "published" (warning).
        present = entry.keys()
        version = (entry["updated"] if "updated" in present else "") or (
            entry["published"] if "published" in present else ""
        )
        out.append(
            Incoming(
                guid=guid[:500],
                version=(version or _digest(headline, summary_html, body))[:100],
                headline=headline,
                summary=plain_text(summary_html),
                body=body or (summary_html if "<" in summary_html else ""),
                byline=entry.get("author", ""),
                category_keys=tuple(t.get("term", "") for t in entry.get("tags", [])),
            )
        )
    return out


def parse_ninjs(data: bytes) -> list[Incoming]:
    """A ninjs document, a JSON list of them, or ``{"items": [...]}``."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise IngestError(f"not JSON: {exc}") from exc
    docs = doc.get("items", [doc]) if isinstance(doc, dict) else doc
    if not isinstance(docs, list):
        raise IngestError("expected a ninjs document or a list of them")
    out = []
    for d in docs:
        if not isinstance(d, dict) or not d.get("uri"):
            continue
        headlines = d.get("headlines") or []
        headline = (headlines[0].get("value") if headlines else d.get("headline")) or ""
        if not headline.strip():
            continue
        bodies = d.get("bodies") or []
        html_bodies = [b for b in bodies if "html" in (b.get("contenttype") or "")]
        body = (html_bodies or bodies or [{}])[0].get("value", "") or d.get("body_html", "")
        descriptions = d.get("descriptions") or []
        summary = descriptions[0].get("value", "") if descriptions else ""
        out.append(
            Incoming(
                guid=str(d["uri"])[:500],
                version=str(d.get("version") or d.get("versioncreated") or "")[:100]
                or _digest(headline, body),
                headline=headline.strip(),
                summary=summary,
                body=body,
                byline=d.get("by", "") or "",
                category_keys=tuple(
                    s.get("literal") or s.get("name") or "" for s in d.get("subjects") or []
                ),
                canceled=d.get("pubstatus") == "canceled",
            )
        )
    return out


# --- landing ------------------------------------------------------------------------------


def _category(keys) -> Category | None:
    for key in keys:
        key = (key or "").strip()
        if key:
            found = (
                Category.objects.filter(slug=key).first()
                or Category.objects.filter(name__iexact=key).first()
            )
            if found:
                return found
    return None


def _clean_html(value: str) -> str:
    return nh3.clean(value or "")


@transaction.atomic
def incoming_land(*, source: Source, incoming: Incoming) -> IngestedItem | None:
    """Record one version; create or update its draft. None if that version was seen."""
    if IngestedItem.objects.filter(
        source=source, guid=incoming.guid, version=incoming.version
    ).exists():
        return None
    earlier = (
        IngestedItem.objects.filter(source=source, guid=incoming.guid, item__isnull=False)
        .select_related("item")
        .first()
    )
    item = earlier.item if earlier else None
    if not incoming.canceled:
        fields = {
            "headline": incoming.headline[:255],
            "summary": incoming.summary,
            "body": _clean_html(incoming.body),
            "byline": incoming.byline[:255],
            "category": _category(incoming.category_keys),
        }
        if item is None:
            item = NewsItem(unit=source.unit, kind=NewsItem.Kind.ARTICLE, live=False, **fields)
            item.save()
            item.save_revision(log_action=True)
        else:
            # A new upstream version: a new revision for the editor; a draft row follows it.
            for name, value in fields.items():
                setattr(item, name, value)
            if not item.live:
                item.save()
            item.save_revision(log_action=True)
    try:
        with transaction.atomic():
            return IngestedItem.objects.create(
                source=source,
                guid=incoming.guid,
                version=incoming.version,
                headline=incoming.headline[:255],
                item=item,
            )
    except IntegrityError:  # a concurrent poll recorded it first
        return None


def _alert(source: Source, kind: str, message: str) -> None:
    if not Alert.objects.filter(source=source, kind=kind, resolved_at__isnull=True).exists():
        Alert.objects.create(source=source, kind=kind, message=message)


def _resolve(source: Source, kind: str) -> None:
    Alert.objects.filter(source=source, kind=kind, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def source_poll(*, source_id: int) -> int:
    """Poll one source now; returns the number of new item versions landed."""
    source = Source.objects.filter(pk=source_id, active=True).first()
    if source is None:
        return 0
    now = timezone.now()
    Source.objects.filter(pk=source.pk).update(last_polled_at=now)
    try:
        status, data, headers = _fetch(source)
        entries = (
            []
            if status == 304
            else (parse_ninjs(data) if source.format == Source.Format.NINJS else parse_feed(data))
        )
    except IngestError as exc:
        Source.objects.filter(pk=source.pk).update(last_error=str(exc)[:2000])
        _alert(
            source,
            Alert.Kind.SOURCE_ERROR,
            _("Source “%(name)s” could not be read: %(error)s")
            % {"name": source.name, "error": str(exc)[:300]},
        )
        logger.warning("source %s poll failed: %s", source.pk, exc)
        return 0
    new = 0
    for incoming in entries:
        if incoming_land(source=source, incoming=incoming) is not None:
            new += 1
    updates = {"last_success_at": timezone.now(), "last_error": ""}
    if status == 200:
        updates["etag"] = headers.get("ETag", "")[:255]
        updates["last_modified"] = headers.get("Last-Modified", "")[:64]
    if new:
        updates["last_new_item_at"] = timezone.now()
        _resolve(source, Alert.Kind.SOURCE_QUIET)
    Source.objects.filter(pk=source.pk).update(**updates)
    _resolve(source, Alert.Kind.SOURCE_ERROR)
    return new


def source_ids_due() -> list[int]:
    now = timezone.now()
    return [
        s.pk
        for s in Source.objects.filter(active=True)
        if s.last_polled_at is None
        or s.last_polled_at <= now - timedelta(minutes=s.poll_interval_minutes)
    ]


def sources_check_quiet() -> int:
    """Raise an alert for each active source without a new item for longer than expected."""
    now = timezone.now()
    raised = 0
    for source in Source.objects.filter(active=True):
        since = source.last_new_item_at or source.created_at
        if now - since > timedelta(minutes=source.expected_interval_minutes):
            _alert(
                source,
                Alert.Kind.SOURCE_QUIET,
                _("Source “%(name)s” has sent nothing new since %(since)s.")
                % {
                    "name": source.name,
                    "since": timezone.localtime(since).strftime("%d/%m/%Y %H:%M"),
                },
            )
            raised += 1
    return raised
