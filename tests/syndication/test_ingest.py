"""Upstream ingest from a local HTTP server: RSS, Atom and ninjs sources land as drafts of
the receiving unit, deduped by guid + version; quiet or broken sources raise alerts."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from newsroom.models import Category, NewsItem
from syndication.ingest import source_poll, sources_check_quiet
from syndication.models import Alert, IngestedItem, Source
from syndication.tasks import sources_poll_due

pytestmark = pytest.mark.django_db


class Upstream:
    """Serves ``documents[path] = (bytes, content type)`` with an ETag; counts 304s."""

    def __init__(self):
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.status: dict[str, int] = {}
        self.not_modified = 0
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path in upstream.status:
                    self.send_response(upstream.status[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, ctype = upstream.documents[self.path]
                etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    upstream.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream():
    u = Upstream()
    yield u
    u.close()


def rss(*entries):
    items = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><description>{desc}</description>"
        f"<pubDate>{date}</pubDate><category>{cat}</category></item>"
        for guid, title, desc, date, cat in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>TW</title>'
        f"<link>http://tw.example.vn/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def make_source(upstream, units, path, fmt, **fields):
    return Source.objects.create(
        name=f"Nguồn {fmt}", url=upstream.url(path), format=fmt, unit=units["P"], **fields
    )


def test_rss_items_land_as_drafts_once_per_version(units, upstream):
    health = Category.objects.create(name="Y tế thử", slug="y-te-thu")
    date = "Mon, 03 Nov 2025 08:00:00 +0700"
    upstream.documents["/rss"] = (
        rss(
            ("tw-1", "Chỉ thị phòng chống lũ", "&lt;p&gt;Nội dung&lt;/p&gt;", date, "y-te-thu"),
            ("tw-2", "Thông báo tiêm chủng", "Tiêm &amp; phòng", date, "khac"),
        ),
        "application/rss+xml",
    )
    source = make_source(upstream, units, "/rss", "rss")

    assert source_poll(source_id=source.pk) == 2
    drafts = NewsItem.objects.order_by("headline")
    assert [d.headline for d in drafts] == ["Chỉ thị phòng chống lũ", "Thông báo tiêm chủng"]
    assert all(not d.live and d.unit == units["P"] for d in drafts)
    assert drafts[0].category == health and drafts[1].summary == "Tiêm & phòng"
    assert all(d.latest_revision is not None for d in drafts)  # editors see a revision

    # Polled again: nothing new (the server even answers 304).
    assert source_poll(source_id=source.pk) == 0
    assert upstream.not_modified == 1
    assert NewsItem.objects.count() == 2

    # A new version of tw-1 updates its draft; a new guid makes a new draft.
    upstream.documents["/rss"] = (
        rss(
            ("tw-1", "Chỉ thị phòng chống lũ (sửa)", "Mới", "Tue, 04 Nov 2025 08:00:00 +0700", ""),
            ("tw-2", "Thông báo tiêm chủng", "Tiêm &amp; phòng", date, "khac"),
            ("tw-3", "Tin thứ ba", "Ba", date, ""),
        ),
        "application/rss+xml",
    )
    assert source_poll(source_id=source.pk) == 2
    assert NewsItem.objects.count() == 3
    assert NewsItem.objects.filter(headline="Chỉ thị phòng chống lũ (sửa)").exists()
    assert IngestedItem.objects.filter(guid="tw-1").count() == 2
    source.refresh_from_db()
    assert source.last_new_item_at and source.last_error == ""


def test_atom_and_ninjs_sources(units, upstream):
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Tỉnh bạn</title><id>urn:x</id><updated>2025-11-03T08:00:00Z</updated>"
        "<entry><id>urn:tinh-ban:1</id><title>Tin tỉnh bạn</title>"
        "<updated>2025-11-03T08:00:00Z</updated><summary>Tóm tắt</summary>"
        '<content type="html">&lt;p&gt;Thân bài&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;'
        "</content><author><name>Phóng viên B</name></author></entry></feed>"
    ).encode()
    upstream.documents["/atom"] = (atom, "application/atom+xml")
    ninjs = {
        "items": [
            {
                "uri": "urn:tw:42",
                "version": "3",
                "headlines": [{"value": "Tin trung ương"}],
                "bodies": [{"contenttype": "text/html", "value": "<p>Nội dung</p>"}],
                "descriptions": [{"value": "Mô tả"}],
                "by": "TTXVN",
            },
            {
                "uri": "urn:tw:43",
                "version": "1",
                "pubstatus": "canceled",
                "headlines": [{"value": "Tin đã hủy"}],
            },
            {"uri": "urn:tw:44"},  # no headline: skipped
        ]
    }
    upstream.documents["/ninjs"] = (json.dumps(ninjs).encode(), "application/json")

    atom_source = make_source(upstream, units, "/atom", "atom")
    ninjs_source = make_source(upstream, units, "/ninjs", "ninjs")
    assert source_poll(source_id=atom_source.pk) == 1
    assert source_poll(source_id=ninjs_source.pk) == 2

    from_atom = NewsItem.objects.get(headline="Tin tỉnh bạn")
    assert "Thân bài" in from_atom.body and "script" not in from_atom.body  # cleaned
    assert from_atom.byline == "Phóng viên B" and from_atom.summary == "Tóm tắt"
    from_ninjs = NewsItem.objects.get(headline="Tin trung ương")
    assert from_ninjs.byline == "TTXVN" and from_ninjs.summary == "Mô tả"
    assert not NewsItem.objects.filter(headline="Tin đã hủy").exists()  # a cancel, no draft
    assert IngestedItem.objects.get(guid="urn:tw:42").version == "3"


def test_a_broken_source_raises_an_alert_that_success_closes(units, upstream, settings):
    upstream.status["/rss"] = 500
    source = make_source(upstream, units, "/rss", "rss")
    assert source_poll(source_id=source.pk) == 0
    (alert,) = Alert.objects.filter(kind=Alert.Kind.SOURCE_ERROR, resolved_at__isnull=True)
    assert "HTTP 500" in alert.message
    source_poll(source_id=source.pk)  # still broken: still one alert
    assert Alert.objects.filter(kind=Alert.Kind.SOURCE_ERROR).count() == 1

    del upstream.status["/rss"]
    upstream.documents["/rss"] = (b"<html>not a feed", "text/html")
    source_poll(source_id=source.pk)
    assert "not a feed" in Source.objects.get().last_error

    settings.SYNDICATION_INGEST_MAX_BYTES = 1000
    upstream.documents["/rss"] = (
        rss(*[(f"g{i}", "T", "x" * 100, "", "") for i in range(50)]),
        "application/rss+xml",
    )
    source_poll(source_id=source.pk)
    assert "larger than 1000 bytes" in Source.objects.get().last_error

    settings.SYNDICATION_INGEST_MAX_BYTES = 10_000_000
    source_poll(source_id=source.pk)
    assert not Alert.objects.filter(kind=Alert.Kind.SOURCE_ERROR, resolved_at__isnull=True)


def test_a_quiet_source_raises_an_alert(units, upstream):
    upstream.documents["/rss"] = (rss(), "application/rss+xml")
    source = make_source(upstream, units, "/rss", "rss", expected_interval_minutes=60)
    assert sources_check_quiet() == 0
    Source.objects.filter(pk=source.pk).update(created_at=timezone.now() - timedelta(hours=2))
    sources_check_quiet()
    sources_check_quiet()
    (alert,) = Alert.objects.filter(kind=Alert.Kind.SOURCE_QUIET, resolved_at__isnull=True)
    assert source.name in alert.message

    upstream.documents["/rss"] = (rss(("n1", "Tin mới", "x", "", "")), "application/rss+xml")
    assert source_poll(source_id=source.pk) == 1
    assert not Alert.objects.filter(kind=Alert.Kind.SOURCE_QUIET, resolved_at__isnull=True)


def test_beat_polls_only_due_sources(units, upstream):
    upstream.documents["/rss"] = (rss(("a", "Tin A", "x", "", "")), "application/rss+xml")
    due = make_source(upstream, units, "/rss", "rss", poll_interval_minutes=5)
    make_source(upstream, units, "/rss", "rss", poll_interval_minutes=5, active=False)
    assert sources_poll_due() == 1  # eager here: polls at once
    assert IngestedItem.objects.filter(source=due).count() == 1
    assert sources_poll_due() == 0  # polled a moment ago


def test_admin_lists_received_items(units, upstream):
    from django.test import Client

    from tests.factories import make_user

    upstream.documents["/rss"] = (rss(("a", "Tin nhận về", "x", "", "")), "application/rss+xml")
    source = make_source(upstream, units, "/rss", "rss")
    source_poll(source_id=source.pk)
    client = Client()
    client.force_login(make_user("quantri", is_superuser=True, is_staff=True))
    page = client.get("/admin/phan-phoi/tin-nhan-ve/").content.decode()
    assert "Tin nhận về" in page
    assert client.get("/admin/syndication_sources/").status_code == 200
